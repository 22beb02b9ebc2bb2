using System.Reflection;

namespace DataPrep.Tests.Testing;

/// <summary>Every FsCheck property of the suite runs through the one <see cref="PropertyAttribute"/> (soak scale, replay seed).</summary>
public class PropertyConfigTests
{
    [Fact]
    public void Every_property_uses_the_suites_attribute()
    {
        var properties = typeof(PropertyConfigTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<FsCheck.Xunit.PropertyAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToList();
        Assert.True(properties.Count >= 90, $"only {properties.Count} properties found");
        var other = properties.Where(x => x.Attribute is not PropertyAttribute).Select(x => $"{x.Method.DeclaringType!.Name}.{x.Method.Name}").ToList();
        Assert.True(other.Count == 0, "properties that bypass DataPrep.Tests.PropertyAttribute: " + string.Join(", ", other));
    }

    [Fact]
    public void The_test_count_is_scaled_and_reads_back_unscaled()
    {
        var given = new PropertyAttribute { MaxTest = 300 };
        Assert.Equal(300, given.MaxTest);
        Assert.Equal(300 * PropertyAttribute.Scale, ((FsCheck.Xunit.PropertyAttribute)given).MaxTest);
        Assert.Equal(PropertyAttribute.DefaultMaxTest * PropertyAttribute.Scale, ((FsCheck.Xunit.PropertyAttribute)new PropertyAttribute()).MaxTest);
    }
}

using System.Globalization;

namespace DataPrep.Tests;

/// <summary>
/// The <c>[Property]</c> of every FsCheck property in this suite: code in <c>DataPrep.Tests.*</c> finds it before
/// FsCheck.Xunit's (a namespace's own types win over imported ones), so no test names it. One place for how
/// properties run:
/// <list type="bullet">
/// <item>the test count times <c>DATAPREP_PROPERTY_SCALE</c> (default 1; <c>tools/soak.sh</c> sets 20);</item>
/// <item>a fresh random seed each run, printed by FsCheck when a property fails ("Falsifiable, after N tests (…)
/// (Rnd (SEED, GAMMA))", with the last step's seed and size);</item>
/// <item><c>DATAPREP_PROPERTY_REPLAY="SEED,GAMMA"</c> (or <c>"SEED,GAMMA,SIZE"</c>) replays that seed.</item>
/// </list>
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    /// <summary>FsCheck's own default test count.</summary>
    public const int DefaultMaxTest = 100;

    public PropertyAttribute()
    {
        base.MaxTest = DefaultMaxTest * Scale;
        if (Environment.GetEnvironmentVariable("DATAPREP_PROPERTY_REPLAY") is { Length: > 0 } replay) base.Replay = replay;
    }

    /// <summary>The test count of this property before scaling (<see cref="DefaultMaxTest"/> unless given).</summary>
    public new int MaxTest
    {
        get => base.MaxTest / Scale;
        set => base.MaxTest = checked(value * Scale);
    }

    /// <summary>The multiplier of every property's test count, from <c>DATAPREP_PROPERTY_SCALE</c> (a positive whole number).</summary>
    public static int Scale { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("DATAPREP_PROPERTY_SCALE"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s > 0 ? s : 1;
}

using System.Collections;
using System.Reflection;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// run.json is written by the source generator's fast path (no property metadata); its bytes must be those of
/// the metadata-based serialiser it replaced, for records with every property set (random values, every enum
/// member, nulls, empty and filled collections), and <see cref="RunRecord.Load(string)"/> must read them back.
/// </summary>
public class RunRecordJsonTests
{
    /// <summary>Fills an object graph by reflection: every constructor parameter and settable property gets a value.</summary>
    private sealed class Filler(Random random, bool nulls)
    {
        private static readonly string[] Texts = ["", "a", "train", "quote \" and \\ backslash", "line\nbreak\ttab", "é ü ß 日本 🙂", "<script>&'", "\u0001\u001f", "12.5", "null"];

        public object? Make(Type type, int depth)
        {
            var underlying = Nullable.GetUnderlyingType(type);
            if (underlying is not null)
            {
                if (nulls && random.Next(4) == 0) return null;
                type = underlying;
            }
            if (type == typeof(string)) return nulls && random.Next(5) == 0 ? null : Texts[random.Next(Texts.Length)];
            if (type == typeof(bool)) return random.Next(2) == 0;
            if (type == typeof(int)) return random.Next(4) switch { 0 => 0, 1 => int.MinValue, 2 => int.MaxValue, _ => random.Next(-1000, 1000) };
            if (type == typeof(long)) return random.Next(4) switch { 0 => 0L, 1 => long.MinValue, 2 => long.MaxValue, _ => random.NextInt64(-100_000, 100_000) };
            if (type == typeof(ulong)) return random.Next(3) switch { 0 => 0UL, 1 => ulong.MaxValue, _ => (ulong)random.NextInt64() };
            if (type == typeof(short)) return (short)random.Next(short.MinValue, short.MaxValue);
            if (type == typeof(byte)) return (byte)random.Next(256);
            if (type == typeof(float)) return random.Next(3) switch { 0 => 0f, 1 => float.MaxValue, _ => (float)(random.NextDouble() * 1000 - 500) };
            if (type == typeof(double)) return random.Next(5) switch { 0 => 0.0, 1 => -0.0, 2 => double.MaxValue, 3 => double.Epsilon, _ => random.NextDouble() * 1e6 - 5e5 };
            if (type == typeof(decimal)) return (decimal)random.Next();
            if (type == typeof(DateTime)) return new DateTime(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), (DateTimeKind)random.Next(3));
            if (type == typeof(DateTimeOffset)) return new DateTimeOffset(random.NextInt64(TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60 + 1)));
            if (type == typeof(TimeSpan)) return TimeSpan.FromTicks(random.NextInt64(-1_000_000_000_000, 1_000_000_000_000));
            if (type.IsEnum)
            {
                var values = Enum.GetValues(type);
                return values.GetValue(random.Next(values.Length));
            }
            if (type.IsArray)
            {
                var element = type.GetElementType()!;
                int n = depth > 4 ? 0 : random.Next(3);
                var array = Array.CreateInstance(element, n);
                for (int i = 0; i < n; i++) array.SetValue(Make(element, depth + 1), i);
                return array;
            }
            if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) || type.GetGenericTypeDefinition() == typeof(IList<>) || type.GetGenericTypeDefinition() == typeof(IEnumerable<>) || type.GetGenericTypeDefinition() == typeof(IReadOnlyCollection<>)))
            {
                type = typeof(List<>).MakeGenericType(type.GetGenericArguments());
            }
            if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) || type.GetGenericTypeDefinition() == typeof(IDictionary<,>)))
            {
                type = typeof(Dictionary<,>).MakeGenericType(type.GetGenericArguments());
            }
            if (typeof(IDictionary).IsAssignableFrom(type))
            {
                var args = type.GetGenericArguments();
                var dict = (IDictionary)CreateCollection(type);
                int n = depth > 4 ? 0 : random.Next(4);
                for (int i = 0; i < n; i++)
                {
                    var key = args[0] == typeof(string) ? $"k{random.Next(100)}{Texts[random.Next(Texts.Length)]}" : Make(args[0], depth + 1);
                    if (key is not null) dict[key] = Make(args[1], depth + 1);
                }
                return dict;
            }
            if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(IReadOnlySet<>) || type.GetGenericTypeDefinition() == typeof(ISet<>)))
            {
                type = typeof(HashSet<>).MakeGenericType(type.GetGenericArguments());
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() is var set && (set == typeof(HashSet<>) || set == typeof(SortedSet<>)))
            {
                var collection = CreateCollection(type);
                var add = type.GetMethod("Add")!;
                int n = depth > 4 ? 0 : random.Next(4);
                for (int i = 0; i < n; i++) add.Invoke(collection, [Make(type.GetGenericArguments()[0], depth + 1)]);
                return collection;
            }
            if (typeof(IList).IsAssignableFrom(type) && type.IsGenericType)
            {
                var list = (IList)CreateCollection(type);
                int n = depth > 4 ? 0 : random.Next(4);
                for (int i = 0; i < n; i++) list.Add(Make(type.GetGenericArguments()[0], depth + 1));
                return list;
            }
            if (type.IsClass || type.IsValueType)
            {
                if (nulls && !type.IsValueType && depth > 0 && random.Next(6) == 0) return null;
                if (depth > 6) return null;
                return Build(type, depth);
            }
            throw new NotSupportedException(type.FullName);
        }

        private object CreateCollection(Type type)
        {
            // The record's sorted dictionaries use ordinal comparers; keep that (the key order is part of the bytes).
            var ordinal = type.GetConstructor([typeof(IComparer<string>)]);
            if (ordinal is not null) return ordinal.Invoke([StringComparer.Ordinal]);
            return Activator.CreateInstance(type)!;
        }

        private object Build(Type type, int depth)
        {
            var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
            object instance = ctor is null ? Activator.CreateInstance(type)! : ctor.Invoke(ctor.GetParameters().Select(p => Make(p.ParameterType, depth + 1)).ToArray());
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                // Properties the serialiser ignores (run-time services such as SourceOptions.Files) are not part of the bytes.
                if (p.SetMethod is not { IsPublic: true } || p.GetIndexParameters().Length > 0 || p.IsDefined(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute))) continue;
                p.SetValue(instance, Make(p.PropertyType, depth + 1));
            }
            return instance;
        }
    }

    private static RunRecord Record(int seed, bool nulls)
    {
        var record = (RunRecord)new Filler(new Random(seed), nulls).Make(typeof(RunRecord), 0)!;
        // Load needs these two; the rest may be anything.
        record.Options ??= new ConvertOptions();
        record.Encoding ??= (DataPrep.Pipeline.EncodingRecord)new Filler(new Random(seed), false).Make(typeof(DataPrep.Pipeline.EncodingRecord), 1)!;
        return record;
    }

    [Property(MaxTest = 200)]
    public Property Fast_path_bytes_equal_the_metadata_serialiser(int seed, bool nulls)
    {
        var record = Record(seed, nulls);
        var fast = record.ToJson();
        var reference = record.ToJsonByMetadata();
        return fast.AsSpan().SequenceEqual(reference).Label($"seed {seed}, nulls {nulls}");
    }

    [Fact]
    public void A_default_record_writes_the_same_bytes()
    {
        var record = new RunRecord();
        Assert.Equal(record.ToJsonByMetadata(), record.ToJson());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Load_reads_the_written_record(int seed)
    {
        // Every property set: a null one would be left out and read back as its default, which is fine but not equal.
        using var tmp = new TempDir();
        var record = Record(seed, nulls: false);
        var path = tmp.Combine("run.json");
        File.WriteAllBytes(path, record.ToJson());
        var loaded = RunRecord.Load(path);
        Assert.Equal(record.ToJson(), loaded.ToJson());
    }
}

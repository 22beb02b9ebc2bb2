using System.Text;
using DataPrep.Fluent;
using DataPrep.Output;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Output;

/// <summary>
/// <see cref="ShardRule"/>: for random record sizes and options the shard numbers start at 0, never decrease and skip
/// none; each mode keeps its promise (size: ⌈bytes / M⌉ shards, cumulative and per-shard bounds; rows: full shards of R;
/// count: exactly min(n, records), balanced); and any division of the records into consecutive segments, each knowing
/// only its global index and offsets, numbers them as one pass does. Plus the sink cutting where the rule says.
/// </summary>
public sealed class ShardRuleTests
{
    /// <summary>A split's record sizes, the options, and the points where it is divided among writers.</summary>
    public sealed record Case(int[] Sizes, ShardOptions Options, int[] Cuts)
    {
        public long Total => Sizes.Sum(s => (long)s);

        public int Largest => Sizes.Length == 0 ? 0 : Sizes.Max();

        public override string ToString()
            => $"sizes=[{string.Join(",", Sizes)}] options={Options} cuts=[{string.Join(",", Cuts)}]";
    }

    private static Gen<int[]> Sizes() => Gen.Frequency(
        (5, from n in Gen.Choose(1, 200) from s in Gen.ArrayOf(Gen.Choose(1, 60), n) select s),
        (2, from n in Gen.Choose(1, 100) from w in Gen.Choose(1, 40) select Enumerable.Repeat(w, n).ToArray()),
        (2, from n in Gen.Choose(1, 80) from s in Gen.ArrayOf(Gen.Frequency((9, Gen.Choose(1, 5)), (1, Gen.Choose(50, 400))), n) select s),
        (1, from n in Gen.Choose(1, 60) from s in Gen.ArrayOf(Gen.Choose(0, 3), n) select s),
        (1, from w in Gen.Choose(0, 500) select new[] { w }));

    /// <summary>Size limits at least the largest record (a larger one is refused: see its own test).</summary>
    private static Gen<ShardOptions> SizeOptions(int[] sizes) =>
        from extra in Gen.Frequency((3, Gen.Choose(0, 20)), (3, Gen.Choose(0, 300)), (1, Gen.Choose(0, 5000)))
        select new ShardOptions(MaxBytes: Math.Max(1, sizes.Max()) + extra);

    private static Gen<ShardOptions> RowOptions() => from r in Gen.Choose(1, 60) select new ShardOptions(MaxRows: r);

    private static Gen<ShardOptions> CountOptions(int[] sizes) => Gen.OneOf(
        from n in Gen.Choose(1, 50) from m in Gen.Elements(0, 1, 2, 3, 4) select new ShardOptions(Count: n, Multiple: m),
        from m in Gen.Choose(2, 8) from bytes in Gen.Choose(Math.Max(1, sizes.Max()), 3000) select new ShardOptions(MaxBytes: bytes, Multiple: m),
        from m in Gen.Choose(2, 8) from rows in Gen.Choose(1, 60) select new ShardOptions(MaxRows: rows, Multiple: m),
        from m in Gen.Choose(2, 8) select new ShardOptions(Multiple: m));

    private static Gen<int[]> Cuts(int records) =>
        from k in Gen.Choose(0, Math.Min(8, Math.Max(0, records - 1)))
        from points in Gen.ArrayOf(Gen.Choose(1, Math.Max(1, records - 1)), k)
        select points.Where(p => p < records).Distinct().Order().ToArray();

    private static Gen<Case> Cases(Func<int[], Gen<ShardOptions>> options) =>
        from sizes in Sizes()
        from o in options(sizes)
        from cuts in Cuts(sizes.Length)
        select new Case(sizes, o, cuts);

    private static Gen<Case> AnyCase() => Gen.OneOf(Cases(SizeOptions), Cases(_ => RowOptions()), Cases(CountOptions));

    /// <summary>The rule of the case's split, built as a writer builds it: from the options and (count modes) the totals.</summary>
    private static ShardRule Rule(Case c)
        => ShardRule.NeedsTotals(c.Options) ? ShardRule.For(c.Options, "train", c.Sizes.Length, c.Total, c.Largest) : ShardRule.For(c.Options, "train");

    /// <summary>Every record's shard in one pass over the split.</summary>
    private static int[] OnePass(Case c)
    {
        var rule = Rule(c);
        var shards = new int[c.Sizes.Length];
        long offset = 0;
        for (int i = 0; i < shards.Length; i++)
        {
            shards[i] = rule.ShardOf(i, offset, offset + c.Sizes[i]);
            offset += c.Sizes[i];
        }
        return shards;
    }

    /// <summary>The records' sizes per shard, in order.</summary>
    private static List<List<int>> Shards(Case c, int[] numbers)
    {
        var shards = new List<List<int>>();
        for (int i = 0; i < numbers.Length; i++)
        {
            if (numbers[i] == shards.Count) shards.Add([]);
            shards[^1].Add(c.Sizes[i]);
        }
        return shards;
    }

    private static bool NoGaps(int[] numbers)
        => numbers.Length == 0 || (numbers[0] == 0 && numbers.Zip(numbers.Skip(1)).All(p => p.Second == p.First || p.Second == p.First + 1));

    [Property(MaxTest = 500)]
    public Property Numbers_start_at_zero_never_decrease_and_skip_none()
        => Prop.ForAll(AnyCase().ToArbitrary(), c => NoGaps(OnePass(c)).Label(c.ToString()));

    [Property(MaxTest = 500)]
    public Property Writers_of_consecutive_segments_number_records_as_one_pass_does()
        => Prop.ForAll(AnyCase().ToArbitrary(), c =>
        {
            var expected = OnePass(c);
            // Each writer knows its records' global index and offsets (and, in count modes, the split's totals) only,
            // and builds its own rule.
            var pieces = new List<int>();
            int[] bounds = [0, .. c.Cuts, c.Sizes.Length];
            for (int w = 0; w + 1 < bounds.Length; w++)
            {
                int first = bounds[w];
                long offset = c.Sizes.Take(first).Sum(s => (long)s);
                var rule = Rule(c);
                for (int i = first; i < bounds[w + 1]; i++)
                {
                    pieces.Add(rule.ShardOf(i, offset, offset + c.Sizes[i]));
                    offset += c.Sizes[i];
                }
            }
            return expected.SequenceEqual(pieces).Label(c.ToString());
        });

    [Property(MaxTest = 500)]
    public Property Size_mode_makes_the_fewest_shards_the_size_allows_and_bounds_them()
        => Prop.ForAll(Cases(SizeOptions).ToArbitrary(), c =>
        {
            long m = c.Options.MaxBytes!.Value;
            var shards = Shards(c, OnePass(c));
            long fewest = Math.Max(1, (c.Total + m - 1) / m);
            long sofar = 0;
            bool bounded = true;
            for (int k = 0; k < shards.Count; k++)
            {
                long bytes = shards[k].Sum(s => (long)s);
                sofar += bytes;
                // Shards 0…k together at most (k+1)·M; one shard at most M plus its first record less a byte.
                bounded &= sofar <= (k + 1) * m && bytes <= (k == 0 ? m : m + shards[k][0] - 1);
            }
            return (shards.Count == fewest && bounded).Label($"{c} → {string.Join(" | ", shards.Select(s => s.Sum()))}");
        });

    [Property(MaxTest = 300)]
    public Property Rows_mode_fills_every_shard_but_the_last()
        => Prop.ForAll(Cases(_ => RowOptions()).ToArbitrary(), c =>
        {
            var shards = Shards(c, OnePass(c));
            long r = c.Options.MaxRows;
            return (shards.SkipLast(1).All(s => s.Count == r) && shards[^1].Count is > 0 && shards[^1].Count <= r).Label(c.ToString());
        });

    [Property(MaxTest = 500)]
    public Property Count_mode_makes_exactly_min_n_records_shards_balanced_by_bytes_or_records()
        => Prop.ForAll(Cases(CountOptions).ToArbitrary(), c =>
        {
            var o = c.Options;
            int records = c.Sizes.Length;
            long limitBytes = o.EffectiveMaxBytes;
            long n = o.Count > 0 ? o.Count : Math.Max(Math.Max(1, (c.Total + limitBytes - 1) / limitBytes), o.MaxRows > 0 ? (records + o.MaxRows - 1) / o.MaxRows : 1);
            long multiple = Math.Max(1, o.Multiple);
            n = Math.Min(records, (n + multiple - 1) / multiple * multiple);
            var shards = Shards(c, OnePass(c));
            bool byBytes = c.Total > 0 && (long)c.Largest * n <= c.Total;
            // By bytes: within a record of total/n each; by records: within one record of each other.
            bool balanced = byBytes
                ? shards.All(s => Math.Abs(s.Sum(x => (long)x) * n - c.Total) < Math.Max(1, c.Largest) * n)
                : shards.Max(s => s.Count) - shards.Min(s => s.Count) <= 1;
            return (shards.Count == n && balanced).Label($"{c} n={n} byBytes={byBytes} → {string.Join(" | ", shards.Select(s => $"{s.Count}:{s.Sum()}"))}");
        });

    [Fact]
    public void A_shard_may_pass_the_size_by_less_than_its_first_record()
    {
        // M = 100, records of 60 bytes: ends 60, 120, 180, 240, 300 → shards {0}, {1, 2}, {3, 4}. Shard 1 holds bytes
        // [60, 180): 120 > M, made of records that end in (100, 200]. A pure rule cannot do better without skipping
        // numbers or making more shards than ⌈300 / 100⌉ = 3 (see docs/decisions.md, issue 16).
        var c = new Case([60, 60, 60, 60, 60], new ShardOptions(MaxBytes: 100), []);
        Assert.Equal([0, 1, 1, 2, 2], OnePass(c));
    }

    [Fact]
    public void Size_mode_refuses_a_record_larger_than_the_shard_size_naming_split_record_and_size()
    {
        var rule = ShardRule.For(new ShardOptions(MaxBytes: 1000), "validation");
        Assert.Equal(0, rule.ShardOf(0, 0, 1000));
        var e = Assert.Throws<PipelineValidationException>(() => rule.ShardOf(12_345, 5_000_000, 5_000_000 + (3L << 20) + 1));
        Assert.Contains("Split 'validation'", e.Message);
        Assert.Contains("record 12,345", e.Message);
        Assert.Contains("3,145,729 bytes", e.Message);
        Assert.Contains("--shard-size (1,000 bytes)", e.Message);
        Assert.Contains("--shard-size 4MB or more", e.Message);
    }

    [Fact]
    public void Rows_replace_the_size_limit()
    {
        var rows = new ShardOptions(MaxRows: 2);
        Assert.Equal(long.MaxValue, rows.EffectiveMaxBytes);
        Assert.Equal(ShardOptions.DefaultMaxBytes, new ShardOptions().EffectiveMaxBytes);
        var rule = ShardRule.For(rows, "train");
        // Records of 100 MiB, past the 64 MiB default, are fine: only the rows count.
        Assert.Equal([0, 0, 1], Enumerable.Range(0, 3).Select(i => rule.ShardOf(i, i * (100L << 20), (i + 1) * (100L << 20))));
    }

    [Fact]
    public void Both_a_size_and_a_row_limit_are_refused_by_the_options_and_the_fluent_builder()
    {
        var both = new ShardOptions(MaxBytes: 1 << 20, MaxRows: 10);
        var options = new ConvertOptions { Inputs = ["in.csv"], Output = "out", Label = "y", Shards = both };
        var e = Assert.Throws<PipelineValidationException>(() => options.Validate());
        Assert.Contains("--shard-rows and --shard-size were both given; choose one", e.Message);
        Assert.Throws<ArgumentException>(() => ShardRule.For(both, "train"));
        var fluent = Assert.Throws<PipelineValidationException>(() => DataPrepPipeline.Read(Paths.SampleData("churn.csv")).Label("churn").WriteCsv("out", shards: both).Build());
        Assert.Contains("--shard-rows and --shard-size were both given; choose one", fluent.Message);
    }

    [Fact]
    public void Count_mode_checks_that_a_record_lies_in_the_split()
    {
        var rule = ShardRule.For(new ShardOptions(Count: 2), "train", totalRecords: 4, totalBytes: 40, maxRecordBytes: 10);
        Assert.Equal(1, rule.ShardOf(3, 30, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.ShardOf(4, 40, 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.ShardOf(2, 35, 45));
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.ShardOf(1, 20, 10));
    }

    [Fact]
    public void Count_mode_goes_by_records_when_a_record_is_larger_than_a_share_of_the_bytes()
    {
        // 3 shards of 1 + 1 + 100 bytes: by bytes record 2 would start in share 0 (2 · 3 / 102), leaving shards 1 and 2
        // without records; by records each gets one.
        int[] sizes = [1, 1, 100];
        var c = new Case(sizes, new ShardOptions(Count: 3), []);
        Assert.Equal([0, 1, 2], OnePass(c));
        Assert.Equal([0, 0, 1, 1], OnePass(new Case([10, 10, 10, 10], new ShardOptions(Count: 2), [])));
    }

    [Theory]
    [InlineData("--shard-size", "3KB")]
    [InlineData("--shard-rows", "170")]
    [InlineData("--shards", "3")]
    [InlineData("--instances", "4")]
    public void The_sink_cuts_where_the_rule_says(string option, string value)
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label", "churn", "--drop", "customer_id",
            "--encode", "plan=onehot,region=ordinal", "--quiet", option, value);
        Assert.True(r.Code == 0, r.Err);
        var options = option switch
        {
            "--shard-size" => new ShardOptions(MaxBytes: MemoryOptions.ParseSize(value)),
            "--shard-rows" => new ShardOptions(MaxRows: long.Parse(value, System.Globalization.CultureInfo.InvariantCulture)),
            "--shards" => new ShardOptions(Count: int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)),
            _ => new ShardOptions(Multiple: int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)),
        };
        foreach (var split in new[] { "train", "validation", "test" })
        {
            // Each shard's lines (a CSV record is its line with the newline), in shard order.
            var files = Directory.GetFiles(Path.Combine(outDir, split)).Order(StringComparer.Ordinal).ToArray();
            var lines = files.Select((f, k) => File.ReadAllText(f).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (Shard: k, Bytes: Encoding.UTF8.GetByteCount(l) + 1)).ToList()).SelectMany(x => x).ToList();
            var c = new Case([.. lines.Select(l => l.Bytes)], options, []);
            Assert.Equal(lines.Select(l => l.Shard), OnePass(c));
            Assert.True(files.Length > 1, $"{split}: {files.Length} shard(s)");
            // The lineage gives each row the shard and record (in the shard) the rule gives it.
            var lineage = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "lineage", split + ".csv")).Skip(1).Select(l => l.Split(',')).ToList();
            Assert.Equal(lines.Select(l => l.Shard), lineage.Select(f => int.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture)));
            var records = lines.GroupBy(l => l.Shard).SelectMany(g => Enumerable.Range(0, g.Count())).ToList();
            Assert.Equal(records, lineage.Select(f => int.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture)));
        }
    }
}

using DataPrep.Data;
using DataPrep.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Testing;

/// <summary>The generators make the shapes they promise, and datasets turn into DataPrep input faithfully.</summary>
public class DatasetGenTests
{
    private static Property ForAll(DatasetShape shape, Func<GeneratedDataset, bool> holds)
        => Prop.ForAll(DatasetGen.Of(shape).ToArbitrary(), ds => holds(ds).Label(ds.ToString()));

    [Property(MaxTest = 200)]
    public Property Empty_has_no_rows() => ForAll(DatasetShape.Empty, ds => ds.Count == 0 && ds.Shape == DatasetShape.Empty);

    [Property(MaxTest = 200)]
    public Property Fewer_rows_than_splits() => ForAll(DatasetShape.FewerRowsThanSplits, ds => ds.Count < DatasetGenOptions.Default.Splits);

    [Property(MaxTest = 200)]
    public Property Single_group() => ForAll(DatasetShape.SingleGroup, ds => ds.Count >= 1 && ds.Groups.Distinct().Count() == 1);

    [Property(MaxTest = 200)]
    public Property Dominant_group_holds_about_90_percent_of_the_rows()
        => ForAll(DatasetShape.DominantGroup, ds =>
        {
            var sizes = ds.GroupSizes();
            int n = ds.Count, big = sizes[0].Rows;
            return n >= 10 && sizes.Count >= 2 && big >= 0.85 * n - 0.5 && big <= 0.95 * n + 0.5 && big <= n - 1;
        });

    [Property(MaxTest = 200)]
    public Property Equal_timestamps() => ForAll(DatasetShape.EqualTimestamps, ds => ds.Count >= 2 && ds.Times.Distinct().Count() == 1);

    [Property(MaxTest = 200)]
    public Property Duplicate_rows_repeat_content_under_new_ids()
        => ForAll(DatasetShape.DuplicateRows, ds => ds.Rows.Select(r => r.ContentKey).Distinct().Count() < ds.Count && ds.Ids.Distinct().Count() == ds.Count);

    [Property(MaxTest = 200)]
    public Property Singleton_groups() => ForAll(DatasetShape.SingletonGroups, ds => ds.Count >= 1 && ds.Groups.Distinct().Count() == ds.Count);

    [Property(MaxTest = 300)]
    public Property Every_dataset_respects_the_options()
    {
        var o = DatasetGenOptions.Default with { MaxRows = 40, MaxFeatures = 5, Labels = ["yes", "no"], MaxSources = 2, Span = TimeSpan.FromHours(1) };
        return Prop.ForAll(DatasetGen.Any(o).ToArbitrary(), ds =>
            (ds.Count <= o.MaxRows
             && ds.FeatureCount <= o.MaxFeatures
             && ds.Labels.All(l => o.Labels.Contains(l))
             && ds.Times.All(t => t >= o.Start && t <= o.Start + o.Span && t.Kind == DateTimeKind.Utc)
             // ids are DataPrep row ids: source < MaxSources, rows numbered from 1 per source in input order
             && ds.Ids.All(id => id >> 40 < o.MaxSources && (id & ((1L << 40) - 1)) >= 1)
             && ds.Ids.GroupBy(id => id >> 40).All(g => g.SequenceEqual(g.Order())))
            .Label(ds.ToString()));
    }

    [Fact]
    public void Any_produces_every_shape_and_Nasty_never_the_ordinary_one()
    {
        var samples = Gen.Sample(DatasetGen.Any(), 1000, 50); // 1,000 samples of size 50
        Assert.Equal(1000, samples.Length);
        var any = samples.Select(d => d.Shape).ToHashSet();
        Assert.Equal(Enum.GetValues<DatasetShape>().ToHashSet(), any);
        var nasty = Gen.Sample(DatasetGen.Nasty(), 500, 50).Select(d => d.Shape).ToHashSet();
        Assert.Equal(Enum.GetValues<DatasetShape>().Where(s => s != DatasetShape.Ordinary).ToHashSet(), nasty);
    }

    [Fact]
    public void The_same_FsCheck_seed_gives_the_same_datasets()
    {
        var a = Gen.Sample(DatasetGen.Any(), 20, new Rnd(42, 7), 30).Select(d => d.ToCsv());
        var b = Gen.Sample(DatasetGen.Any(), 20, new Rnd(42, 7), 30).Select(d => d.ToCsv());
        Assert.Equal(a, b);
    }

    [Fact]
    public void Options_are_validated_all_at_once()
    {
        var ex = Assert.Throws<ArgumentException>(() => DatasetGen.Any(DatasetGenOptions.Default with { MaxRows = 5, Labels = [], Splits = 0 }));
        Assert.Contains("MaxRows is 5", ex.Message);
        Assert.Contains("Labels is empty", ex.Message);
        Assert.Contains("Splits is 0", ex.Message);
    }

    [Fact]
    public void Shrinking_reaches_a_minimal_counterexample()
    {
        // Greedy shrinking as FsCheck does it, for the "bug" "fails on 3 rows or more".
        var ds = Gen.Sample(DatasetGen.Of(DatasetShape.Ordinary), 50, new Rnd(1, 1), 100).First(d => d.Count >= 20 && d.FeatureCount > 0);
        bool Fails(GeneratedDataset d) => d.Count >= 3;
        for (var next = DatasetGen.Shrink(ds).FirstOrDefault(Fails); next is not null; next = DatasetGen.Shrink(ds).FirstOrDefault(Fails))
        {
            Assert.True(next.Count < ds.Count || next.FeatureCount < ds.FeatureCount);
            ds = next;
        }
        Assert.Equal(3, ds.Count);
        Assert.Equal(0, ds.FeatureCount);
    }

    [Fact]
    public void Constructor_refuses_bad_rows()
    {
        var t = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Contains("share the id 1", Assert.Throws<ArgumentException>(() => new GeneratedDataset(DatasetShape.Ordinary, 0, [new(1, "g", t, "a", []), new(1, "g", t, "a", [])])).Message);
        Assert.Contains("has 1 features, expected 0", Assert.Throws<ArgumentException>(() => new GeneratedDataset(DatasetShape.Ordinary, 0, [new(1, "g", t, "a", [1.0])])).Message);
        Assert.Contains("Local timestamp", Assert.Throws<ArgumentException>(() => new GeneratedDataset(DatasetShape.Ordinary, 0, [new(1, "g", t.ToLocalTime(), "a", [])])).Message);
    }

    // ---- conversion to DataPrep input -----------------------------------------------------------------

    private static GeneratedDataset Small()
    {
        var t = new DateTime(2024, 3, 1, 12, 0, 0, DateTimeKind.Utc);
        return new GeneratedDataset(DatasetShape.Ordinary, 2,
        [
            new(RowInfo.MakeRowId(0, 1), "spk1", t, "yes", [0.5, -1]),
            new(RowInfo.MakeRowId(1, 1), "spk,2", t.AddSeconds(1.5), "no", [2, 3.25]),
            new(RowInfo.MakeRowId(0, 2), "spk1", t.AddDays(1), "yes", [0, 0]),
        ]);
    }

    [Fact]
    public void A_dataset_becomes_a_record_batch_with_row_info_from_its_ids()
    {
        var ds = Small();
        var batch = ds.ToRecordBatch();
        Assert.Equal("id:Int64, group:String, timestamp:Timestamp, label:String, f0:Float64, f1:Float64", batch.Schema.ToString());
        Assert.Equal(3, batch.RowCount);
        Assert.Equal(ds.Ids, batch.Rows.RowIds);
        Assert.Equal([0, 1, 0], batch.Rows.Sources);
        Assert.Equal([1L, 1, 2], batch.Rows.SourceRows);
        Assert.Equal(ds.Ids, ((Int64Column)batch["id"]).Values);
        Assert.Equal("spk1|spk,2|spk1", string.Join("|", ((StringColumn)batch["group"]).Values));
        Assert.Equal(ds.Times.Select(t => t.Ticks), ((TimestampColumn)batch["timestamp"]).Values);
        Assert.Equal("yes|no|yes", string.Join("|", ((StringColumn)batch["label"]).Values));
        Assert.Equal([-1, 3.25, 0], ((Float64Column)batch["f1"]).Values);
    }

    [Fact]
    public void A_dataset_becomes_csv()
        => Assert.Equal(
            "id,group,timestamp,label,f0,f1\n"
            + "1,spk1,2024-03-01T12:00:00Z,yes,0.5,-1\n"
            + "1099511627777,\"spk,2\",2024-03-01T12:00:01.5Z,no,2,3.25\n"
            + "2,spk1,2024-03-02T12:00:00Z,yes,0,0\n",
            Small().ToCsv());

    [Property(MaxTest = 100)]
    public Property Csv_reads_back_to_the_same_rows()
        => Prop.ForAll(DatasetGen.Any().ToArbitrary(), ds =>
        {
            using var reader = CsvHelper.CsvReader.FromText(ds.ToCsv(), CsvHelper.CsvReaderOptions.Default with { Separator = ',', DetectSeparatorHint = false });
            var rows = new List<GeneratedRow>();
            while (reader.Read())
            {
                var features = Enumerable.Range(0, ds.FeatureCount).Select(f => double.Parse(reader.GetString(4 + f), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                rows.Add(new GeneratedRow(long.Parse(reader.GetString(0), System.Globalization.CultureInfo.InvariantCulture), reader.GetString(1),
                    DateTime.Parse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal), reader.GetString(3), features));
            }
            return (reader.Headers.Count == 4 + ds.FeatureCount && rows.SequenceEqual(ds.Rows)).Label(ds.ToString());
        });

    [Fact]
    public void An_empty_dataset_still_gives_a_schema_and_an_empty_split_input()
    {
        var ds = Gen.Sample(DatasetGen.Of(DatasetShape.Empty), 1, 10)[0];
        var batches = ds.ToRecordBatches(4);
        Assert.Single(batches);
        Assert.Equal(0, batches[0].RowCount);
        var input = ds.ToSplitInput();
        Assert.Equal(0, input.Count);
        Assert.Equal(ds.Schema, input.Schema);
    }

    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 200)]
    public Property Split_input_holds_every_row_in_order_whatever_the_batch_size(GeneratedDataset ds, PositiveInt batchRows)
    {
        int b = batchRows.Get % 7 + 1;
        var batches = ds.ToRecordBatches(b);
        var input = ds.ToSplitInput(b);
        var groups = (StringColumn)input.Column(input.Schema.IndexOf(GeneratedDataset.GroupColumn));
        var times = (TimestampColumn)input.Column(input.Schema.IndexOf(GeneratedDataset.TimeColumn));
        return (batches.Count == Math.Max(1, (ds.Count + b - 1) / b)
                && batches.All(x => x.RowCount <= b)
                && input.Count == ds.Count
                && input.RowIds.SequenceEqual(ds.Ids)
                && groups.Span.ToArray().SequenceEqual(ds.Groups)
                && times.Span.ToArray().SequenceEqual(ds.Times.Select(t => t.Ticks))
                && Enumerable.Range(0, ds.Count).All(i => input.Origin(i) == ((int)(ds.Ids[i] >> 40), ds.Ids[i] & ((1L << 40) - 1))))
            .Label(ds.ToString());
    }

    [Fact]
    public void ToString_summarises_the_dataset_and_lists_small_ones()
    {
        var text = Small().ToString();
        Assert.StartsWith("Ordinary: 3 rows, 2 groups (largest 'spk1' 2), 3 distinct timestamps, 2 features", text);
        Assert.Contains("#1099511627777 spk,2|2024-03-01T12:00:01.5Z|no|2|3.25", text);
    }
}

using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace DataPrep.Tests.Performance;

/// <summary>
/// The parallel output path (chunks formatted on the thread pool, lineage lines completed there and written by
/// their own task, a time split of time-ordered input emitted from the input batches without a gather, gzip fed
/// in fixed blocks) gives the same bytes with one thread or all, with any batch size and shard cuts.
/// </summary>
public class ParallelOutputTests
{
    /// <summary>Rows already in time order (one row a minute), so a time split's channels are runs of input rows.</summary>
    private static string WriteTimeOrdered(TempDir tmp, int rows)
    {
        var rng = new Random(11);
        var sb = new StringBuilder("ts,grp,x1,x2,y\n");
        var t0 = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < rows; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{t0.AddMinutes(i):yyyy-MM-ddTHH:mm:ss},g{rng.Next(40)},{rng.NextDouble() * 100 - 50},{rng.Next(-1000, 1000)},{rng.Next(3)}\n");
        }
        return tmp.File("input.csv", sb.ToString());
    }

    private static readonly string[][] Variants =
    [
        [],
        ["--threads", "1", "--batch-rows", "97"],
        ["--batch-rows", "1000"],
        ["--threads", "2", "--batch-rows", "4097"],
    ];

    [Theory]
    [InlineData("time", "--split time --time ts --drop grp --timestamps epoch --fractions 70/15/15")]
    [InlineData("time-gzip", "--split time --time ts --drop grp --timestamps epoch --fractions 70/15/15 --compress gzip --shard-size 100KB")]
    [InlineData("random-gzip", "--drop ts,grp --compress gzip --shard-rows 3001")]
    [InlineData("group-shards", "--split group --group grp --drop ts --encode grp=ordinal --shard-rows 1234")]
    public void Output_bytes_do_not_depend_on_threads_batch_size_or_chunking(string name, string job)
    {
        using var tmp = new TempDir();
        var input = WriteTimeOrdered(tmp, 20_000);
        Dictionary<string, string>? expected = null;
        for (int v = 0; v < Variants.Length; v++)
        {
            var outDir = tmp.Combine($"out-{v}");
            var r = CliRunner.Run(["convert", input, "--out", outDir, "--label", "y", "--quiet", .. job.Split(' '), .. Variants[v]]);
            Assert.True(r.Code == 0, $"{name}/variant {v}: {r.Err}");
            var files = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(f) is not ("run.json" or "channels.json") && !f.EndsWith(".manifest", StringComparison.Ordinal))
                .ToDictionary(f => Path.GetRelativePath(outDir, f).Replace('\\', '/'), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
            Assert.Contains(files.Keys, k => k.StartsWith("_dataprep/lineage/", StringComparison.Ordinal));
            if (job.Contains("gzip", StringComparison.Ordinal))
            {
                Assert.True(files.Keys.Count(k => k.EndsWith(".gz", StringComparison.Ordinal)) > 3, $"{name}: several .gz shards");
            }
            if (expected is null) { expected = files; continue; }
            Assert.Equal(expected.Keys.Order(), files.Keys.Order());
            foreach (var (path, sha) in expected) Assert.True(sha == files[path], $"{name}: {path} differs in variant {string.Join(' ', Variants[v])}");
        }
    }

    [Fact]
    public void Time_split_of_ordered_input_keeps_every_row_once_in_time_order_and_lineage_numbers_records_per_shard()
    {
        using var tmp = new TempDir();
        var input = WriteTimeOrdered(tmp, 5_000);
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--split", "time", "--time", "ts", "--drop", "grp", "--timestamps", "epoch",
            "--fractions", "80/0/20", "--shard-rows", "777", "--batch-rows", "300", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var lines = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "lineage", "train.csv"));
        Assert.Equal("row_id,source,source_row,shard,record,content_hash,time", lines[0]);
        Assert.Equal(4000, lines.Length - 1);
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            int k = i - 1;
            Assert.Equal((k + 1).ToString(CultureInfo.InvariantCulture), f[2]);              // input order = time order
            Assert.Equal((k / 777).ToString(CultureInfo.InvariantCulture), f[3]);            // shard
            Assert.Equal((k % 777).ToString(CultureInfo.InvariantCulture), f[4]);            // record within the shard
        }
        var test = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "lineage", "test.csv"));
        Assert.Equal("4001", test[1].Split(',')[2]);
        Assert.Equal(1000, test.Length - 1);
    }

    [Fact]
    public void Lineage_of_two_inputs_names_each_row_of_the_second_by_its_own_source_row()
    {
        // The lineage writer copies the row id's text when the source row equals it (one input); with a second
        // input the two differ and the source row must be written on its own.
        using var tmp = new TempDir();
        var first = WriteTimeOrdered(tmp, 700);
        var second = tmp.File("second.csv", File.ReadAllText(first));
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", first, second, "--out", outDir, "--label", "y", "--drop", "ts,grp", "--fractions", "100/0/0", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var lines = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "lineage", "train.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(1400, lines.Count);
        var bySource = lines.GroupBy(f => f[1]).ToDictionary(g => g.Key, g => g.Select(f => (Id: long.Parse(f[0], CultureInfo.InvariantCulture), Row: long.Parse(f[2], CultureInfo.InvariantCulture))).ToList());
        Assert.Equal(2, bySource.Count);
        // A CSV row's id is its record's 1-based byte position, with the source in the bits from 40 on: never its source row.
        var positions = RecordPositions(File.ReadAllBytes(first));
        Assert.All(bySource["0"], x => Assert.Equal(positions[(int)x.Row], x.Id));
        Assert.All(bySource["1"], x => Assert.Equal((1L << 40) | positions[(int)x.Row], x.Id));
        Assert.Equal(Enumerable.Range(1, 700).Select(i => (long)i), bySource["0"].Select(x => x.Row).Order());
        Assert.Equal(Enumerable.Range(1, 700).Select(i => (long)i), bySource["1"].Select(x => x.Row).Order());
    }

    /// <summary>The 1-based byte position of each line's first byte, by 0-based line (the header is line 0): no quoted line breaks.</summary>
    private static long[] RecordPositions(byte[] text)
    {
        var positions = new List<long> { 1 };
        for (int i = 0; i < text.Length - 1; i++) if (text[i] == (byte)'\n') positions.Add(i + 2);
        return [.. positions];
    }

    [Fact]
    public void Gzip_shards_hold_exactly_the_uncompressed_bytes()
    {
        using var tmp = new TempDir();
        var input = WriteTimeOrdered(tmp, 8_000);
        var plain = tmp.Combine("plain");
        var gz = tmp.Combine("gz");
        Assert.Equal(0, CliRunner.Run("convert", input, "--out", plain, "--label", "y", "--drop", "ts,grp", "--quiet").Code);
        Assert.Equal(0, CliRunner.Run("convert", input, "--out", gz, "--label", "y", "--drop", "ts,grp", "--compress", "gzip", "--quiet").Code);
        foreach (var split in new[] { "train", "validation", "test" })
        {
            var expected = File.ReadAllBytes(Path.Combine(plain, split, "part-00000.csv"));
            using var z = new GZipStream(File.OpenRead(Path.Combine(gz, split, "part-00000.csv.gz")), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            z.CopyTo(ms);
            Assert.Equal(expected, ms.ToArray());
        }
    }
}

using System.IO.Compression;
using System.Text;
using DataPrep.Data;
using DataPrep.Sources;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Sources;

public sealed class LibSvmSourceTests : IDisposable
{
    private const string Form = "expected lines of the form 'label index:value …'";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string content) => _dir.File(name, content);

    private string WriteGz(string name, string content)
    {
        string path = _dir.Combine(name);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(content));
        return path;
    }

    private static async Task<(Schema Schema, List<RecordBatch> Batches, LibSvmSource Source)> ReadAll(
        string path, LibSvmOptions? libsvm = null, SourceOptions? options = null, int sourceIndex = 0)
    {
        var source = new LibSvmSource(path, options ?? new SourceOptions(), libsvm);
        var schema = await source.OpenAsync();
        var batches = new List<RecordBatch>();
        await foreach (var b in source.ReadAsync(sourceIndex)) batches.Add(b);
        return (schema, batches, source);
    }

    private static async Task<RecordBatch> ReadOne(string path, LibSvmOptions? libsvm = null)
    {
        var (schema, batches, _) = await ReadAll(path, libsvm);
        return RecordBatch.Concat(batches, schema);
    }

    private static async Task<DataFormatException> Fails(string path, LibSvmOptions? libsvm = null)
        => await Assert.ThrowsAsync<DataFormatException>(() => ReadAll(path, libsvm));

    /// <summary>The rows of a sparse column as (0-based key, value) lists.</summary>
    private static (int Key, double Value)[][] Rows(Column column)
    {
        var s = Assert.IsType<SparseColumn>(column);
        return Enumerable.Range(0, s.Length)
            .Select(r => Enumerable.Range(s.RowOffsets[r], s.RowOffsets[r + 1] - s.RowOffsets[r]).Select(j => (s.Indices[j], s.Values[j])).ToArray())
            .ToArray();
    }

    private static void AssertLocated(DataFormatException e, string path, long line, long row, string? column)
    {
        Assert.Equal(path, e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(row, e.Row);
        Assert.Equal(column, e.Column);
        Assert.StartsWith(column is null ? $"{path}, line {line}, row {row}: " : $"{path}, line {line}, row {row}, column '{column}': ", e.Message);
    }

    [Fact]
    public void A_run_over_libsvm_inputs_takes_their_label_without_the_label_option()
    {
        using var tmp = new TempDir();
        var a = tmp.File("a.libsvm", "1 1:1 3:2\n0 2:5\n1 1:3\n");
        var b = tmp.File("b.svm", "0 3:4\n");
        string[] Files(string outDir) => Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Where(f => !f.Contains("_dataprep")).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToArray();
        CliRunner.Result Run(string outDir, params string[] extra) => CliRunner.Run(["convert", .. extra, "--out", tmp.Combine(outDir), "--quiet", "--seed", "7", "--split", "50/25/25", "--format", "recordio-protobuf"]);
        var given = Run("given", a, b, "--label", "label");
        Assert.True(given.Code == 0, given.Err);
        var taken = Run("taken", a, b);
        Assert.True(taken.Code == 0, taken.Err);
        Assert.Equal(Files(tmp.Combine("given")), Files(tmp.Combine("taken")));
        Assert.Contains("\"label\": \"label\"", File.ReadAllText(tmp.Combine("taken", "_dataprep", "run.json")));
        // --no-label: features only, so the label a LibSVM line starts with is not made a feature.
        var unlabelled = CliRunner.Run(["convert", a, "--out", tmp.Combine("unlabelled"), "--quiet", "--split", "100/0/0", "--no-shuffle", "--no-label"]);
        Assert.True(unlabelled.Code == 0, unlabelled.Err);
        Assert.Equal(["1,0,2", "0,5,0", "3,0,0"], Directory.GetFiles(tmp.Combine("unlabelled", "train")).SelectMany(File.ReadAllLines).ToArray());
        // Another input's label is the user's choice: --label stays required.
        var csv = tmp.File("c.csv", "label,c0\n1,2\n");
        var mixed = Run("mixed", a, csv);
        Assert.Equal(2, mixed.Code);
        Assert.Contains("No label given", mixed.Err);
    }

    [Fact]
    public async Task Reads_labels_and_sparse_features_with_the_width_of_the_largest_index()
    {
        var path = Write("a.libsvm", "1 1:0.5 3:2\n-1 2:1e-3\n+1 4:0 5:-7.25\n0\n");
        var (schema, batches, source) = await ReadAll(path);

        Assert.Equal([new Field("label", ColumnKind.Int64), new Field("features", ColumnKind.Sparse, 5)], schema.Fields);
        var batch = Assert.Single(batches);
        Assert.Equal(4, batch.RowCount);
        Assert.Equal([1L, -1L, 1L, 0L], ((Int64Column)batch["label"]).Span.ToArray());
        var features = Assert.IsType<SparseColumn>(batch["features"]);
        Assert.Equal(5, features.Width);
        Assert.Equal([0, 2, 3, 5, 5], features.RowOffsets);
        Assert.Equal([0, 2, 1, 3, 4], features.Indices);
        // The explicit zero of 4:0 is kept as an entry.
        Assert.Equal([0.5, 2.0, 0.001, 0.0, -7.25], features.Values);
        Assert.Equal(0, source.QidTokensIgnored);
    }

    [Fact]
    public async Task Labels_are_float64_when_any_label_is_not_an_integer()
    {
        var path = Write("f.svm", "2 1:1\n0.1 1:2\n-3e0 1:3\n");
        var batch = await ReadOne(path);
        Assert.Equal(ColumnKind.Float64, batch.Schema[0].Kind);
        Assert.Equal([2.0, 0.1, -3.0], ((Float64Column)batch["label"]).Span.ToArray());
    }

    [Fact]
    public async Task Values_parse_to_the_same_bits_as_double_Parse()
    {
        string[] texts = ["0.1", "1e-320", "-2.2250738585072014E-308", "1.7976931348623157E+308", "123456789.125", "3.0000000000000004", ".5", "-0"];
        var path = Write("bits.libsvm", string.Concat(texts.Select((t, i) => $"{t} {i + 1}:{t}\n")));
        var batch = await ReadOne(path);
        var labels = ((Float64Column)batch["label"]).Span.ToArray();
        var rows = Rows(batch["features"]);
        for (int i = 0; i < texts.Length; i++)
        {
            long expected = BitConverter.DoubleToInt64Bits(double.Parse(texts[i], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(expected, BitConverter.DoubleToInt64Bits(labels[i]));
            Assert.Equal(expected, BitConverter.DoubleToInt64Bits(Assert.Single(rows[i]).Value));
        }
    }

    [Fact]
    public async Task Zero_based_indexes_are_the_keys()
    {
        var path = Write("z.libsvm", "1 0:1 2:3\n0 1:2\n");
        var batch = await ReadOne(path, new LibSvmOptions(ZeroBased: true));
        Assert.Equal(new Field("features", ColumnKind.Sparse, 3), batch.Schema[1]);
        Assert.Equal([[(0, 1.0), (2, 3.0)], [(1, 2.0)]], Rows(batch["features"]));
    }

    [Fact]
    public async Task Qid_tokens_are_skipped_and_counted()
    {
        var path = Write("rank.svmlight", "3 qid:1 1:0.5 2:1\n2 qid:1 2:2\n1 qid:2 1:1\n");
        var (_, batches, source) = await ReadAll(path);
        Assert.Equal(3, source.QidTokensIgnored);
        Assert.Equal([[(0, 0.5), (1, 1.0)], [(1, 2.0)], [(0, 1.0)]], Rows(batches[0]["features"]));
        Assert.Equal([3L, 2L, 1L], ((Int64Column)batches[0]["label"]).Span.ToArray());
    }

    [Fact]
    public async Task Comments_blank_lines_crlf_and_a_bom_are_skipped_but_lines_are_counted()
    {
        var path = _dir.Combine("c.libsvm");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "# features: a, b\r\n\r\n1 1:1 # first\r\n   \t\r\n0\t2:2#second\r\n# end\r\n"u8]);
        var batch = await ReadOne(path);
        Assert.Equal([1L, 0L], ((Int64Column)batch["label"]).Span.ToArray());
        Assert.Equal([[(0, 1.0)], [(1, 2.0)]], Rows(batch["features"]));
        Assert.Equal([1L, 2L], batch.Rows.SourceRows);

        // Line numbers count the comment and blank lines; row numbers count data rows only.
        var bad = _dir.Combine("c-bad.libsvm");
        File.WriteAllBytes(bad, "# header\r\n\r\n1 1:1\r\n\r\n1 1:x\r\n"u8.ToArray());
        var e = await Fails(bad);
        AssertLocated(e, bad, line: 5, row: 2, "features");
    }

    [Fact]
    public async Task Gzip_files_read_like_plain_ones()
    {
        var path = WriteGz("g.libsvm.gz", "1 2:3.5\n0 1:1\n");
        var batch = await ReadOne(path);
        Assert.Equal(new Field("features", ColumnKind.Sparse, 2), batch.Schema[1]);
        Assert.Equal([[(1, 3.5)], [(0, 1.0)]], Rows(batch["features"]));
    }

    [Fact]
    public async Task Batches_hold_BatchRows_rows_with_stable_row_ids_and_one_width()
    {
        var path = Write("b.libsvm", "1 1:1\n\n2 2:2\n3 3:3\n# comment\n4 4:4\n5 9:5\n");
        var (schema, batches, _) = await ReadAll(path, options: new SourceOptions { BatchRows = 2 }, sourceIndex: 3);
        Assert.Equal([2, 2, 1], batches.Select(b => b.RowCount));
        Assert.All(batches, b => Assert.Equal(9, ((SparseColumn)b["features"]).Width));
        Assert.All(batches, b => Assert.Same(schema, b.Schema));
        var all = RecordBatch.Concat(batches, schema);
        // Each row's id is its line's 1-based byte position (blank and comment lines hold no row).
        Assert.Equal(new long[] { 1, 8, 14, 30, 36 }.Select(p => RowInfo.MakeRowId(3, 0) | p), all.Rows.RowIds);
        Assert.Equal([3, 3, 3, 3, 3], all.Rows.Sources);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], all.Rows.SourceRows);
        Assert.Equal([[(0, 1.0)], [(1, 2.0)], [(2, 3.0)], [(3, 4.0)], [(8, 5.0)]], Rows(all["features"]));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], ((Int64Column)all["label"]).Span.ToArray());
    }

    [Fact]
    public async Task Batches_split_exactly_at_a_multiple_of_BatchRows()
    {
        var path = Write("even.libsvm", "1 1:1\n2 1:2\n3 1:3\n4 1:4\n");
        var (_, batches, _) = await ReadAll(path, options: new SourceOptions { BatchRows = 2 });
        Assert.Equal([2, 2], batches.Select(b => b.RowCount));
        Assert.Equal([3L, 4L], batches[1].Rows.SourceRows);
    }

    [Fact]
    public async Task NumFeatures_sets_the_width()
    {
        var path = Write("n.libsvm", "1 1:1 3:2\n");
        var batch = await ReadOne(path, new LibSvmOptions(NumFeatures: 10));
        Assert.Equal(new Field("features", ColumnKind.Sparse, 10), batch.Schema[1]);
        Assert.Equal(10, ((SparseColumn)batch["features"]).Width);
        // The boundary itself is fine.
        Assert.Equal(3, (await ReadOne(path, new LibSvmOptions(NumFeatures: 3))).Schema[1].Width);
        Assert.Equal(3, (await ReadOne(Write("n0.libsvm", "1 0:1 2:2\n"), new LibSvmOptions(true, NumFeatures: 3))).Schema[1].Width);
    }

    [Fact]
    public async Task A_file_without_features_has_width_zero()
    {
        var batch = await ReadOne(Write("labels.libsvm", "1\n0\n"));
        Assert.Equal(new Field("features", ColumnKind.Sparse, 0), batch.Schema[1]);
        Assert.Equal([[], []], Rows(batch["features"]));
    }

    [Fact]
    public void Factory_reads_libsvm_extensions_and_the_libsvm_format()
    {
        var factory = new LibSvmSourceFactory();
        Assert.True(factory.CanRead("a.libsvm", null));
        Assert.True(factory.CanRead("dir/a.SVM", null));
        Assert.True(factory.CanRead("a.svmlight", null));
        Assert.True(factory.CanRead("a.libsvm.gz", null));
        Assert.True(factory.CanRead("a.svm.gz", null));
        Assert.True(factory.CanRead("a.txt", "libsvm"));
        Assert.True(factory.CanRead("a.txt", "LibSVM"));
        Assert.False(factory.CanRead("a.csv", null));
        Assert.False(factory.CanRead("a.gz", null));
        Assert.False(factory.CanRead("a.libsvm", "csv"));

        var options = new LibSvmOptions(ZeroBased: true, NumFeatures: 7);
        var source = Assert.IsType<LibSvmSource>(new LibSvmSourceFactory(options).Create("x.libsvm", new SourceOptions()));
        Assert.Equal(options, source.Options);
        Assert.Equal("x.libsvm", source.Description);

        var registry = new SourceRegistry().AddLibSvm(options);
        Assert.Equal(options, Assert.IsType<LibSvmSource>(registry.Create("d/train.svm.gz", new SourceOptions())).Options);
        Assert.IsType<CsvSource>(registry.Create("d/train.csv", new SourceOptions()));
    }

    // ----- errors: each names the file, the line, what was found and what was expected -----

    [Fact]
    public async Task Empty_file_is_an_error()
    {
        var path = Write("empty.libsvm", "");
        var e = await Fails(path);
        Assert.Equal($"{path}: is empty; {Form}", e.Message);

        var blank = Write("blank.libsvm", "\n  \n\t\n");
        Assert.Equal($"{blank}: is empty; {Form}", (await Fails(blank)).Message);

        var comments = Write("comments.libsvm", "# only\n\n# comments\n");
        Assert.Equal($"{comments}: has no data lines (its 3 lines are blank or comments); {Form}", (await Fails(comments)).Message);
    }

    [Fact]
    public async Task Missing_label_is_an_error()
    {
        var path = Write("nolabel.libsvm", "1 1:1\n2:1 3:4\n");
        var e = await Fails(path);
        AssertLocated(e, path, 2, 2, "label");
        Assert.Equal($"found '2:1' where the label should be, expected a number first (lines have the form 'label index:value …')", e.Problem);
    }

    [Fact]
    public async Task Label_that_is_not_a_number_is_an_error()
    {
        var path = Write("badlabel.libsvm", "yes 1:1\n");
        var e = await Fails(path);
        AssertLocated(e, path, 1, 1, "label");
        Assert.Equal("found label 'yes', expected a finite number (lines have the form 'label index:value …')", e.Problem);

        var multi = Write("multi.libsvm", "1 1:1\n1,3 1:1\n");
        e = await Fails(multi);
        AssertLocated(e, multi, 2, 2, "label");
        Assert.Equal("found label '1,3', expected a finite number (lines have the form 'label index:value …'); multi-label lines ('1,3 index:value …') are not supported", e.Problem);

        var nan = Write("nan.libsvm", "NaN 1:1\n");
        Assert.Equal("found label 'NaN', expected a finite number (lines have the form 'label index:value …')", (await Fails(nan)).Problem);
    }

    [Fact]
    public async Task Token_without_colon_is_an_error()
    {
        var path = Write("nocolon.libsvm", "1 1:1 7 3:1\n");
        var e = await Fails(path);
        AssertLocated(e, path, 1, 1, "features");
        Assert.Equal("found '7' without ':', expected index:value pairs after the label (lines have the form 'label index:value …')", e.Problem);
    }

    [Fact]
    public async Task Index_that_is_not_an_integer_is_an_error()
    {
        var path = Write("badindex.libsvm", "1 a:1\n");
        var e = await Fails(path);
        AssertLocated(e, path, 1, 1, "features");
        Assert.Equal("found index 'a' in 'a:1', expected a positive integer (indexes are 1-based)", e.Problem);

        var negative = Write("negative.libsvm", "1 -1:1\n");
        e = await Fails(negative, new LibSvmOptions(ZeroBased: true));
        Assert.Equal("found index '-1' in '-1:1', expected a non-negative integer (indexes are 0-based with --zero-based)", e.Problem);

        var empty = Write("emptyindex.libsvm", "1 :1\n");
        Assert.Equal("found index '' in ':1', expected a positive integer (indexes are 1-based)", (await Fails(empty)).Problem);
    }

    [Fact]
    public async Task Index_zero_in_one_based_mode_suggests_zero_based()
    {
        var path = Write("zero.libsvm", "\n1 0:1 1:2\n");
        var e = await Fails(path);
        AssertLocated(e, path, 2, 1, "features");
        Assert.Equal("found index 0 in '0:1', expected indexes from 1 because LibSVM indexes are 1-based; if this file numbers its features from 0, pass --zero-based", e.Problem);
    }

    [Fact]
    public async Task Indexes_out_of_order_or_repeated_are_errors()
    {
        var path = Write("order.libsvm", "1 1:1\n0 2:1 5:1 3:2\n");
        var e = await Fails(path);
        AssertLocated(e, path, 2, 2, "features");
        Assert.Equal("found index 3 after index 5, expected indexes in strictly increasing order within a line", e.Problem);

        var twice = Write("twice.libsvm", "1 4:1 4:2\n");
        e = await Fails(twice);
        AssertLocated(e, twice, 1, 1, "features");
        Assert.Equal("found index 4 twice, expected each index at most once per line, in strictly increasing order", e.Problem);
    }

    [Fact]
    public async Task Value_that_is_not_a_number_is_an_error()
    {
        var path = Write("badvalue.libsvm", "1 2:1,5\n");
        var e = await Fails(path);
        AssertLocated(e, path, 1, 1, "features");
        Assert.Equal("found value '1,5' for index '2', expected a finite number (invariant culture, '.' as decimal point)", e.Problem);

        var inf = Write("inf.libsvm", "1 2:1e400\n");
        Assert.Equal("found value '1e400' for index '2', expected a finite number (invariant culture, '.' as decimal point)", (await Fails(inf)).Problem);

        var missing = Write("novalue.libsvm", "1 2:\n");
        Assert.Equal("found value '' for index '2', expected a finite number (invariant culture, '.' as decimal point)", (await Fails(missing)).Problem);
    }

    [Fact]
    public async Task Index_beyond_NumFeatures_is_an_error()
    {
        var path = Write("wide.libsvm", "1 1:1\n1 3:1 11:2\n");
        var e = await Fails(path, new LibSvmOptions(NumFeatures: 10));
        AssertLocated(e, path, 2, 2, "features");
        Assert.Equal("found index '11' in '11:2', expected at most 10 because the number of features is set to 10 (--num-features)", e.Problem);

        var zeroBased = Write("wide0.libsvm", "1 10:1\n");
        e = await Fails(zeroBased, new LibSvmOptions(ZeroBased: true, NumFeatures: 10));
        Assert.Equal("found index '10' in '10:1', expected at most 9 because the number of features is set to 10 (--num-features)", e.Problem);

        var none = Write("none.libsvm", "1 1:1\n");
        e = await Fails(none, new LibSvmOptions(NumFeatures: 0));
        Assert.Equal("found '1:1', expected no index:value pairs because the number of features is set to 0 (--num-features)", e.Problem);
    }

    [Fact]
    public async Task Index_too_large_for_a_width_is_an_error()
    {
        var path = Write("huge.libsvm", "1 2147483648:1\n");
        var e = await Fails(path);
        AssertLocated(e, path, 1, 1, "features");
        Assert.Equal("found index '2147483648' in '2147483648:1', expected at most 2147483647 because larger feature numbers do not fit", e.Problem);

        var digits = Write("huge2.libsvm", "1 99999999999999999999999:1\n");
        Assert.Contains("expected at most 2147483647", (await Fails(digits)).Problem);
        var notDigits = Write("huge3.libsvm", "1 99999999999999999999999x:1\n");
        Assert.Contains("expected a positive integer", (await Fails(notDigits)).Problem);
    }

    [Fact]
    public void Negative_NumFeatures_is_rejected()
    {
        var e = Assert.Throws<PipelineValidationException>(() => new LibSvmSource("x.libsvm", new SourceOptions(), new LibSvmOptions(NumFeatures: -1)));
        Assert.Equal("The number of LibSVM features is -1; expected 0 or more (--num-features).", e.Message);
    }

    [Fact]
    public async Task Errors_are_reported_by_OpenAsync_before_any_batch()
    {
        var path = Write("late.libsvm", string.Concat(Enumerable.Repeat("1 1:1\n", 1000)) + "1 1:oops\n");
        var source = new LibSvmSource(path, new SourceOptions { BatchRows = 10 });
        var e = await Assert.ThrowsAsync<DataFormatException>(() => source.OpenAsync().AsTask());
        AssertLocated(e, path, 1001, 1001, "features");
    }

    /// <summary>
    /// A LibSVM file of 1,100–4,000 lines from a seed: integer or decimal labels, 0–6 features with increasing indexes and
    /// values in several forms, qid tokens, comments, blank lines and CRLF ends; with <paramref name="bad"/>, two malformed
    /// lines (an index out of order, a value that is no number) at lines the seed picks.
    /// </summary>
    private string ManyLines(int seed, bool bad)
    {
        var random = new Random(seed);
        int lines = random.Next(1_100, 4_000);
        bool decimals = random.Next(2) == 0;
        var badAt = bad ? new[] { random.Next(1, lines + 1), random.Next(1, lines + 1) } : [];
        var sb = new StringBuilder();
        for (int n = 1; n <= lines; n++)
        {
            int kind = random.Next(40);
            if (badAt.Contains(n)) kind = 2;   // a bad line is a data line, never blank or a comment
            if (kind == 0) sb.Append('\n');
            else if (kind == 1) sb.Append("# a comment\n");
            else
            {
                sb.Append(decimals && random.Next(3) == 0 ? $"{random.Next(-5, 5)}.{random.Next(10)}" : random.Next(0, 3).ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (random.Next(10) == 0) sb.Append(" qid:").Append(random.Next(9));
                int index = 0;
                for (int f = random.Next(7); f > 0; f--)
                {
                    index += random.Next(1, 60);
                    sb.Append(' ').Append(index).Append(':').Append(random.Next(4) switch
                    {
                        0 => "1",
                        1 => $"{random.NextDouble() * 100:R}",
                        2 => $"-{random.Next(1000)}.{random.Next(1000):D3}",
                        _ => $"{random.Next(9)}e-{random.Next(1, 9)}",
                    });
                }
                if (badAt.Length > 0 && n == badAt[0]) sb.Append(" 3:1 2:1");
                if (badAt.Length > 0 && n == badAt[1]) sb.Append(" 999:x");
                if (random.Next(15) == 0) sb.Append(" # trailing");
                sb.Append(random.Next(8) == 0 ? "\r\n" : "\n");
            }
        }
        return Write($"many-{seed}-{bad}.libsvm", sb.ToString());
    }

    private sealed record Read(string Schema, long Qid, long RowBytes, int[] Batches, long[] Ids, long[] SourceRows, double[] Labels, (int Key, double Value)[][] Features, string? Error, string BadRows);

    private static async Task<Read> ReadWith(string path, int threads, bool tolerant)
    {
        var report = new RunReport();
        var options = new SourceOptions { BatchRows = 2_048, Threads = threads, BadRows = tolerant ? new BadRows(BadRowPolicy.Skip, report) : null };
        try
        {
            var (schema, batches, source) = await ReadAll(path, options: options, sourceIndex: 1);
            var all = RecordBatch.Concat(batches, schema);
            var labels = all["label"] is Int64Column ints ? ints.Span.ToArray().Select(l => (double)l).ToArray() : ((Float64Column)all["label"]).Span.ToArray();
            return new Read(string.Join(",", schema.Fields), source.QidTokensIgnored, source.RowBytes, [.. batches.Select(b => b.RowCount)],
                [.. all.Rows.RowIds], [.. all.Rows.SourceRows], labels, Rows(all["features"]), null, string.Join(",", report.BadRows));
        }
        catch (DataFormatException e)
        {
            return new Read("", 0, 0, [], [], [], [], [], $"{e.Line} {e.Row} {e.Column} {e.Message}", "");
        }
    }

    /// <summary>
    /// Both passes parse a chunk's lines in contiguous shares on several threads (--threads): the schema, qid count, row
    /// bytes, batches, row ids, values, the first error (line, row, column and words) and the rows --on-bad-row skip leaves
    /// out are what one thread gives, for files of one to four chunks of 2,048 rows (shares of 512 rows and more).
    /// </summary>
    [Property(MaxTest = 25)]
    public Property Several_parser_threads_read_what_one_thread_reads()
    {
        var cases = from seed in Gen.Choose(0, int.MaxValue) from bad in Gen.Elements(false, true) from tolerant in Gen.Elements(false, true) select (seed, bad, tolerant);
        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var path = ManyLines(c.seed, c.bad);
            var one = ReadWith(path, 1, c.tolerant).GetAwaiter().GetResult();
            var three = ReadWith(path, 3, c.tolerant).GetAwaiter().GetResult();
            Assert.Equal(one.Error, three.Error);
            Assert.Equal(one.Schema, three.Schema);
            Assert.Equal((one.Qid, one.RowBytes, one.BadRows), (three.Qid, three.RowBytes, three.BadRows));
            Assert.Equal(one.Batches, three.Batches);
            Assert.Equal(one.Ids, three.Ids);
            Assert.Equal(one.SourceRows, three.SourceRows);
            Assert.Equal(one.Labels, three.Labels);
            Assert.Equal(one.Features, three.Features);
            // The case is what it says: an error without --on-bad-row when a line is bad, rows otherwise.
            Assert.Equal(c.bad && !c.tolerant, one.Error is not null);
            if (one.Error is null) Assert.True(one.Ids.Length > 1_000, $"{one.Ids.Length} rows");
            if (c.bad && c.tolerant) Assert.NotEqual("", one.BadRows);
        });
    }

    /// <summary>
    /// Two malformed lines in different shares of the first chunk: one thread and three both name the earlier line in
    /// the first pass; with --on-bad-row skip both are left out and counted, and the rows after them keep their ids.
    /// </summary>
    [Fact]
    public async Task Several_parser_threads_name_the_earliest_bad_line()
    {
        var sb = new StringBuilder();
        for (int i = 1; i <= 3_000; i++) sb.Append(i % 2).Append(' ').Append(i == 1_700 ? "5:1 4:1" : i == 900 ? "1:x" : $"{i % 50 + 1}:{i}").Append('\n');
        var path = Write("two-bad.libsvm", sb.ToString());
        foreach (int threads in new[] { 1, 3 })
        {
            var e = await Assert.ThrowsAsync<DataFormatException>(() => new LibSvmSource(path, new SourceOptions { Threads = threads }).OpenAsync().AsTask());
            AssertLocated(e, path, 900, 900, "features");
            Assert.Contains("found value 'x'", e.Message, StringComparison.Ordinal);
        }
        var report = new RunReport();
        var (_, batches, _) = await ReadAll(path, options: new SourceOptions { BatchRows = 2_048, Threads = 3, BadRows = new BadRows(BadRowPolicy.Skip, report) });
        var rows = batches.SelectMany(b => b.Rows.SourceRows.ToArray()).ToArray();
        Assert.Equal(2_998, rows.Length);
        Assert.DoesNotContain(900L, rows);
        Assert.DoesNotContain(1_700L, rows);
        Assert.Equal(3_000L, rows[^1]);
        Assert.Equal(2, report.BadRows.Values.Sum());
    }
}

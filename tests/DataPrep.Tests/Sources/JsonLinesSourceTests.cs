using System.IO.Compression;
using System.Text;
using DataPrep.Data;
using DataPrep.Sources;
using Xunit;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Sources;

public sealed class JsonLinesSourceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dataprep-jsonl-" + Guid.NewGuid().ToString("N"));

    public JsonLinesSourceTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Write(string name, string content, Encoding? encoding = null)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content, encoding ?? new UTF8Encoding(false));
        return path;
    }

    private string WriteGz(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(content));
        return path;
    }

    private static async Task<(Schema Schema, List<RecordBatch> Batches)> ReadAll(string path, SourceOptions? options = null, int sourceIndex = 0)
    {
        var source = new JsonLinesSource(path, options);
        var schema = await source.OpenAsync();
        var batches = new List<RecordBatch>();
        await foreach (var b in source.ReadAsync(sourceIndex)) batches.Add(b);
        return (schema, batches);
    }

    private static async Task<RecordBatch> ReadOne(string path, SourceOptions? options = null)
    {
        var (schema, batches) = await ReadAll(path, options);
        return RecordBatch.Concat(batches, schema);
    }

    private static async Task<DataFormatException> ReadFails(string path, SourceOptions? options = null)
        => await Assert.ThrowsAsync<DataFormatException>(() => ReadAll(path, options));

    private static void AssertStrings(string?[] expected, Column column)
        => Assert.Equal((IEnumerable<string?>)expected, ((StringColumn)column).Span.ToArray());

    private static long Ticks(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).UtcTicks;

    [Fact]
    public async Task Infers_types_and_reads_values()
    {
        var path = Write("types.jsonl", """
            {"id": 1, "price": 2.5, "ok": true, "name": "a\"b", "at": "2024-03-01T12:00:00Z", "code": "x1"}
            {"id": 2, "price": 3, "ok": false, "name": "caf\u00e9", "at": "2024-03-02", "code": "y2"}
            {"id": -3, "price": -1e2, "ok": true, "name": "", "at": "2024-03-03T00:00:00+01:00", "code": "z3"}
            """);
        var batch = await ReadOne(path);

        Assert.Equal(
            [new Field("id", ColumnKind.Int64), new Field("price", ColumnKind.Float64), new Field("ok", ColumnKind.Boolean),
             new Field("name", ColumnKind.String), new Field("at", ColumnKind.Timestamp), new Field("code", ColumnKind.String)],
            batch.Schema.Fields);
        Assert.Equal(3, batch.RowCount);
        Assert.Equal([1L, 2L, -3L], ((Int64Column)batch["id"]).Span.ToArray());
        Assert.Equal([2.5, 3.0, -100.0], ((Float64Column)batch["price"]).Span.ToArray());
        Assert.Equal([true, false, true], ((BooleanColumn)batch["ok"]).Span.ToArray());
        var names = (StringColumn)batch["name"];
        Assert.Equal("a\"b", names.Values[0]);
        Assert.Equal("café", names.Values[1]);
        Assert.True(names.IsNull(2)); // the empty string is missing, as in CSV
        Assert.Equal(
            [Ticks("2024-03-01T12:00:00Z"), Ticks("2024-03-02T00:00:00Z"), Ticks("2024-03-02T23:00:00Z")],
            ((TimestampColumn)batch["at"]).Span.ToArray());
        AssertStrings(["x1", "y2", "z3"], batch["code"]);
        Assert.Null(batch["id"].Nulls);
    }

    [Fact]
    public async Task Numeric_strings_stay_text_and_mixed_kinds_become_text()
    {
        var path = Write("mixed.jsonl", """
            {"n": "02134", "mix": 1, "big": 1}
            {"n": "13", "mix": "abc", "big": 9223372036854775808}
            """);
        var batch = await ReadOne(path);
        // A JSON string is text, so a zip code keeps its leading zero (dates are the exception).
        Assert.Equal(ColumnKind.String, batch.Schema[0].Kind);
        AssertStrings(["02134", "13"], batch["n"]);
        Assert.Equal(ColumnKind.String, batch.Schema[1].Kind);
        AssertStrings(["1", "abc"], batch["mix"]);
        Assert.Equal(ColumnKind.Float64, batch.Schema[2].Kind); // beyond Int64
    }

    [Fact]
    public async Task Nulls_missing_keys_and_late_keys()
    {
        var path = Write("nulls.jsonl", """
            {"a": 1, "b": "x"}
            {"a": null, "c": true}
            {"b": null, "a": 3, "d": 1.5}
            {}
            """);
        var batch = await ReadOne(path);

        // First object's keys in order, then keys first seen later in order of appearance.
        Assert.Equal(["a", "b", "c", "d"], batch.Schema.Fields.Select(f => f.Name));
        Assert.Equal(ColumnKind.Int64, batch.Schema[0].Kind);
        Assert.Equal(ColumnKind.String, batch.Schema[1].Kind);
        Assert.Equal(ColumnKind.Boolean, batch.Schema[2].Kind);
        Assert.Equal(ColumnKind.Float64, batch.Schema[3].Kind);

        var a = (Int64Column)batch["a"];
        Assert.Equal([false, true, false, true], Enumerable.Range(0, 4).Select(a.IsNull));
        Assert.Equal(1L, a.Values[0]);
        Assert.Equal(3L, a.Values[2]);
        AssertStrings(["x", null, null, null], batch["b"]);
        Assert.Equal([true, false, true, true], Enumerable.Range(0, 4).Select(batch["c"].IsNull));
        Assert.Equal([true, true, false, true], Enumerable.Range(0, 4).Select(batch["d"].IsNull));
        Assert.Equal(1.5, ((Float64Column)batch["d"]).Values[2]);
    }

    [Fact]
    public async Task Null_values_option_applies_to_strings()
    {
        var path = Write("nullvalues.jsonl", """
            {"v": "NA"}
            {"v": 7}
            """);
        var batch = await ReadOne(path, new SourceOptions { NullValues = ["NA"] });
        Assert.Equal(ColumnKind.Int64, batch.Schema[0].Kind);
        Assert.True(batch["v"].IsNull(0));
        Assert.Equal(7L, ((Int64Column)batch["v"]).Values[1]);
    }

    [Fact]
    public async Task Batches_split_at_BatchRows_with_stable_row_ids_and_blank_lines_skipped()
    {
        var sb = new StringBuilder();
        // A row's id is its line's 1-based byte position (ASCII here: one byte a character).
        var positions = new List<long>();
        for (int i = 1; i <= 10; i++)
        {
            positions.Add(sb.Length + 1);
            sb.Append("{\"i\": ").Append(i).Append("}\n");
            if (i % 3 == 0) sb.Append("\n   \n"); // blank lines are skipped
        }
        var path = Write("batches.jsonl", sb.ToString());
        var (_, batches) = await ReadAll(path, new SourceOptions { BatchRows = 4 }, sourceIndex: 3);

        Assert.Equal([4, 4, 2], batches.Select(b => b.RowCount));
        long ordinal = 0;
        foreach (var b in batches)
        {
            var values = ((Int64Column)b["i"]).Span.ToArray();
            for (int r = 0; r < b.RowCount; r++)
            {
                ordinal++;
                Assert.Equal(ordinal, values[r]);
                Assert.Equal(RowInfo.MakeRowId(3, positions[(int)ordinal - 1]), b.Rows.RowIds[r]);
                Assert.Equal(ordinal, b.Rows.SourceRows[r]);
                Assert.Equal(3, b.Rows.Sources[r]);
            }
        }
        Assert.Equal(10, ordinal);
    }

    /// <summary>One row's values as text (null as "∅"), whatever its columns' kinds.</summary>
    private static string RowText(RecordBatch batch, int r) => string.Join("|", batch.Columns.Select(c => c.IsNull(r) ? "∅" : c switch
    {
        Int64Column i => i.Values[r].ToString(System.Globalization.CultureInfo.InvariantCulture),
        Float64Column f => f.Values[r].ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        BooleanColumn b => b.Values[r].ToString(),
        StringColumn t => t.Values[r],
        _ => c.GetType().Name,
    }));

    private static List<(long Id, long SourceRow, string Values)> Rows(List<RecordBatch> batches)
        => batches.SelectMany(b => Enumerable.Range(0, b.RowCount).Select(r => (b.Rows.RowIds[r], b.Rows.SourceRows[r], RowText(b, r)))).ToList();

    private static string ManyRows(int rows, Func<int, string?>? bad = null)
    {
        var sb = new StringBuilder();
        for (int i = 1; i <= rows; i++)
        {
            sb.Append(bad?.Invoke(i) ?? (i % 11 == 0
                ? $"{{\"id\": {i}, \"s\": \"t{i % 5}\"}}"
                : $"{{\"id\": {i}, \"x\": {i * 0.37}, \"s\": {(i % 13 == 0 ? "null" : $"\"t{i % 5}\\u00e9\"")}, \"b\": {(i % 2 == 0 ? "true" : "false")}}}")).Append('\n');
            if (i % 700 == 0) sb.Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public async Task Several_parser_threads_read_what_one_thread_reads()
    {
        // Batches of 2,048 rows: shares of 512 rows on up to four threads, and a last batch of one share.
        var path = Write("many.jsonl", ManyRows(5_000));
        var one = await ReadAll(path, new SourceOptions { BatchRows = 2_048, Threads = 1 }, sourceIndex: 2);
        var four = await ReadAll(path, new SourceOptions { BatchRows = 2_048, Threads = 4 }, sourceIndex: 2);
        Assert.Equal(one.Schema, four.Schema);
        Assert.Equal(one.Batches.Select(b => b.RowCount), four.Batches.Select(b => b.RowCount));
        var rows = Rows(four.Batches);
        Assert.Equal(Rows(one.Batches), rows);
        Assert.Equal(5_000, rows.Count);
        Assert.Contains(rows, r => r.Values.Contains('∅', StringComparison.Ordinal));
    }

    [Fact]
    public async Task Several_parser_threads_name_the_earliest_bad_row_and_skip_what_one_thread_skips()
    {
        // Bad values in the second and the fourth share of the first batch: the earlier one is the error.
        var path = Write("bad.jsonl", ManyRows(3_000, i => i is 900 or 1_700 ? $"{{\"id\": \"no{i}\"}}" : null));
        foreach (int threads in new[] { 1, 4 })
        {
            var error = await ReadFails(path, new SourceOptions { BatchRows = 2_048, Threads = threads, InferRows = 100 });
            Assert.Equal((901, 900, "id"), (error.Line, error.Row, error.Column));
        }
        // --on-bad-row skip: both rows are left out, and the rest is what one thread reads.
        var reports = new[] { new RunReport(), new RunReport() };
        var one = await ReadAll(path, new SourceOptions { BatchRows = 2_048, Threads = 1, InferRows = 100, BadRows = new BadRows(BadRowPolicy.Skip, reports[0]) });
        var four = await ReadAll(path, new SourceOptions { BatchRows = 2_048, Threads = 4, InferRows = 100, BadRows = new BadRows(BadRowPolicy.Skip, reports[1]) });
        Assert.Equal(Rows(one.Batches), Rows(four.Batches));
        Assert.Equal(2_998, Rows(four.Batches).Count);
        Assert.Equal(reports[0].BadRows, reports[1].BadRows);
        Assert.Equal(2, reports[1].BadRows.Values.Sum());
    }

    [Fact]
    public async Task Exact_multiple_of_BatchRows_yields_no_empty_batch()
    {
        var path = Write("exact.jsonl", string.Concat(Enumerable.Range(1, 8).Select(i => $"{{\"i\":{i}}}\n")));
        var (_, batches) = await ReadAll(path, new SourceOptions { BatchRows = 4 });
        Assert.Equal([4, 4], batches.Select(b => b.RowCount));
    }

    [Fact]
    public async Task Streams_files_much_bigger_than_the_inference_sample()
    {
        const int rows = 200_000;
        var sb = new StringBuilder();
        for (int i = 1; i <= rows; i++) sb.Append("{\"id\":").Append(i).Append(",\"label\":\"L").Append(i % 7).Append("\"}\r\n");
        var path = Write("big.jsonl", sb.ToString());
        var (schema, batches) = await ReadAll(path, new SourceOptions { InferRows = 100, BatchRows = 65_536 });

        Assert.Equal([new Field("id", ColumnKind.Int64), new Field("label", ColumnKind.String)], schema.Fields);
        Assert.Equal([65_536, 65_536, 65_536, rows - 3 * 65_536], batches.Select(b => b.RowCount));
        var last = batches[^1];
        Assert.Equal(rows, ((Int64Column)last["id"]).Span[^1]);
        Assert.Equal($"L{rows % 7}", ((StringColumn)last["label"]).Span[^1]);
        // The last line's byte position: the file's length less that line (with its CRLF), plus one.
        long lastLine = $"{{\"id\":{rows},\"label\":\"L{rows % 7}\"}}\r\n".Length;
        Assert.Equal(RowInfo.MakeRowId(0, sb.Length - lastLine + 1), last.Rows.RowIds[last.RowCount - 1]);
    }

    [Fact]
    public async Task Reads_gzip_input()
    {
        var path = WriteGz("data.jsonl.gz", "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\n");
        var batch = await ReadOne(path);
        Assert.Equal([1L, 2L], ((Int64Column)batch["a"]).Span.ToArray());
        AssertStrings(["x", "y"], batch["b"]);
    }

    [Fact]
    public async Task Registry_picks_json_lines_for_jsonl_and_gz()
    {
        var registry = new SourceRegistry();
        Assert.IsType<JsonLinesSource>(registry.Create(Path.Combine(_dir, "x.jsonl"), new SourceOptions()));
        Assert.IsType<JsonLinesSource>(registry.Create(Path.Combine(_dir, "x.ndjson.gz"), new SourceOptions()));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Honours_bom_crlf_utf16_and_explicit_encoding()
    {
        var utf8Bom = Write("bom.jsonl", "{\"k\": \"é\"}\r\n{\"k\": \"b\"}", new UTF8Encoding(true));
        AssertStrings(["é", "b"], (await ReadOne(utf8Bom))["k"]);

        var utf16 = Write("utf16.jsonl", "{\"k\": \"é\"}\n{\"k\": \"b\"}\n", Encoding.Unicode);
        AssertStrings(["é", "b"], (await ReadOne(utf16))["k"]);

        var latin1 = Write("latin1.jsonl", "{\"k\": \"é\"}\n", Encoding.Latin1);
        AssertStrings(["é"], (await ReadOne(latin1, new SourceOptions { Encoding = "latin1" }))["k"]);
    }

    [Fact]
    public async Task Handles_lines_longer_than_the_read_buffer_and_escaped_keys()
    {
        string longText = new('x', 200_000);
        var path = Write("long.jsonl", $"{{\"t\": \"{longText}\", \"k\\u0065y\": 1}}\n{{\"t\": \"short\", \"key\": 2}}\n");
        var batch = await ReadOne(path);
        Assert.Equal(["t", "key"], batch.Schema.Fields.Select(f => f.Name));
        AssertStrings([longText, "short"], batch["t"]);
        Assert.Equal([1L, 2L], ((Int64Column)batch["key"]).Span.ToArray());
    }

    [Fact]
    public async Task Column_type_overrides_win_over_inference()
    {
        var path = Write("override.jsonl", """
            {"zip": 2134, "n": 1}
            {"zip": 90210, "n": 2}
            """);
        var options = new SourceOptions { ColumnTypes = new Dictionary<string, ColumnKind> { ["zip"] = ColumnKind.String, ["1"] = ColumnKind.Float64 } };
        var batch = await ReadOne(path, options);
        Assert.Equal([new Field("zip", ColumnKind.String), new Field("n", ColumnKind.Float64)], batch.Schema.Fields);
        AssertStrings(["2134", "90210"], batch["zip"]);
        Assert.Equal([1.0, 2.0], ((Float64Column)batch["n"]).Span.ToArray());

        var bad = new SourceOptions { ColumnTypes = new Dictionary<string, ColumnKind> { ["nope"] = ColumnKind.String } };
        var e = await Assert.ThrowsAsync<PipelineValidationException>(() => ReadAll(path, bad));
        Assert.Contains("'nope'", e.Message);
        Assert.Contains("zip, n", e.Message);
    }

    // ---- errors ----

    [Fact]
    public async Task Empty_file_is_an_error()
    {
        var empty = Write("empty.jsonl", "");
        var e = await ReadFails(empty);
        Assert.Contains("empty.jsonl", e.Message);
        Assert.Contains("is empty; expected JSON objects, one per line", e.Message);

        var blank = Write("blank.jsonl", "\n  \r\n\t\n");
        e = await ReadFails(blank);
        Assert.Contains("blank.jsonl", e.Message);
        Assert.Contains("is empty; expected JSON objects, one per line", e.Message);
    }

    [Theory]
    [InlineData("{\"tags\": [1, 2]}", "array")]
    [InlineData("{\"tags\": {\"x\": 1}}", "object")]
    public async Task Nested_values_are_rejected(string nested, string kind)
    {
        var path = Write("nested.jsonl", "{\"id\": 1, \"tags\": null}\n\n" + nested + "\n");
        var e = await ReadFails(path);
        Assert.Contains("nested.jsonl", e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("'tags'", e.Message);
        Assert.Contains($"nested {kind}", e.Message);
        Assert.Contains("expected a number, string, boolean or null", e.Message);
        Assert.Contains("Flatten", e.Message);
        Assert.Equal(3, e.Line);
        Assert.Equal(2, e.Row);
        Assert.Equal("tags", e.Column);
    }

    [Fact]
    public void A_key_left_out_may_hold_nested_values_in_the_sample_and_after_it()
    {
        using var tmp = new TempDir();
        // Nested values in the first lines, then 10,000 plain ones (the inference sample), then one more.
        var text = new StringBuilder("{\"y\": 1, \"tags\": {\"b\": [2, {\"c\": \"}\"}]}, \"x\": 1}\n{\"y\": 0, \"tags\": [3], \"x\": 2}\n{\"y\": 1, \"x\": 3, \"tags\": null}\n");
        for (int i = 4; i < 10_010; i++) text.Append("{\"y\": ").Append(i % 2).Append(", \"tags\": \"t\", \"x\": ").Append(i).Append("}\n");
        text.Append("{\"y\": 0, \"tags\": [[4]], \"x\": 10010}\n");
        var input = tmp.File("n.jsonl", text.ToString());
        var expected = Enumerable.Range(1, 10_010).Select(i => $"{i % 2},{i}").ToArray();
        CliRunner.Result Run(params string[] extra) => CliRunner.Run(["convert", input, "--out", tmp.Combine("out"), "--overwrite", "--quiet", "--label", "y", "--split", "100/0/0", "--no-shuffle", .. extra]);
        // Read: the message names the way out.
        var r = Run();
        Assert.Equal(3, r.Code);
        Assert.Contains("line 1, row 1, column 'tags': found a nested object", r.Err);
        Assert.Contains("(--drop tags)", r.Err);
        // Left out by --drop or by --features: passed over, the other keys of the line read as usual.
        foreach (var extra in new[] { new[] { "--drop", "tags" }, new[] { "--features", "x" } })
        {
            r = Run(extra);
            Assert.True(r.Code == 0, r.Err);
            Assert.Equal(expected, Directory.GetFiles(tmp.Combine("out", "train")).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).ToArray());
        }
        // A line that is not JSON is still refused in a dropped key.
        var broken = tmp.File("b.jsonl", "{\"y\": 1, \"tags\": [1, 2, \"x\": 1}\n");
        r = CliRunner.Run(["convert", broken, "--out", tmp.Combine("b"), "--quiet", "--label", "y", "--drop", "tags"]);
        Assert.Equal(3, r.Code);
        Assert.Contains("b.jsonl, line 1", r.Err);
    }

    [Fact]
    public async Task Nested_value_after_the_inference_sample_is_rejected()
    {
        var path = Write("nested-late.jsonl", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": [3]}\n");
        var e = await ReadFails(path, new SourceOptions { InferRows = 1 });
        Assert.Contains("line 3", e.Message);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("nested array", e.Message);
    }

    [Fact]
    public async Task Key_first_seen_after_the_inference_sample_is_an_error()
    {
        var path = Write("late-key.jsonl", """
            {"a": 1, "b": "x"}
            {"a": 2}

            {"a": 3, "extra": 4}
            """);
        var e = await ReadFails(path, new SourceOptions { InferRows = 2 });
        Assert.Contains("late-key.jsonl", e.Message);
        Assert.Contains("line 4", e.Message);
        Assert.Contains("'extra'", e.Message);
        Assert.Contains("expected one of the schema's keys: a, b", e.Message);
    }

    [Theory]
    [InlineData("{\"a\": 1,, \"b\": 2}", 9, null)]
    [InlineData("{\"a\": tru}", 10, null)]
    [InlineData("{\"a\": 'x'}", 7, null)]
    [InlineData("{\"a\": 1", 8, "the line ends before the object is closed")]
    [InlineData("{", 2, "the line ends before the object is closed")]
    // Text after a whole object: the reader's words ("… invalid after a single JSON value. Expected end of data.") were
    // read as a cut-off object.
    [InlineData("{\"a\": 1} {\"a\": 2}", 10, "more text follows the object on its line")]
    [InlineData("{\"a\": 1} trailing", 10, "more text follows the object on its line")]
    [InlineData("{\"a\": 1},", 9, "more text follows the object on its line")]
    public async Task Invalid_json_names_file_line_byte_and_cause(string bad, int bytePosition, string? cause)
    {
        var path = Write("invalid.jsonl", "{\"a\": 1}\n\n" + bad + "\n");
        var e = await ReadFails(path);
        Assert.Contains("invalid.jsonl", e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("is not valid JSON", e.Message);
        Assert.Contains($"at byte {bytePosition} of the line", e.Message);
        Assert.Contains("expected one complete JSON object per line", e.Message);
        if (cause is not null) Assert.Contains(cause, e.Message);
        if (cause?.StartsWith("more text", StringComparison.Ordinal) == true) Assert.DoesNotContain("ends before the object is closed", e.Message);
    }

    [Fact]
    public async Task Object_split_over_lines_says_the_line_ends_early()
    {
        var path = Write("pretty.jsonl", "{\"a\": 1,\n \"b\": 2}\n");
        var e = await ReadFails(path);
        Assert.Contains("line 1", e.Message);
        Assert.Contains("the line ends before the object is closed", e.Message);
    }

    [Fact]
    public async Task Gzip_content_without_a_gz_name_is_recognised_by_its_magic_bytes()
    {
        var gz = WriteGz("tmp.gz", "{\"a\": 1}\n");
        var path = Path.Combine(_dir, "compressed.jsonl");
        File.Move(gz, path);
        var batch = await ReadOne(path);
        Assert.Equal([1L], ((Int64Column)batch["a"]).Span.ToArray());
    }

    [Fact]
    public async Task Invalid_json_after_the_inference_sample_is_an_error()
    {
        var path = Write("invalid-late.jsonl", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3\n");
        var e = await ReadFails(path, new SourceOptions { InferRows = 1 });
        Assert.Contains("line 3", e.Message);
        Assert.Contains("is not valid JSON", e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "a JSON array")]
    [InlineData("42", "a JSON number")]
    [InlineData("\"text\"", "a JSON string")]
    public async Task A_line_that_is_not_an_object_is_an_error(string line, string found)
    {
        var path = Write("notobject.jsonl", "{\"a\": 1}\n" + line + "\n");
        var e = await ReadFails(path);
        Assert.Contains("line 2", e.Message);
        Assert.Contains($"found {found}", e.Message);
        Assert.Contains("expected a JSON object", e.Message);
    }

    [Fact]
    public async Task A_pretty_printed_json_array_gets_a_hint()
    {
        var path = Write("array.json", "[\n  {\"a\": 1}\n]\n");
        var e = await ReadFails(path);
        Assert.Contains("line 1", e.Message);
        Assert.Contains("jq -c", e.Message);
    }

    [Fact]
    public async Task Duplicate_key_is_an_error()
    {
        var path = Write("dup.jsonl", "{\"a\": 1, \"b\": 2}\n{\"a\": 1, \"b\": 2, \"a\": 3}\n");
        var e = await ReadFails(path);
        Assert.Contains("dup.jsonl", e.Message);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("key 'a' twice", e.Message);
    }

    [Fact]
    public async Task Duplicate_key_after_the_inference_sample_is_an_error()
    {
        var path = Write("dup-late.jsonl", "{\"a\": 1}\n{\"a\": 1, \"a\": 3}\n");
        var e = await ReadFails(path, new SourceOptions { InferRows = 1 });
        Assert.Contains("line 2", e.Message);
        Assert.Contains("key 'a' twice", e.Message);
    }

    [Fact]
    public async Task Empty_key_is_an_error()
    {
        var path = Write("emptykey.jsonl", "{\"a\": 1, \"\": 2}\n");
        var e = await ReadFails(path);
        Assert.Contains("line 1", e.Message);
        Assert.Contains("empty key", e.Message);
    }

    [Fact]
    public async Task Value_of_the_wrong_type_names_line_column_value_and_fix()
    {
        var path = Write("wrongtype.jsonl", """
            {"n": 1, "s": "a"}
            {"n": 2, "s": "b"}

            {"n": "abc", "s": "c"}
            """);
        var e = await ReadFails(path, new SourceOptions { InferRows = 2 });
        Assert.Contains("wrongtype.jsonl", e.Message);
        Assert.Contains("line 4", e.Message);
        Assert.Contains("column 'n'", e.Message);
        Assert.Contains("found the string 'abc'", e.Message);
        Assert.Contains("expected an integer", e.Message);
        Assert.Contains("Int64", e.Message);
        Assert.Contains("--column-type n=string", e.Message);
        Assert.Equal(4, e.Line);
        Assert.Equal(3, e.Row);
    }

    [Theory]
    [InlineData("1.5", "the number 1.5")]
    [InlineData("true", "the boolean true")]
    public async Task Non_integer_json_values_in_an_Int64_column_are_errors(string value, string found)
    {
        var path = Write("wrongnumber.jsonl", "{\"n\": 1}\n{\"n\": " + value + "}\n");
        var e = await ReadFails(path, new SourceOptions { InferRows = 1 });
        Assert.Contains("line 2", e.Message);
        Assert.Contains($"found {found}", e.Message);
        Assert.Contains("--column-type n=string", e.Message);
    }
}

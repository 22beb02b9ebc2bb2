using System.Text.Json;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Output;

namespace DataPrep.Tests.Pipeline;

/// <summary>Input lists stay lists: every column kept, split by speaker, CSV header in every shard.</summary>
public class ListFormatTests
{
    [Fact]
    public void Utterance_list_split_by_speaker_keeps_every_column_in_json_lines()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("jsonl");
        var r = CliRunner.Run("convert", Paths.SampleData("speech/utterances.csv"), "--out", outDir, "--split", "group", "--group", "speaker_id", "--format", "jsonl", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var speakers = new Dictionary<string, string>();
        int rows = 0;
        foreach (var split in new[] { "train", "validation", "test" })
        {
            foreach (var line in File.ReadLines(Path.Combine(outDir, split, "part-00000.jsonl")))
            {
                using var doc = JsonDocument.Parse(line);
                var o = doc.RootElement;
                Assert.Equal(["path", "speaker_id", "transcript", "duration_s", "label"], o.EnumerateObject().Select(p => p.Name));
                Assert.StartsWith("audio/", o.GetProperty("path").GetString());
                var speaker = o.GetProperty("speaker_id").GetString()!;
                Assert.Equal(speakers.GetValueOrDefault(speaker, split), split);   // no speaker in two splits
                speakers[speaker] = split;
                rows++;
            }
        }
        Assert.Equal(5000, rows);
        Assert.Equal(1000, speakers.Count);
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")));
        Assert.Equal("application/jsonlines", run.RootElement.GetProperty("contentType").GetString());
    }

    [Fact]
    public void Csv_with_header_repeats_the_header_in_every_shard_and_quotes_text()
    {
        using var tmp = new TempDir();
        var input = tmp.File("list.csv", "path,speaker,text\na.wav,s1,\"hello, world\"\nb.wav,s2,plain\nc.wav,s3,\"say \"\"hi\"\"\"\n");
        var outDir = tmp.Combine("csv");
        var r = CliRunner.Run("convert", input, "--out", outDir, "--format", "csv-header", "--split", "100/0/0", "--no-shuffle", "--shard-rows", "2", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["path,speaker,text", "a.wav,s1,\"hello, world\"", "b.wav,s2,plain"], File.ReadAllLines(Path.Combine(outDir, "train", "part-00000.csv")));
        Assert.Equal(["path,speaker,text", "c.wav,s3,\"say \"\"hi\"\"\""], File.ReadAllLines(Path.Combine(outDir, "train", "part-00001.csv")));
    }

    private static RecordBatch Mixed()
    {
        var schema = new Schema([new Field("name, \"q\"", ColumnKind.String), new Field("n", ColumnKind.Int64), new Field("x", ColumnKind.Float64), new Field("ok", ColumnKind.Boolean)]);
        var ids = new long[] { 1, 2, 3 };
        return new RecordBatch(schema,
        [
            new StringColumn(["a,b", "line\nbreak \"q\" caf\u00e9", null]),
            new Int64Column([1, -2, long.MaxValue]),
            new Float64Column([0.1, double.NaN, 1e21]),
            new BooleanColumn([true, false, true]),
        ], 3, new RowInfo(ids, new int[3], ids));
    }

    private static string Text(FormattedChunk chunk) => System.Text.Encoding.UTF8.GetString(chunk.Data, 0, chunk.Length);

    [Fact]
    public void Csv_rows_are_rfc_4180_with_lf_and_each_record_hashed_without_its_line_break()
    {
        var format = new HeaderCsvFormat();
        var batch = Mixed();
        Assert.Equal("\"name, \"\"q\"\"\",n,x,ok\n", System.Text.Encoding.UTF8.GetString(format.FileHeader(batch.Schema)));
        var chunk = format.Format(batch, 0, 3);
        var text = Text(chunk);
        Assert.Equal("\"a,b\",1,0.1,true\n\"line\nbreak \"\"q\"\" caf\u00e9\",-2,,false\n,9223372036854775807,1E+21,true\n", text);
        int from = 0;
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(System.IO.Hashing.XxHash3.HashToUInt64(chunk.Data.AsSpan(from, chunk.RecordEnds[k] - 1 - from)), chunk.Hashes[k]);
            from = chunk.RecordEnds[k];
        }
        Assert.Equal(chunk.Length, chunk.RecordEnds[^1]);
    }

    [Fact]
    public void A_single_empty_csv_field_is_written_quoted_so_the_row_is_not_a_blank_line()
    {
        var batch = new RecordBatch(new Schema([new Field("note", ColumnKind.String)]), [new StringColumn(["x", null, ""])], 3, RowInfo.Sequential(0, 0, 3));
        Assert.Equal("x\n\"\"\n\"\"\n", Text(new HeaderCsvFormat().Format(batch, 0, 3)));
    }

    [Fact]
    public void Json_lines_escape_strings_and_parse_back()
    {
        var chunk = new JsonLinesFormat().Format(Mixed(), 0, 3);
        var lines = Text(chunk).Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("", lines[3]);
        var rows = lines[..3].Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal("line\nbreak \"q\" caf\u00e9", rows[1].GetProperty("name, \"q\"").GetString());
        Assert.Equal(JsonValueKind.Null, rows[2].GetProperty("name, \"q\"").ValueKind);
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("x").ValueKind); // NaN is missing, as in the CSV
        Assert.Equal(1e21, rows[2].GetProperty("x").GetDouble());
        Assert.Equal(long.MaxValue, rows[2].GetProperty("n").GetInt64());
        Assert.False(rows[1].GetProperty("ok").GetBoolean());
        Assert.Equal(chunk.Length, chunk.RecordEnds[^1]);
    }
}

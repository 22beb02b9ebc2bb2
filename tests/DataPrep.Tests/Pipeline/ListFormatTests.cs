using System.Text.Json;

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
}

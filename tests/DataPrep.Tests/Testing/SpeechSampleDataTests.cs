using DataPrep.Testing;

namespace DataPrep.Tests.Testing;

/// <summary>
/// sample-data/speech holds what its README promises, and a group split of it through the real CLI passes
/// the leakage assertions (checked on the lineage sidecars).
/// </summary>
public class SpeechSampleDataTests
{
    private sealed record Row(string Path, string Speaker, string Transcript, string Duration, string Label, string? NoiseDb);

    private static List<Row> Read(string name, bool noisy = false)
    {
        var lines = File.ReadAllLines(Paths.SampleData(Path.Combine("speech", name)));
        Assert.Equal(noisy ? "path,speaker_id,transcript,duration_s,label,noise_db" : "path,speaker_id,transcript,duration_s,label", lines[0]);
        return lines.Skip(1).Select(l => l.Split(',')).Select(f => new Row(f[0], f[1], f[2], f[3], f[4], noisy ? f[5] : null)).ToList();
    }

    [Fact]
    public void Utterances_are_five_per_speaker_for_1000_speakers_with_one_accent_each()
    {
        var rows = Read("utterances.csv");
        Assert.Equal(5000, rows.Count);
        Assert.All(rows.GroupBy(r => r.Speaker), g => Assert.Equal(5, g.Count()));
        Assert.Equal(1000, rows.Select(r => r.Speaker).Distinct().Count());
        Assert.All(rows.GroupBy(r => r.Speaker), g => Assert.Single(g.Select(r => r.Label).Distinct()));
        Assert.All(rows, r => Assert.Equal($"audio/{r.Speaker}/utt", r.Path[..(r.Path.LastIndexOf('/') + 4)]));
        Assert.True(new FileInfo(Paths.SampleData("speech/utterances.csv")).Length < 500_000);
    }

    [Fact]
    public void Clean_and_noisy_share_400_speakers_but_no_utterance()
    {
        var clean = Read("clean.csv");
        var noisy = Read("noisy.csv", noisy: true);
        var cleanSpeakers = clean.Select(r => r.Speaker).ToHashSet();
        var noisySpeakers = noisy.Select(r => r.Speaker).ToHashSet();
        Assert.Equal(300, cleanSpeakers.Except(noisySpeakers).Count());
        Assert.Equal(300, noisySpeakers.Except(cleanSpeakers).Count());
        Assert.Equal(400, cleanSpeakers.Intersect(noisySpeakers).Count());

        // Disjoint utterances: no recording (speaker + utterance number) in both files.
        static string Utterance(Row r) => r.Speaker + "/" + r.Path[(r.Path.LastIndexOf('/') + 1)..];
        Leakage.NoDuplicateContent([("clean", clean.Select(Utterance)), ("noisy", noisy.Select(Utterance))]);

        // The speakers are the ones of utterances.csv, with the same accents.
        var accent = Read("utterances.csv").GroupBy(r => r.Speaker).ToDictionary(g => g.Key, g => g.First().Label);
        Assert.All(clean.Concat(noisy), r => Assert.Equal(accent[r.Speaker], r.Label));
        Assert.All(noisy, r => Assert.InRange(double.Parse(r.NoiseDb!, System.Globalization.CultureInfo.InvariantCulture), 0, 20));
    }

    [Fact]
    public void A_group_split_of_the_utterances_through_the_CLI_keeps_speakers_apart()
    {
        using var tmp = new TempDir();
        var output = tmp.Combine("speech");
        var r = CliRunner.Run("convert", Paths.SampleData("speech/utterances.csv"), "--out", output, "--label", "label",
            "--split", "group", "--group", "speaker_id", "--drop", "path,transcript,speaker_id", "--quiet");
        Assert.True(r.Code == 0, r.Err + r.Out);

        var lineage = new[] { "train", "validation", "test" }.Select(split =>
        {
            var lines = File.ReadAllLines(Path.Combine(output, "_dataprep", "lineage", split + ".csv"));
            var header = lines[0].Split(',');
            int id = Array.IndexOf(header, "row_id"), group = Array.IndexOf(header, "group");
            var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
            return (Name: split, Ids: rows.Select(f => long.Parse(f[id], System.Globalization.CultureInfo.InvariantCulture)).ToList(), Groups: rows.Select(f => f[group]).ToList());
        }).ToList();

        // Row ids of a single CSV input are its records' 1-based byte positions (no quoted line breaks here: one a line).
        var text = File.ReadAllBytes(Paths.SampleData("speech/utterances.csv"));
        var ids = Enumerable.Range(0, text.Length - 1).Where(i => text[i] == (byte)'\n').Select(i => (long)i + 2).ToList();
        Assert.Equal(5000, ids.Count);
        Leakage.IsPartition(ids, lineage.Select(s => (s.Name, (IEnumerable<long>)s.Ids)));
        Leakage.NoGroupOverlap(lineage.Select(s => (s.Name, (IEnumerable<string>)s.Groups)));
    }
}

using DataPrep.Data;
using DataPrep.Images;

namespace DataPrep.Tests.Images;

/// <summary>Input lists (CSV, TSV, JSON Lines) are read by CsvHelper and System.Text.Json: quoting and escapes as those formats define them.</summary>
public class ImageListTests
{
    private static TempDir WithImages(params string[] names)
    {
        var dir = new TempDir();
        foreach (var name in names)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir.Combine(name))!);
            File.WriteAllBytes(dir.Combine(name), ImageTestData.PngPattern(2, 2));
        }
        return dir;
    }

    private static List<string?> Column(ImageInput input, string name)
        => [.. ((StringColumn)input.Batch.Columns[input.Batch.Schema.IndexOf(name)]).Values];

    [Fact]
    public void Csv_quoted_fields_keep_commas_quotes_and_line_breaks_and_records_keep_their_start_lines()
    {
        using var dir = WithImages("a, b.png", "c.png", "d.png");
        var list = dir.File("list.csv",
            "path,label,note\r\n"
            + "\"a, b.png\",cat,\"said \"\"hi\"\", twice\"\r\n"
            + "\r\n"
            + "c.png,\"dog;cat\",\"two\nlines\"\r\n"
            + "d.png,dog,\n");
        var input = ImageInputs.ReadList(list);
        Assert.Equal(["a, b.png", "c.png", "d.png"], input.Entries.Select(e => e.RelativePath));
        Assert.Equal([2L, 4L, 6L], input.Entries.Select(e => e.Line));
        Assert.Equal(["cat", "dog"], input.Classes);
        Assert.Equal([[0f], [1f, 0f], [1f]], input.Entries.Select(e => e.Labels));
        Assert.Equal(new List<string?> { "said \"hi\", twice", "two\nlines", null }, Column(input, "note"));
    }

    [Fact]
    public void Tsv_lists_split_at_tabs_only()
    {
        using var dir = WithImages("x,1.png", "y.png");
        var list = dir.File("list.tsv", "path\tlabel\nx,1.png\t3\ny.png\t\"1;2\"\n");
        var input = ImageInputs.ReadList(list);
        Assert.Equal(["x,1.png", "y.png"], input.Entries.Select(e => e.RelativePath));
        Assert.Null(input.Classes);
        Assert.Equal([[3f], [1f, 2f]], input.Entries.Select(e => e.Labels));
    }

    [Fact]
    public void A_json_array_in_a_csv_label_cell_is_parsed_as_json()
    {
        using var dir = WithImages("a.png", "b.png");
        var list = dir.File("list.csv", "path,label\na.png,\"[\"\"x,y\"\", \"\"z\"\"]\"\nb.png,[1]\n");
        var input = ImageInputs.ReadList(list);
        Assert.Equal(["1", "x,y", "z"], input.Classes);
        Assert.Equal([[1f, 2f], [0f]], input.Entries.Select(e => e.Labels));
    }

    [Fact]
    public void Bracketed_text_that_is_not_json_names_file_line_column_and_cause()
    {
        using var dir = WithImages("a.png");
        var list = dir.File("list.csv", "path,label\na.png,\"[cat, dog]\"\n");
        var e = Assert.Throws<DataFormatException>(() => ImageInputs.ReadList(list));
        Assert.Equal((list, 2L, "label"), (e.File, e.Line, e.Column));
        Assert.StartsWith($"{list}, line 2, column 'label': found '[cat, dog]', which is not a JSON array (", e.Message);
        Assert.EndsWith("expected a JSON array of labels such as [1,3] or [\"cat\",\"dog\"], or labels separated by ';'", e.Message);
    }

    [Fact]
    public void A_csv_row_with_the_wrong_field_count_names_its_line()
    {
        using var dir = WithImages("a.png", "b.png");
        var list = dir.File("list.csv", "path,label\na.png,1\n\"b\nc.png\",1,extra\n");
        var e = Assert.Throws<DataFormatException>(() => ImageInputs.ReadList(list));
        Assert.Equal($"{list}, line 3: found 3 fields; expected 2 as in the header (path, label)", e.Message);
    }

    [Fact]
    public void Json_lines_unescape_strings_and_keep_array_items_whole()
    {
        using var dir = WithImages("caf\u00e9/1.png", "b.png");
        var list = dir.File("list.jsonl",
            "{\"path\":\"caf\\u00e9/1.png\",\"label\":[\"x,y\",\"q\\\"uote\"],\"note\":\"tab\\there\"}\n"
            + "\n"
            + "{\"path\":\"b.png\",\"label\":\"z;x,y\",\"note\":null}\n");
        var input = ImageInputs.ReadList(list);
        Assert.Equal(["caf\u00e9/1.png", "b.png"], input.Entries.Select(e => e.RelativePath));
        Assert.Equal([1L, 3L], input.Entries.Select(e => e.Line));
        Assert.Equal(["q\"uote", "x,y", "z"], input.Classes);
        Assert.Equal([[1f, 0f], [2f, 1f]], input.Entries.Select(e => e.Labels));
        Assert.Equal(new List<string?> { "tab\there", null }, Column(input, "note"));
    }

    [Fact]
    public void A_json_line_that_is_not_an_object_names_its_line()
    {
        using var dir = WithImages("a.png");
        var list = dir.File("list.jsonl", "{\"path\":\"a.png\",\"label\":1}\n[1,2]\n");
        var e = Assert.Throws<DataFormatException>(() => ImageInputs.ReadList(list));
        Assert.Equal($"{list}, line 2: found a JSON Array; expected one object per line such as {{\"path\": \"cat/1.jpg\", \"label\": 0}}", e.Message);
    }

    private static List<string[]> ReadCsv(string path)
    {
        using var reader = CsvHelper.CsvReader.FromText(File.ReadAllText(path), CsvHelper.CsvReaderOptions.Default with { Separator = ',', HasHeader = false });
        var rows = new List<string[]>();
        while (reader.Read()) rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)]);
        return rows;
    }

    [Fact]
    public void Lineage_and_quarantine_csv_quote_awkward_names_and_groups_so_they_read_back()
    {
        using var dir = WithImages("a, \"b\".png", "c.png");
        File.WriteAllText(dir.Combine("bad, \"x\".png"), "junk");
        var list = dir.File("list.csv", "path,label,grp\n\"a, \"\"b\"\".png\",0,\"g,1 \"\"q\"\"\"\nc.png,1,g2\n\"bad, \"\"x\"\".png\",1,g3\n");
        var output = dir.Combine("out");
        var r = CliRunner.Run("convert", list, "--out", output, "--format", "augmented-manifest", "--group", "grp", "--split", "group", "--train", "1", "--validation", "0", "--test", "0", "--on-bad-image", "quarantine", "-q");
        Assert.True(r.Code == 0, r.Err);
        var lineage = ReadCsv(Path.Combine(output, "_dataprep", "lineage", "train.csv"));
        Assert.Equal(["row_id", "source", "source_row", "shard", "record", "content_hash", "group", "image", "operation", "source_row_id", "output"], lineage[0]);
        var first = lineage.Single(l => l[7] == "a, \"b\".png");
        Assert.Equal(("g,1 \"q\"", "original", "images/train/a, \"b\".png"), (first[6], first[8], first[10]));
        Assert.Equal(3, lineage.Count);
        var quarantine = ReadCsv(Path.Combine(output, "_dataprep", "quarantine", "images.csv"));
        Assert.Equal(["image", "line", "problem"], quarantine[0]);
        Assert.Equal(("bad, \"x\".png", "4"), (quarantine[1][0], quarantine[1][1]));
        Assert.StartsWith("not an image format", quarantine[1][2]);
        var manifest = File.ReadAllLines(Path.Combine(output, "train", "train.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Contains(manifest, m => m.GetProperty("source-ref").GetString()!.EndsWith("/images/train/a,%20%22b%22.png", StringComparison.Ordinal) && m.GetProperty("class").GetString() == "0");
    }
}

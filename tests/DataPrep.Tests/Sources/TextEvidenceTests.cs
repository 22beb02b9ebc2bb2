using System.Text;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Tests.Sources;

/// <summary>
/// A column of numbers that a few words in its first rows made text ("N/A", "?", "1,5") is refused as a feature with the
/// first such value, its file, line and row, how many values were numbers, and --null-values when the word may mark a
/// missing value (it holds no digit); the same for a column of dates, and in JSON Lines for a string among numbers or
/// numbers written as strings; a column of words keeps the plain message. One process, workers and a source that adopted another's
/// opening say the same.
/// </summary>
public class TextEvidenceTests
{
    private static CliRunner.Result Convert(TempDir tmp, string[] inputs, params string[] extra)
        => CliRunner.Run(["convert", .. inputs, "--out", tmp.Combine("out"), "--quiet", "--label", "y", "--split", "100/0/0", "--no-shuffle", .. extra]);

    private static string Numbers(int rows, string? word = null, int at = 0)
    {
        var sb = new StringBuilder("y,x,z\n");
        for (int i = 1; i <= rows; i++) sb.Append(i % 2).Append(',').Append(i == at ? word : i + ".5").Append(",w").Append(i).Append('\n');
        return sb.ToString();
    }

    [Fact]
    public void A_word_among_numbers_is_named_with_its_line_row_and_the_null_values_way_out()
    {
        using var tmp = new TempDir();
        var input = tmp.File("na.csv", Numbers(60, "N/A", 51));
        var r = Convert(tmp, [input], "--drop", "z");
        Assert.Equal(2, r.Code);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        Assert.Contains($"Feature 'x' holds text ({input}, line 52, row 51 holds 'N/A', though 59 of the 60 values of the first rows are numbers; if 'N/A' marks a missing value, add --null-values N/A)", r.Err);
        Assert.Contains("--encode x=onehot", r.Err);
        // The way out the message names: the word is then a missing value, which --missing decides.
        r = Convert(tmp, [input], "--drop", "z", "--null-values", "N/A");
        Assert.Equal(3, r.Code);
        Assert.Contains("line 52, row 51, column 'x': found a missing value (empty or NaN, or one of --null-values)", r.Err);
        r = Convert(tmp, [input], "--drop", "z", "--null-values", "N/A", "--missing", "drop");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(59, Directory.GetFiles(tmp.Combine("out", "train")).SelectMany(File.ReadAllLines).Count());
    }

    [Theory]
    [InlineData("\uFEFF3.5", "\\uFEFF3.5")]
    [InlineData("3\u00005", "3\\u00005")]
    [InlineData("\u00A03.5", "\\u00A03.5")]
    [InlineData("3.5\u200B", "3.5\\u200B")]
    public void A_value_made_text_by_a_character_a_terminal_does_not_show_is_named_with_that_character_escaped(string value, string shown)
    {
        // A byte-order mark inside the file, a NUL byte, a no-break space or a zero-width space: the message showed '3.5'.
        using var tmp = new TempDir();
        var input = tmp.File("hidden.csv", Numbers(60, value, 51));
        var r = Convert(tmp, [input], "--drop", "z");
        Assert.Equal(2, r.Code);
        Assert.Contains($"Feature 'x' holds text ({input}, line 52, row 51 holds '{shown}', though 59 of the 60 values of the first rows are numbers)", r.Err);
    }

    [Theory]
    [InlineData("N/A", "'N/A'")]
    [InlineData("a\tb\r\nc", "'a\\tb\\r\\nc'")]
    [InlineData("\u0001\u007F\u0085\u2028\u2029\u202E\u2060", "'\\u0001\\u007F\\u0085\\u2028\\u2029\\u202E\\u2060'")]
    [InlineData("é ü 中 😀 a b", "'é ü 中 😀 a b'")]
    [InlineData("0123456789\u00000123456789", "'0123456789\\u00000123…'")]
    public void Quoted_text_shows_every_character_a_terminal_would_not(string text, string quoted)
        => Assert.Equal(quoted, DataPrep.Throw.Quote(text, max: 15));

    [Fact]
    public void A_decimal_comma_is_named_without_the_null_values_advice_and_words_keep_the_plain_message()
    {
        using var tmp = new TempDir();
        var input = tmp.File("comma.csv", "y,x,z\n1,2.5,a\n0,\"1,5\",b\n1,3,c\n");
        var r = Convert(tmp, [input]);
        Assert.Equal(2, r.Code);
        Assert.Contains($"Feature 'x' holds text ({input}, line 3, row 2 holds '1,5', though 2 of the 3 values of the first rows are numbers)", r.Err);
        Assert.DoesNotContain("--null-values", r.Err);
        // z is all words: it is plainly text.
        Assert.Contains("Feature 'z' holds text, and features must be numeric.", r.Err);
    }

    [Fact]
    public void A_column_of_dates_made_text_is_named_by_its_first_value_that_is_not_a_timestamp()
    {
        using var tmp = new TempDir();
        var typo = tmp.File("typo.csv", "y,t\n1,2024-01-01\n0,2024-13-01\n1,2024-02-01T10:00:00Z\n");
        var r = Convert(tmp, [typo], "--timestamps", "epoch");
        Assert.Equal(2, r.Code);
        // A value with digits is no missing-value marker: no --null-values advice.
        Assert.Contains($"Feature 't' holds text ({typo}, line 3, row 2 holds '2024-13-01', though 2 of the 3 values of the first rows are timestamps)", r.Err);
        var unknown = tmp.File("unknown.csv", "y,t\n1,2024-01-01\n0,unknown\n1,2024-02-01\n");
        r = Convert(tmp, [unknown], "--timestamps", "epoch");
        Assert.Contains($"({unknown}, line 3, row 2 holds 'unknown', though 2 of the 3 values of the first rows are timestamps; if 'unknown' marks a missing value, add --null-values unknown)", r.Err);
    }

    [Fact]
    public void Another_input_that_makes_the_column_text_is_named()
    {
        using var tmp = new TempDir();
        var first = tmp.File("a.csv", Numbers(5));
        var second = tmp.File("b.csv", Numbers(5, "?", 4));
        var r = Convert(tmp, [first, second], "--drop", "z");
        Assert.Equal(2, r.Code);
        Assert.Contains($"Feature 'x' holds text ({second}, line 5, row 4 holds '?', though 4 of the 5 values", r.Err);
    }

    [Fact]
    public async Task Workers_and_an_adopted_opening_say_what_one_process_says()
    {
        using var tmp = new TempDir();
        var input = tmp.File("na.csv", Numbers(60, "-", 7));
        var one = Convert(tmp, [input], "--drop", "z");
        Assert.Equal(2, one.Code);
        Assert.Contains("line 8, row 7 holds '-'", one.Err);
        var many = Convert(tmp, [input], "--drop", "z", "--workers", "2");
        Assert.True(many.Code == 2, many.Err);
        Assert.Equal(one.Err.TrimEnd('\n'), many.Err.Split('\n')[0]);

        var opened = new CsvSource(input, new SourceOptions());
        var schema = await opened.OpenAsync();
        var adopter = new CsvSource(input, new SourceOptions());
        Assert.True(adopter.TryAdopt(opened.OpenedState));
        var adopted = await adopter.OpenAsync();
        Assert.NotNull(schema[1].KindEvidence);
        Assert.Equal(schema.Fields.Select(f => f.KindEvidence), adopted.Fields.Select(f => f.KindEvidence));
        Assert.Null(schema[2].KindEvidence);
    }

    [Fact]
    public void Json_lines_name_a_boolean_among_numbers()
    {
        // A JSON true among numbers makes the column text too; the message said only "holds text".
        using var tmp = new TempDir();
        var sb = new StringBuilder();
        for (int i = 1; i <= 30; i++) sb.Append("{\"y\": ").Append(i % 2).Append(", \"x\": ").Append(i == 7 ? "true" : i + ".5").Append("}\n");
        var input = tmp.File("bool.jsonl", sb.ToString());
        var r = Convert(tmp, [input]);
        Assert.Equal(2, r.Code);
        Assert.Contains($"Feature 'x' holds text ({input}, line 7, row 7 holds the boolean true, though 29 of the 30 values of the first rows are JSON numbers)", r.Err);
        Assert.DoesNotContain("--null-values", r.Err);
    }

    [Fact]
    public async Task Json_lines_name_a_string_among_numbers_and_numbers_written_as_strings()
    {
        using var tmp = new TempDir();
        var sb = new StringBuilder();
        for (int i = 1; i <= 20; i++) sb.Append("{\"y\": ").Append(i % 2).Append(", \"x\": ").Append(i).Append(".5, \"w\": \"w").Append(i).Append("\"}\n");
        sb.Append("{\"y\": 1, \"x\": \"N/A\", \"w\": \"v\"}\n");
        var input = tmp.File("na.jsonl", sb.ToString());
        var one = Convert(tmp, [input], "--drop", "w");
        Assert.Equal(2, one.Code);
        Assert.Contains($"Feature 'x' holds text ({input}, line 21, row 21 holds the string 'N/A', though 20 of the 21 values of the first rows are JSON numbers; if 'N/A' marks a missing value, add --null-values N/A)", one.Err);
        var many = Convert(tmp, [input], "--drop", "w", "--workers", "2");
        Assert.Equal(one.Err.TrimEnd('\n'), many.Err.Split('\n')[0]);
        var r = Convert(tmp, [input], "--drop", "w", "--null-values", "N/A", "--missing", "drop", "--overwrite");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(20, Directory.GetFiles(tmp.Combine("out", "train")).SelectMany(File.ReadAllLines).Count());
        // A column of words keeps the plain message.
        r = Convert(tmp, [input], "--drop", "x");
        Assert.Contains("Feature 'w' holds text, and features must be numeric.", r.Err);

        var opened = new JsonLinesSource(input, new SourceOptions());
        var schema = await opened.OpenAsync();
        var adopter = new JsonLinesSource(input, new SourceOptions());
        Assert.True(adopter.TryAdopt(opened.OpenedState));
        Assert.Equal(schema.Fields.Select(f => f.KindEvidence), (await adopter.OpenAsync()).Fields.Select(f => f.KindEvidence));

        var quoted = tmp.File("q.jsonl", "{\"y\": 1, \"x\": \"1.5\"}\n\n{\"y\": 0, \"x\": \"2\"}\n");
        r = Convert(tmp, [quoted]);
        Assert.Contains($"Feature 'x' holds text ({quoted}, line 1, row 1 holds the string '1.5': every value of the first rows is a number written as a JSON string; --column-type x=float reads them as numbers)", r.Err);
        r = Convert(tmp, [quoted], "--column-type", "x=float", "--overwrite");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,1.5", "0,2"], Directory.GetFiles(tmp.Combine("out", "train")).SelectMany(File.ReadAllLines).ToArray());
    }

    [Fact]
    public async Task A_column_set_to_text_by_the_user_carries_no_evidence()
    {
        using var tmp = new TempDir();
        var input = tmp.File("na.csv", Numbers(10, "N/A", 3));
        var source = new CsvSource(input, new SourceOptions { ColumnTypes = new Dictionary<string, DataPrep.Data.ColumnKind> { ["x"] = DataPrep.Data.ColumnKind.String } });
        var schema = await source.OpenAsync();
        Assert.Null(schema[1].KindEvidence);
        Assert.Equal(new DataPrep.Data.Field("x", DataPrep.Data.ColumnKind.String) { KindEvidence = "anything" }, schema[1]);
    }
}

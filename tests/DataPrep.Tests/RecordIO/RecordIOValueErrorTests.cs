using DataPrep.Tests.S3;

namespace DataPrep.Tests.RecordIO;

/// <summary>A value a RecordIO tensor cannot hold names its input, line, data row and column, whatever batch holds its row.</summary>
[Trait(NativePass.Name, NativePass.Value)]
public class RecordIOValueErrorTests
{
    [Theory]
    [InlineData("1e39", "", "b", "does not fit a float32 tensor")]
    [InlineData("2.5", "--dtype int32", "b", "does not fit an int32 tensor")]
    [InlineData("1e39", "--dtype float64 --label-dtype float32", "y", "does not fit a float32 tensor")]
    // Both the feature b and the label y are too large: the features are written first, so b (1E+39) is the error.
    [InlineData("1e39", "", "b+y", "found 1E+39, which does not fit a float32 tensor")]
    public void The_error_names_the_input_row_and_column(string value, string options, string column, string problem)
    {
        using var tmp = new TempDir();
        string named = column == "b+y" ? "b" : column;
        var lines = new List<string> { "a,b,y" };
        for (int i = 1; i <= 300; i++)
        {
            string b = column.StartsWith('b') && i == 200 ? value : (i % 7).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string y = column == "y" && i == 200 ? value : column == "b+y" && i == 200 ? "2e39" : (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
            lines.Add($"{i % 5},{b},{y}");
        }
        var input = tmp.File("in.csv", string.Join('\n', lines) + "\n");
        string[] extra = options.Length == 0 ? [] : options.Split(' ');
        string? first = null;
        foreach (var batch in new[] { "65536", "7" })
        {
            var r = CliRunner.Run(["convert", input, "--out", tmp.Combine("out" + batch), "--label", "y", "--format", "recordio-protobuf", "--quiet", "--batch-rows", batch, .. extra]);
            Assert.Equal(3, r.Code);
            // Data row 200 is line 201 (the header is line 1).
            Assert.Contains($"{input}, line 201, row 200, column '{named}': found", r.Err);
            Assert.Contains(problem, r.Err);
            Assert.Equal(first ??= r.Err.Replace(tmp.Combine("out" + batch), "OUT", StringComparison.Ordinal), r.Err.Replace(tmp.Combine("out" + batch), "OUT", StringComparison.Ordinal));
            Assert.False(Directory.Exists(tmp.Combine("out" + batch)));
        }
        // As workers (separate processes): the encode task that meets the row fails the same way, exit 3.
        var scaled = CliProcess.Run(["convert", input, "--out", tmp.Combine("scaled"), "--label", "y", "--format", "recordio-protobuf", "--quiet", "--workers", "2", .. extra]);
        Assert.True(scaled.Code == 3, $"exit {scaled.Code}: {scaled.Err}");
        Assert.Contains($"{input}, ", scaled.Err);
        Assert.Contains($"row 200, column '{named}': found", scaled.Err);
        Assert.Contains(problem, scaled.Err);
        Assert.DoesNotContain("Unhandled exception", scaled.Err);
        Assert.False(Directory.Exists(Path.Combine(tmp.Combine("scaled"), "train")));
    }
}

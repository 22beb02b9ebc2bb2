using DataPrep.Audit;

namespace DataPrep.Tests.Audit;

/// <summary>Lineage sidecars are read by CsvHelper: RFC 4180 group keys, and errors that name file, line, column and value.</summary>
public class LineageTableTests
{
    private const string Header = "row_id,source,source_row,shard,record,content_hash,group,time\r\n";

    [Fact]
    public void Quoted_group_keys_keep_commas_quotes_and_line_breaks_and_lines_count_them()
    {
        using var tmp = new TempDir();
        var path = tmp.File("train.csv",
            "\uFEFF" + Header
            + "1,0,1,0,0,00000000000000aa,\"a,b\",2024-01-01T00:00:00Z\r\n"
            + "2,0,2,0,1,00000000000000AB,\"say \"\"hi\"\"\nthere\",\r\n"
            + "\r\n"
            + "3,1,7,1,0,ffffffffffffffff,,2024-01-02\r\n"
            + "4,1,8,1,1,0000000000000001,x,bad time\n");
        var e = Assert.Throws<DataFormatException>(() => LineageTable.Load(path, CancellationToken.None));
        Assert.Equal($"{path}, line 7, column 'time': time 'bad time' is not an ISO 8601 instant", e.Message);

        File.WriteAllText(path, File.ReadAllText(path).Replace(",x,bad time\n", ",x,2024-01-03T12:00:00+02:00\n"));
        var t = LineageTable.Load(path, CancellationToken.None);
        Assert.Equal([1L, 2L, 3L, 4L], t.RowIds);
        Assert.Equal([0, 0, 1, 1], t.Sources);
        Assert.Equal([1L, 2L, 7L, 8L], t.SourceRows);
        Assert.Equal([0xaaUL, 0xabUL, ulong.MaxValue, 1UL], t.Hashes);
        Assert.Equal(new List<string?> { "a,b", "say \"hi\"\nthere", null, "x" }, t.Groups);
        Assert.Equal([new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks, long.MinValue, new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Utc).Ticks, new DateTime(2024, 1, 3, 10, 0, 0, DateTimeKind.Utc).Ticks], t.Times!);
    }

    [Theory]
    [InlineData("", "{0}: is empty; expected a lineage header row_id,source,source_row,shard,record,content_hash")]
    [InlineData("row_id,source,record\n", "{0}, line 1: is not a DataPrep lineage sidecar: its header (row_id,source,record) lacks source_row, shard, content_hash")]
    [InlineData("row_id,source,source_row,shard,record,content_hash\n1,0,1,0,0\n", "{0}, line 2: has 5 fields; expected 6 (row_id,source,source_row,shard,record,content_hash)")]
    [InlineData("row_id,source,source_row,shard,record,content_hash\n1,0,1,0,0,00aa\n", "{0}, line 2, column 'content_hash': content_hash '00aa' is not 16 hex digits")]
    [InlineData("row_id,source,source_row,shard,record,content_hash\n1,0,-1,0,0,00000000000000aa\n", "{0}, line 2, column 'source_row': source_row '-1' is not a non-negative integer")]
    public void Bad_sidecars_name_file_line_column_and_value(string text, string expected)
    {
        using var tmp = new TempDir();
        var path = tmp.File("test.csv", text);
        var e = Assert.Throws<DataFormatException>(() => LineageTable.Load(path, CancellationToken.None));
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, path), e.Message);
    }
}

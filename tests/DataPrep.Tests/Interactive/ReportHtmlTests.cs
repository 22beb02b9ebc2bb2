using System.Text.RegularExpressions;
using System.Xml.Linq;
using DataPrep.Audit;
using DataPrep.Fluent;
using DataPrep.Interactive;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Interactive;

public class ReportHtmlTests
{
    private static RunReport Sample()
    {
        var r = new RunReport { RowsRead = 1000, Seconds = 1.5, Output = "out/<x>", ContentType = "text/csv" };
        r.Splits["test"] = new SplitReport { Rows = 100, TargetFraction = 0.1, Fraction = 0.1, TimeFrom = "2025-03-01T00:00:00Z", TimeTo = "2025-03-31T00:00:00Z", Groups = 7, LabelDistribution = new() { ["0"] = 60, ["1"] = 40 }, Shards = { new ShardRecord("test/part-00000.csv", 100, 2048, "ab") } };
        r.Splits["train"] = new SplitReport { Rows = 800, TargetFraction = 0.8, Fraction = 0.8, TimeFrom = "2025-01-01T00:00:00Z", TimeTo = "2025-02-20T00:00:00Z", Groups = 50, LabelDistribution = new() { ["0"] = 600, ["1"] = 200 }, Shards = { new ShardRecord("train/part-00000.csv", 500, 10_000, "cd"), new ShardRecord("train/part-00001.csv", 300, 6000, "ef") } };
        r.Splits["validation"] = new SplitReport { Rows = 100, TargetFraction = 0.1, Fraction = 0.1, TimeFrom = "2025-02-27T00:00:00Z", TimeTo = "2025-02-28T00:00:00Z", Groups = 6, LabelDistribution = new() { ["0"] = 70, ["1"] = 30 }, Shards = { new ShardRecord("validation/part-00000.csv", 100, 2000, "gh") } };
        r.Dropped["rows inside the gap"] = 12;
        r.Warnings.Add("label <b> unseen");
        r.Encoding = new DataPrep.Pipeline.EncodingRecord { Label = new DataPrep.Pipeline.LabelRecord { Name = "churn", Classes = ["no", "yes"] } };
        return r;
    }

    [Fact]
    public void Run_report_html_is_a_split_table_in_split_order_with_every_column_and_two_charts()
    {
        string html = ReportHtml.Render(Sample());
        var rows = Regex.Matches(html, "<tr><td[^>]*><b>(\\w+)</b></td>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["train", "validation", "test"], rows);
        foreach (var head in new[] { "split", "rows", "fraction", "target", "bytes", "shards", "time range", "groups", "labels" })
        {
            Assert.Contains($">{head}</th>", html);
        }
        Assert.Contains(">800</td>", html);
        Assert.Contains(">0.8000</td>", html);
        Assert.Contains(">15.6 KiB</td>", html);                       // 10,000 + 6,000 bytes
        Assert.Contains(">2</td>", html);                              // train's two shards
        Assert.Contains("2025-01-01T00:00:00Z … 2025-02-20T00:00:00Z", html);
        Assert.Contains(">0:600 1:200</td>", html);
        // Rows chart: one bar per split, the longest for train.
        var rowsChart = Regex.Match(html, "<svg class=\"dataprep-chart-rows\".*?</svg>").Value;
        var widths = Regex.Matches(rowsChart, "<rect [^>]*width=\"([\\d.]+)\"").Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, widths.Count);
        Assert.Equal(220, widths[0]);
        Assert.Equal(27.5, widths[1]);
        // Label chart: 100 % stacked, train's class 0 takes 75 % of 240 px; legend names the classes.
        var labelChart = Regex.Match(html, "<svg class=\"dataprep-chart-labels\".*?</svg>").Value;
        Assert.Contains("width=\"180\"", labelChart);
        Assert.Contains(">0 (no)</text>", labelChart);
        Assert.Contains(">1 (yes)</text>", labelChart);
        // Text from data is escaped.
        Assert.Contains("out/&lt;x&gt;", html);
        Assert.Contains("label &lt;b&gt; unseen", html);
        Assert.DoesNotContain("<b> unseen", html);
        Assert.Contains("dropped 12 rows: rows inside the gap", html);
    }

    [Fact]
    public void Svg_charts_are_well_formed_xml()
    {
        string html = ReportHtml.Render(Sample());
        foreach (Match svg in Regex.Matches(html, "<svg .*?</svg>"))
        {
            var doc = XDocument.Parse(svg.Value);
            Assert.Equal("svg", doc.Root!.Name.LocalName);
        }
        Assert.Equal(2, Regex.Matches(html, "<svg ").Count);
    }

    [Fact]
    public void Columns_without_data_are_left_out_and_many_label_values_get_no_stacked_chart()
    {
        var r = new RunReport { RowsRead = 10 };
        var dist = new SortedDictionary<string, long>();
        for (int i = 0; i < 30; i++) dist[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = 1;
        r.Splits["train"] = new SplitReport { Rows = 30, TargetFraction = 1, Fraction = 1, LabelDistribution = dist };
        string html = ReportHtml.Render(r);
        Assert.DoesNotContain(">time range</th>", html);
        Assert.DoesNotContain(">groups</th>", html);
        Assert.Contains(">labels</th>", html);
        Assert.DoesNotContain("dataprep-chart-labels", html);         // a regression target: no 30-colour bar
        Assert.Contains("dataprep-chart-rows", html);
    }

    [Fact]
    public void Audit_html_shows_the_status_of_each_check()
    {
        var audit = new AuditReport { Paths = ["out/speech"], SplitMethod = "group by speaker_id" };
        audit.Splits.Add(new AuditSplit { Name = "train", Rows = 80, Groups = 8 });
        audit.Checks.Add(new AuditCheck { Name = AuditChecks.GroupOverlap, Status = AuditStatus.Pass, Message = "8 groups, each in one split" });
        audit.Checks.Add(new AuditCheck { Name = AuditChecks.Duplicates, Status = AuditStatus.Leak, Violations = 3, Message = "3 rows in two splits", Examples = { new AuditExample { Text = "train record 1 = test record 2" } } });
        string html = ReportHtml.Render(audit);
        Assert.Contains("class=\"dataprep-audit\"", html);
        Assert.Matches("<td[^>]*>group-overlap</td><td[^>]*>pass</td>", html);
        Assert.Matches("<td[^>]*>duplicates</td><td[^>]*>LEAK</td><td[^>]*>3</td>", html);
        Assert.Contains("train record 1 = test record 2", html);
        Assert.Contains(">LEAK</span>", html);                         // overall status
    }

    [Fact]
    public void Plain_text_summary_lists_each_split_on_one_line()
    {
        var text = Sample().ToString();
        var lines = text.Split('\n');
        Assert.StartsWith("DataPrep run: 1,000 rows in 1.50 s → out/<x> (text/csv)", lines[0]);
        Assert.StartsWith("  train", lines[1]);
        Assert.Contains("800 rows  0.8000 (target 0.8)  15.6 KiB in 2 shards  time 2025-01-01T00:00:00Z … 2025-02-20T00:00:00Z  50 groups  labels 0:600 1:200", lines[1]);
        Assert.StartsWith("  validation", lines[2]);
        Assert.StartsWith("  test", lines[3]);
        Assert.Contains(lines, l => l == "  label classes (id order): no, yes");
        Assert.Contains(lines, l => l == "  dropped 12 rows: rows inside the gap");
        Assert.Contains(lines, l => l == "  warning: label <b> unseen");
    }

    [Fact]
    public async Task A_real_run_renders_and_notebook_progress_does_nothing_outside_a_notebook()
    {
        using var tmp = new TempDir();
        var progress = NotebookProgress.Create();   // no kernel: a silent progress
        var report = await DataPrepPipeline.Read(Paths.SampleData("churn.csv")).Label("churn").Drop("customer_id").EncodeText(FeatureEncoding.OneHot)
            .SplitRandom(0.8, 0.1, 0.1, stratifyBy: "churn").WriteCsv(tmp.Combine("o")).RunAsync(progress);
        Assert.Contains("write: 2,000 / 2,000 rows (100 %)", progress.Text);
        string html = ReportHtml.Render(report);
        Assert.Contains(">1,600</td>", html);
        Assert.Contains(">0 (no)</text>", html);
    }
}

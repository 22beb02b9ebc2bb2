using System.Globalization;
using System.Net;
using System.Text;
using DataPrep.Audit;
using DataPrep.Inspect;
using DataPrep.Pipeline;

namespace DataPrep.Interactive;

/// <summary>
/// HTML for DataPrep results: a split table (rows, fraction vs target, bytes, shards, time range, groups,
/// label distribution) with inline SVG bar charts (rows per split; label shares per split). Plain HTML and
/// inline styles only, no scripts, so it renders in Jupyter, VS Code Polyglot Notebooks and saved .ipynb files.
/// </summary>
public static class ReportHtml
{
    private static readonly CultureInfo s_c = CultureInfo.InvariantCulture;

    // Colour-blind-safe palette (Okabe–Ito), cycled for label classes.
    private static readonly string[] s_palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"];

    private const string TableStyle = "border-collapse:collapse;font-family:sans-serif;font-size:13px;margin:4px 0";
    private const string Cell = "border:1px solid #ccc;padding:3px 8px;text-align:left";
    private const string NumCell = "border:1px solid #ccc;padding:3px 8px;text-align:right";
    private const string HeadCell = "border:1px solid #ccc;padding:3px 8px;background:#f3f3f3;text-align:left";

    /// <summary>The run report: title line, split table, charts, label classes, drops, fills and warnings.</summary>
    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var splits = RunReportText.OrderedSplits(report).ToList();
        var sb = new StringBuilder();
        sb.Append("<div class=\"dataprep-run\" style=\"font-family:sans-serif\">");
        sb.Append(s_c, $"<div style=\"font-weight:bold;margin:4px 0\">DataPrep run: {report.RowsRead:N0} rows in {report.Seconds:0.00} s → {E(report.Output ?? "")} <span style=\"font-weight:normal;color:#666\">({E(report.ContentType ?? "")})</span></div>");
        if (RunReportText.PhaseLine(report) is { } phases) sb.Append(s_c, $"<div style=\"color:#666;margin:2px 0\">phases: {E(phases)}</div>");
        sb.Append($"<table class=\"dataprep-splits\" style=\"{TableStyle}\"><thead><tr>");
        bool time = splits.Any(s => s.Value.TimeFrom is not null || s.Value.TimeTo is not null);
        bool groups = splits.Any(s => s.Value.Groups is not null);
        bool labels = splits.Any(s => s.Value.LabelDistribution is { Count: > 0 } || s.Value.LabelSummary is not null);
        var heads = new List<string> { "split", "rows", "fraction", "target", "bytes", "shards" };
        if (time) heads.Add("time range");
        if (groups) heads.Add("groups");
        if (labels) heads.Add("labels");
        foreach (var h in heads) sb.Append($"<th style=\"{HeadCell}\">{h}</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var (name, s) in splits)
        {
            sb.Append("<tr>");
            sb.Append($"<td style=\"{Cell}\"><b>{E(name)}</b></td>");
            sb.Append($"<td style=\"{NumCell}\">{E(RunReportText.RowsText(s))}</td>");
            sb.Append(s_c, $"<td style=\"{NumCell}\">{s.Fraction:0.0000}</td>");
            sb.Append(s_c, $"<td style=\"{NumCell}\">{s.TargetFraction:0.####}</td>");
            sb.Append($"<td style=\"{NumCell}\">{RunReportText.Bytes(s.Bytes)}</td>");
            sb.Append(s_c, $"<td style=\"{NumCell}\">{s.Shards.Count}</td>");
            if (time) sb.Append($"<td style=\"{Cell}\">{E(s.TimeFrom ?? "")} … {E(s.TimeTo ?? "")}</td>");
            if (groups) sb.Append(s_c, $"<td style=\"{NumCell}\">{(s.Groups is { } g ? g.ToString("N0", s_c) : "")}</td>");
            if (labels) sb.Append($"<td style=\"{Cell}\">{E(RunReportText.LabelText(s))}</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (splits.Count > 0)
        {
            sb.Append("<div style=\"display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start\">");
            sb.Append(RowsChart(splits.Select(kv => (kv.Key, kv.Value.Rows)).ToList()));
            if (labels) sb.Append(LabelChart(splits, report.Encoding?.Label?.Classes));
            sb.Append("</div>");
        }
        if (report.Encoding?.Label?.Classes is { Count: > 0 } classes)
        {
            sb.Append("<div style=\"font-size:13px\">label classes (id order): ").Append(E(string.Join(", ", classes.Take(20)))).Append(classes.Count > 20 ? ", …" : "").Append("</div>");
        }
        var notes = report.Dropped.Select(kv => string.Create(s_c, $"dropped {kv.Value:N0} rows: {kv.Key}"))
            .Concat(RunReportText.BadRowLines(report))
            .Concat(report.Filled.Select(kv => string.Create(s_c, $"filled {kv.Value:N0} missing values in '{kv.Key}'")))
            .Concat(report.Warnings.Select(w => "warning: " + w)).ToList();
        if (notes.Count > 0)
        {
            sb.Append("<ul style=\"font-size:13px;margin:4px 0\">");
            foreach (var n in notes) sb.Append("<li>").Append(E(n)).Append("</li>");
            sb.Append("</ul>");
        }
        sb.Append("</div>");
        return sb.ToString();
    }

    /// <summary>One split as a small table.</summary>
    public static string Render(SplitReport split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var r = new RunReport { RowsRead = split.Rows };
        r.Splits["split"] = split;
        return Render(r);
    }

    /// <summary>An audit: overall status, the splits read, and each check with its status and message.</summary>
    public static string Render(AuditReport audit)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var sb = new StringBuilder();
        var (colour, word) = Status(audit.Status);
        sb.Append("<div class=\"dataprep-audit\" style=\"font-family:sans-serif\">");
        sb.Append($"<div style=\"margin:4px 0\"><b>DataPrep audit</b> of {E(string.Join(", ", audit.Paths))}: <span style=\"color:#fff;background:{colour};padding:1px 6px;border-radius:3px\">{word}</span>");
        if (audit.SplitMethod is not null) sb.Append($" <span style=\"color:#666\">({E(audit.SplitMethod)} split)</span>");
        sb.Append("</div>");
        if (audit.Splits.Count > 0)
        {
            bool groups = audit.Splits.Any(s => s.Groups is not null), time = audit.Splits.Any(s => s.TimeFrom is not null);
            sb.Append($"<table class=\"dataprep-audit-splits\" style=\"{TableStyle}\"><thead><tr><th style=\"{HeadCell}\">split</th><th style=\"{HeadCell}\">rows</th><th style=\"{HeadCell}\">files</th>");
            if (groups) sb.Append($"<th style=\"{HeadCell}\">groups</th>");
            if (time) sb.Append($"<th style=\"{HeadCell}\">time range</th>");
            sb.Append("</tr></thead><tbody>");
            foreach (var s in audit.Splits)
            {
                sb.Append(s_c, $"<tr><td style=\"{Cell}\"><b>{E(s.Name)}</b></td><td style=\"{NumCell}\">{s.Rows:N0}</td><td style=\"{NumCell}\">{s.Files.Count}</td>");
                if (groups) sb.Append(s_c, $"<td style=\"{NumCell}\">{(s.Groups is { } g ? g.ToString("N0", s_c) : "")}</td>");
                if (time) sb.Append($"<td style=\"{Cell}\">{E(s.TimeFrom ?? "")} … {E(s.TimeTo ?? "")}</td>");
                sb.Append("</tr>");
            }
            sb.Append("</tbody></table>");
        }
        sb.Append($"<table class=\"dataprep-audit-checks\" style=\"{TableStyle}\"><thead><tr><th style=\"{HeadCell}\">check</th><th style=\"{HeadCell}\">status</th><th style=\"{HeadCell}\">violations</th><th style=\"{HeadCell}\">finding</th></tr></thead><tbody>");
        foreach (var c in audit.Checks)
        {
            var (cc, cw) = Status(c.Status);
            sb.Append(s_c, $"<tr><td style=\"{Cell}\">{E(c.Name)}</td><td style=\"{Cell};color:{cc};font-weight:bold\">{cw}</td><td style=\"{NumCell}\">{c.Violations:N0}</td><td style=\"{Cell}\">{E(c.Message)}");
            foreach (var ex in c.Examples.Take(3)) sb.Append("<br/><span style=\"color:#666\">").Append(E(ex.Text)).Append("</span>");
            sb.Append("</td></tr>");
        }
        sb.Append("</tbody></table>");
        foreach (var n in audit.Notes) sb.Append("<div style=\"font-size:12px;color:#666\">").Append(E(n)).Append("</div>");
        sb.Append("</div>");
        return sb.ToString();
    }

    /// <summary>A shard summary (what <c>dataprep inspect --summary</c> prints): format, records, dtypes, layout, width, label counts.</summary>
    public static string Render(ShardSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var sb = new StringBuilder();
        sb.Append("<div class=\"dataprep-shard\" style=\"font-family:sans-serif\">");
        sb.Append($"<div style=\"margin:4px 0\"><b>{E(Path.GetFileName(summary.File))}</b> <span style=\"color:#666\">{E(summary.File)}</span></div>");
        sb.Append($"<table class=\"dataprep-shard-summary\" style=\"{TableStyle}\"><tbody>");
        void Row(string k, string v) => sb.Append($"<tr><th style=\"{HeadCell}\">{E(k)}</th><td style=\"{Cell}\">{E(v)}</td></tr>");
        Row("format", summary.Format.Name());
        Row("records", summary.Records.ToString("N0", s_c));
        if (summary.DType is not null) Row("features dtype", summary.DType);
        if (summary.LabelDType is not null) Row("label dtype", summary.LabelDType);
        if (summary.Layout is not null) Row("layout", summary.Layout);
        Row("feature width", summary.MinFeatureWidth == summary.FeatureWidth ? summary.FeatureWidth.ToString(s_c) : string.Create(s_c, $"{summary.MinFeatureWidth} … {summary.FeatureWidth}"));
        Row("stored values", summary.StoredValues.ToString("N0", s_c));
        if (summary.NaNValues > 0) Row("NaN values", summary.NaNValues.ToString("N0", s_c));
        if (summary.InfiniteValues > 0) Row("infinite values", summary.InfiniteValues.ToString("N0", s_c));
        Row("labeled records", summary.LabeledRecords.ToString("N0", s_c));
        if (summary.UidRecords > 0) Row("records with uid", summary.UidRecords.ToString("N0", s_c));
        if (summary.MetadataRecords > 0) Row("records with metadata", summary.MetadataRecords.ToString("N0", s_c));
        sb.Append("</tbody></table>");
        if (summary.LabelCounts.Count > 0)
        {
            sb.Append(Bars("records per label", summary.LabelCounts.Select(kv => (kv.Key, kv.Value)).ToList(), "dataprep-chart-labels"));
        }
        foreach (var w in summary.Warnings) sb.Append("<div style=\"font-size:12px;color:#a60\">warning: ").Append(E(w)).Append("</div>");
        sb.Append("</div>");
        return sb.ToString();
    }

    /// <summary>Horizontal SVG bars of rows per split.</summary>
    internal static string RowsChart(IReadOnlyList<(string Name, long Rows)> splits) => Bars("rows per split", splits, "dataprep-chart-rows");

    private static string Bars(string title, IReadOnlyList<(string Name, long Value)> items, string cssClass)
    {
        const int labelW = 90, barW = 220, rowH = 18, top = 20;
        long max = Math.Max(1, items.Count == 0 ? 1 : items.Max(i => i.Value));
        int h = top + items.Count * rowH + 4, w = labelW + barW + 70;
        var sb = new StringBuilder();
        sb.Append(s_c, $"<svg class=\"{cssClass}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{E(title)}\" style=\"font-family:sans-serif;font-size:12px\">");
        sb.Append(s_c, $"<text x=\"0\" y=\"13\" font-weight=\"bold\">{E(title)}</text>");
        for (int i = 0; i < items.Count; i++)
        {
            var (name, value) = items[i];
            int y = top + i * rowH;
            double bw = barW * (double)value / max;
            sb.Append(s_c, $"<text x=\"{labelW - 6}\" y=\"{y + 12}\" text-anchor=\"end\">{E(name)}</text>");
            sb.Append(s_c, $"<rect x=\"{labelW}\" y=\"{y + 2}\" width=\"{bw:0.#}\" height=\"{rowH - 5}\" fill=\"{s_palette[0]}\"><title>{E(name)}: {value:N0}</title></rect>");
            sb.Append(s_c, $"<text x=\"{labelW + bw + 4:0.#}\" y=\"{y + 12}\">{value:N0}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>One 100 % stacked bar per split: the share of each label value, with a legend.</summary>
    private static string LabelChart(IReadOnlyList<KeyValuePair<string, SplitReport>> splits, IReadOnlyList<string>? classNames)
    {
        const int labelW = 90, barW = 240, rowH = 18, top = 20;
        var keys = splits.SelectMany(s => s.Value.LabelDistribution?.Keys ?? Enumerable.Empty<string>()).Distinct().ToList();
        // Regression targets have many distinct values: a stacked bar says nothing then.
        if (keys.Count > 12) return "";
        keys.Sort((a, b) => double.TryParse(a, NumberStyles.Float, s_c, out var x) && double.TryParse(b, NumberStyles.Float, s_c, out var y) ? x.CompareTo(y) : string.CompareOrdinal(a, b));
        string Name(string key) => classNames is not null && int.TryParse(key, NumberStyles.Integer, s_c, out int id) && id >= 0 && id < classNames.Count ? $"{key} ({classNames[id]})" : key;
        int legendRows = keys.Count;
        int h = top + splits.Count * rowH + 8 + legendRows * 15, w = labelW + barW + 20;
        var sb = new StringBuilder();
        sb.Append(s_c, $"<svg class=\"dataprep-chart-labels\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"label distribution per split\" style=\"font-family:sans-serif;font-size:12px\">");
        sb.Append("<text x=\"0\" y=\"13\" font-weight=\"bold\">label distribution per split</text>");
        for (int i = 0; i < splits.Count; i++)
        {
            var (name, s) = splits[i];
            int y = top + i * rowH;
            sb.Append(s_c, $"<text x=\"{labelW - 6}\" y=\"{y + 12}\" text-anchor=\"end\">{E(name)}</text>");
            long total = s.LabelDistribution?.Values.Sum() ?? 0;
            double x = labelW;
            if (total == 0) continue;
            for (int k = 0; k < keys.Count; k++)
            {
                long n = s.LabelDistribution!.GetValueOrDefault(keys[k]);
                if (n == 0) continue;
                double bw = barW * (double)n / total;
                sb.Append(s_c, $"<rect x=\"{x:0.##}\" y=\"{y + 2}\" width=\"{bw:0.##}\" height=\"{rowH - 5}\" fill=\"{s_palette[k % s_palette.Length]}\"><title>{E(name)} · {E(Name(keys[k]))}: {n:N0} ({100.0 * n / total:0.0} %)</title></rect>");
                x += bw;
            }
        }
        int ly = top + splits.Count * rowH + 8;
        for (int k = 0; k < keys.Count; k++)
        {
            sb.Append(s_c, $"<rect x=\"{labelW}\" y=\"{ly + k * 15}\" width=\"10\" height=\"10\" fill=\"{s_palette[k % s_palette.Length]}\"/>");
            sb.Append(s_c, $"<text x=\"{labelW + 14}\" y=\"{ly + k * 15 + 9}\">{E(Name(keys[k]))}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static (string Colour, string Word) Status(AuditStatus s) => s switch
    {
        AuditStatus.Pass => ("#2e7d32", "pass"),
        AuditStatus.Leak => ("#c62828", "LEAK"),
        AuditStatus.Fail => ("#c62828", "FAIL"),
        AuditStatus.Warning => ("#a66300", "warning"),
        _ => ("#757575", "skipped"),
    };

    private static string E(string text) => WebUtility.HtmlEncode(text);
}

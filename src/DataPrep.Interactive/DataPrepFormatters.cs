using DataPrep.Audit;
using DataPrep.Inspect;
using DataPrep.Pipeline;
using Microsoft.DotNet.Interactive.Formatting;

namespace DataPrep.Interactive;

/// <summary>
/// Registers DataPrep's notebook display: HTML (<see cref="ReportHtml"/>) and plain text for run reports,
/// split reports, audits and shard summaries. Called by the package's <c>extension.dib</c>, which .NET
/// Interactive runs when a notebook references the package; call it yourself in other hosts.
/// </summary>
public static class DataPrepFormatters
{
    private static int s_registered;

    /// <summary>Whether <see cref="Register"/> has run in this process.</summary>
    public static bool IsRegistered => Volatile.Read(ref s_registered) == 1;

    /// <summary>Registers the formatters (idempotent).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 1) return;
        Formatter.Register<RunReport>((r, w) => w.Write(ReportHtml.Render(r)), HtmlFormatter.MimeType);
        Formatter.Register<RunReport>((r, w) => w.Write(RunReportText.Format(r)), PlainTextFormatter.MimeType);
        Formatter.Register<SplitReport>((s, w) => w.Write(ReportHtml.Render(s)), HtmlFormatter.MimeType);
        Formatter.Register<SplitReport>((s, w) => w.Write(s.ToString()), PlainTextFormatter.MimeType);
        Formatter.Register<AuditReport>((a, w) => w.Write(ReportHtml.Render(a)), HtmlFormatter.MimeType);
        Formatter.Register<ShardSummary>((s, w) => w.Write(ReportHtml.Render(s)), HtmlFormatter.MimeType);
    }
}

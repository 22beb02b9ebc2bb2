using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace DataPrep.Micro;

/// <summary>A column computed from a benchmark's mean time per operation (one operation = the whole input file).</summary>
public abstract class PerOperationColumn : IColumn
{
    public abstract string Id { get; }
    public abstract string ColumnName { get; }
    public abstract string Legend { get; }
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;

    /// <summary>The column's value for a mean of <paramref name="meanNanoseconds"/> per operation.</summary>
    protected abstract string Format(double meanNanoseconds);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        => summary[benchmarkCase]?.ResultStatistics is { Mean: > 0 } s ? Format(s.Mean) : "NA";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>Mean nanoseconds per input row.</summary>
public sealed class PerRowColumn(long rows) : PerOperationColumn
{
    public override string Id => "DataPrep.NsPerRow";
    public override string ColumnName => "ns/row";
    public override string Legend => $"Mean time per input row ({rows:N0} rows an operation)";
    protected override string Format(double meanNanoseconds) => (meanNanoseconds / Math.Max(1, rows)).ToString("N1", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The input CSV's megabytes (10^6 bytes) per second of the mean: how fast the stage alone would go through W1's text.</summary>
public sealed class ThroughputColumn(long bytes) : PerOperationColumn
{
    public override string Id => "DataPrep.CsvMBps";
    public override string ColumnName => "CSV MB/s";
    public override string Legend => $"Input CSV megabytes (10^6 bytes; {bytes:N0} bytes an operation) per second of the mean";
    protected override string Format(double meanNanoseconds) => (bytes / meanNanoseconds * 1e3).ToString("N1", System.Globalization.CultureInfo.InvariantCulture);
}

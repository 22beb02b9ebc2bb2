using BenchmarkDotNet.Attributes;
using DataPrep.Sources;

namespace DataPrep.Micro;

/// <summary>The CSV reader: CsvHelper's field scan alone, and CsvSource's whole read into column buffers.</summary>
[MemoryDiagnoser]
public class CsvBenchmarks
{
    private MicroInput _input = null!;

    /// <summary>The input CSV; null: the one <see cref="MicroInput.EnvironmentVariable"/> names.</summary>
    public string? InputPath { get; set; }

    [GlobalSetup]
    public void Setup() => _input = MicroInput.Load(InputPath ?? MicroInput.PathFromEnvironment());

    /// <summary>
    /// Finds every field of every record (CsvHelper's SIMD scan, with CsvSource's reader options) and touches its span;
    /// no number is parsed. Returns the fields' total length.
    /// </summary>
    [Benchmark]
    public long FieldScan()
    {
        long total = 0;
        using var reader = MicroInput.CreateReader(new MemoryStream(_input.Bytes, writable: false));
        reader.ReadHeader();
        while (reader.Read())
        {
            for (int c = 0; c < reader.FieldCount; c++) total += reader.GetSpan(c).Length;
        }
        return total;
    }

    /// <summary>
    /// <see cref="CsvSource"/> on one thread, as convert reads W1 for CSV output: scan, parse every number into column
    /// buffers, keep each row's text (the file is in the page cache). Returns the batch.
    /// </summary>
    [Benchmark]
    public Data.RecordBatch ReadColumns() => MicroInput.ReadBatch(_input.Path, threads: 1);
}

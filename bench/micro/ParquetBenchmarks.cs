using BenchmarkDotNet.Attributes;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using Parquet;
using Parquet.Schema;

namespace DataPrep.Micro;

/// <summary>
/// <see cref="ParquetSource"/> decoding the input's rows from a Parquet file (label INT64, f0..f49 DOUBLE, snappy, one
/// row group: how DuckDB or pandas would store W1), on one thread, into column buffers.
/// </summary>
[MemoryDiagnoser]
public class ParquetBenchmarks
{
    private string _parquet = "";
    private string _folder = "";

    /// <summary>The input CSV; null: the one <see cref="MicroInput.EnvironmentVariable"/> names.</summary>
    public string? InputPath { get; set; }

    /// <summary>The Parquet file the benchmark decodes (written in the setup from the CSV's batch).</summary>
    public string ParquetPath => _parquet;

    [GlobalSetup]
    public void Setup()
    {
        var input = MicroInput.Load(InputPath ?? MicroInput.PathFromEnvironment());
        _folder = Directory.CreateTempSubdirectory("dataprep-micro-").FullName;
        _parquet = Path.Combine(_folder, "numeric.parquet");
        Write(input.Batch, _parquet);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_folder.Length > 0 && Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Decodes the file (footer, snappy pages, every column) into one batch. Returns the batch.</summary>
    [Benchmark]
    public RecordBatch Decode()
    {
        var source = new ParquetSource(_parquet, new SourceOptions { Threads = 1, BatchRows = 1 << 20 });
        RecordBatch? batch = null;
        var reading = source.ReadAsync(0).GetAsyncEnumerator();
        try
        {
            while (reading.MoveNextAsync().AsTask().GetAwaiter().GetResult()) batch = reading.Current;
        }
        finally
        {
            reading.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return batch!;
    }

    /// <summary>Writes the batch's columns (Int64 and Float64, no missing values) as one snappy row group.</summary>
    private static void Write(RecordBatch batch, string path)
    {
        var fields = batch.Schema.Fields.Select(f => f.Kind == ColumnKind.Int64 ? (DataField)new DataField<long>(f.Name) : new DataField<double>(f.Name)).ToArray();
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema(fields), stream, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }).GetAwaiter().GetResult();
        using (var group = writer.CreateRowGroup())
        {
            for (int c = 0; c < fields.Length; c++)
            {
                if (batch.Columns[c] is Int64Column l) group.WriteAsync<long>(fields[c], l.Values.AsMemory(0, batch.RowCount)).GetAwaiter().GetResult();
                else group.WriteAsync<double>(fields[c], ((Float64Column)batch.Columns[c]).Values.AsMemory(0, batch.RowCount)).GetAwaiter().GetResult();
            }
        }
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}

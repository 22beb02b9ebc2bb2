using BenchmarkDotNet.Attributes;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.RecordIO;

namespace DataPrep.Micro;

/// <summary>The output formats' encoders on the input's batch: label-first CSV (kept text copied, or every number formatted) and RecordIO-protobuf.</summary>
[MemoryDiagnoser]
public class OutputBenchmarks
{
    private MicroInput _input = null!;
    private RecordBatch _withText = null!;
    private RecordBatch _withoutText = null!;
    private readonly LabelFirstCsvFormat _csv = new(hasLabel: true);
    private readonly RecordIOProtobufFormat _recordIO = new(hasLabel: true);

    /// <summary>The input CSV; null: the one <see cref="MicroInput.EnvironmentVariable"/> names.</summary>
    public string? InputPath { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = MicroInput.Load(InputPath ?? MicroInput.PathFromEnvironment());
        _withText = _input.Batch;
        _withoutText = _input.BatchWithoutText;
    }

    /// <summary>Label-first CSV of W1 as convert writes it: every row's kept input text copied, each record hashed (lineage).</summary>
    [Benchmark]
    public FormattedChunk CsvCopyKeptText() => _csv.Format(_withText, 0, _withText.RowCount);

    /// <summary>Label-first CSV with every number formatted (rows that kept no text: other sources, encoded columns).</summary>
    [Benchmark]
    public FormattedChunk CsvFormatNumbers() => _csv.Format(_withoutText, 0, _withoutText.RowCount);

    /// <summary>RecordIO-protobuf (float32 features and label, cflag 0), each record hashed, as <c>--format recordio-protobuf</c> writes it.</summary>
    [Benchmark]
    public FormattedChunk RecordIOProtobufEncode() => _recordIO.Format(_withoutText, 0, _withoutText.RowCount);
}

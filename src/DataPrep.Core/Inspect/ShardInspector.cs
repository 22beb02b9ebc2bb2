using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsvHelper;
using DataPrep.Data;
using DataPrep.RecordIO;
using DataPrep.Sources;
using DataPrep.Pipeline;

namespace DataPrep.Inspect;

/// <summary>
/// Reads training shards of the core's output formats (RecordIO-protobuf, LibSVM, label-first CSV; plain or .gz) into
/// one record shape, to look at them and to summarize them. The format is found from the content, not the name.
/// Parquet shards are recognised, but read by the Parquet output format's reader (DataPrep.Parquet), which a
/// registry offers as <see cref="Formats.OutputFormatDefinition.Reader"/>.
/// </summary>
public static class ShardInspector
{
    /// <summary>How many bytes <see cref="DetectFormat(string, InputFiles)"/> looks at.</summary>
    private const int SniffBytes = 64 * 1024;

    /// <summary>
    /// Finds the format of a shard from its content: RecordIO when it starts with the magic word, Parquet when it starts
    /// with <c>PAR1</c>, otherwise text — LibSVM when lines hold <c>index:value</c> tokens, label-first CSV otherwise.
    /// Gzip is decompressed first.
    /// </summary>
    /// <exception cref="DataFormatException">The file cannot be opened, or is binary but neither RecordIO nor Parquet.</exception>
    public static ShardFormat DetectFormat(string path, InputFiles? files = null)
    {
        var head = new byte[SniffBytes];
        int n;
        bool complete;
        using (var stream = (files ?? InputFiles.Local).Open(path))
        {
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            complete = n < head.Length;
        }
        return DetectFormat(head.AsSpan(0, n), complete, path);
    }

    /// <summary>Finds the format from the first bytes of a shard (see <see cref="DetectFormat(string, InputFiles)"/>).</summary>
    /// <param name="head">The first bytes (decompressed).</param>
    /// <param name="complete">Whether <paramref name="head"/> is the whole file (its last line is complete).</param>
    /// <param name="path">The file, for messages.</param>
    /// <exception cref="DataFormatException">The content is binary but neither RecordIO nor Parquet, or is JSON Lines.</exception>
    public static ShardFormat DetectFormat(ReadOnlySpan<byte> head, bool complete, string? path = null)
    {
        if (head.Length == 0) return ShardFormat.Empty;
        if (head.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == RecordIOFraming.Magic) return ShardFormat.RecordIOProtobuf;
        if (head.StartsWith("PAR1"u8)) return ShardFormat.Parquet;
        if (head.IndexOf((byte)0) >= 0)
        {
            var first = string.Join(" ", head[..Math.Min(4, head.Length)].ToArray().Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
            throw Throw.Format(
                $"is neither RecordIO-protobuf, Parquet nor text: it starts with bytes {first}, not the RecordIO magic word 0A 23 D7 CE or Parquet's PAR1, and holds NUL bytes, which CSV and LibSVM never do; expected a RecordIO-protobuf, Parquet, LibSVM or label-first CSV shard",
                path);
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) head = head[3..];
        if (!complete)
        {
            // Look at whole lines only: the last one may be cut.
            int last = head.LastIndexOf((byte)'\n');
            if (last >= 0) head = head[..last];
        }
        var text = Encoding.UTF8.GetString(head);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw;
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            line = line.Trim();
            if (line.Length == 0) continue;
            // A JSON object per line (--format jsonl) keeps the columns as they are: no label-first record to show.
            if (line.StartsWith('{'))
            {
                throw Throw.Format(
                    "is JSON Lines (a JSON object per line, as --format jsonl writes), whose records keep their columns as they are; inspect reads label-first shards (RecordIO-protobuf, Parquet, LibSVM, CSV). Look at JSON Lines with head or jq",
                    path);
            }
            if (line.Contains(',')) return ShardFormat.Csv;
            var tokens = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Skip(1).Any(t => t.Contains(':'))) return ShardFormat.LibSvm;
        }
        // Only single-value lines (a label-only CSV, or LibSVM rows without features): read them as CSV.
        return ShardFormat.Csv;
    }

    /// <summary>
    /// The data files of a run, when <paramref name="path"/> names one: its output folder or <c>s3://</c> prefix holding
    /// <c>_dataprep/run.json</c>, its <c>_dataprep</c> folder, or that run.json (see <see cref="Output.RunLayout.RecordPathOf"/>).
    /// Every split's shards as run.json lists them, in channel order (train, validation, test, data, fold-0, …), under
    /// the run's root; null when the path names no run (a shard, a folder of shards, a pattern).
    /// </summary>
    /// <param name="path">A path or URI as given to <c>dataprep inspect</c>.</param>
    /// <param name="files">How to look for and read the run record (local, or <c>s3://</c> through a registry with DataPrep.S3).</param>
    /// <exception cref="DataFormatException">The run record exists but is not a DataPrep run record.</exception>
    public static IReadOnlyList<string>? RunFiles(string path, InputFiles files)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(files);
        if (InputFiles.NameOf(path).AsSpan().IndexOfAny('*', '?') >= 0) return null;
        var record = Output.RunLayout.RecordPathOf(path);
        if (Output.RunLayout.RootOf(record) is not { } root || !files.Exists(record)) return null;
        return Output.RunLayout.DataFiles(RunRecord.Load(record, files), root);
    }

    /// <summary>Streams the records of a shard in file order.</summary>
    /// <param name="path">The shard (plain or .gz).</param>
    /// <param name="options">The format (detected when not set) and how to read text formats.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <exception cref="DataFormatException">
    /// The file is corrupt or not a shard; or a Parquet file, which the Parquet output format's reader reads (a
    /// registry with DataPrep.Parquet offers it: <c>registry.Formats.Get("parquet").Reader</c>).
    /// </exception>
    public static async IAsyncEnumerable<ShardRecord> ReadAsync(string path, InspectOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new InspectOptions();
        var format = options.Format ?? DetectFormat(path, options.Files);
        var records = format switch
        {
            ShardFormat.RecordIOProtobuf => ToAsync(ReadRecordIO(path, options.Files, cancellationToken)),
            ShardFormat.LibSvm => ReadLibSvmAsync(path, options, cancellationToken),
            ShardFormat.Csv => ToAsync(ReadCsv(path, options, cancellationToken)),
            ShardFormat.Parquet => throw Throw.Format(
                "is a Parquet file, which the core does not read; expected a RecordIO-protobuf, LibSVM or label-first CSV shard. Read Parquet shards with the Parquet output format's reader: add the plug-in " + KnownPlugIns.Of("parquet") + " to the registry",
                path),
            _ => ToAsync([]),
        };
        await foreach (var record in records.WithCancellation(cancellationToken).ConfigureAwait(false)) yield return record;
    }

    /// <summary>Reads a whole shard and summarizes it.</summary>
    /// <exception cref="DataFormatException">The file is corrupt or not a shard.</exception>
    public static Task<ShardSummary> SummarizeAsync(string path, InspectOptions? options = null, CancellationToken cancellationToken = default)
        => SummarizeAsync(path, null, options, cancellationToken);

    /// <summary>Reads a whole shard with a format's own reader (e.g. a registry's, for Parquet) and summarizes it.</summary>
    /// <param name="path">The shard.</param>
    /// <param name="reader">The reader for the shard's format, given the format found from the content; null: the core's readers.</param>
    /// <param name="options">How to read.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <exception cref="DataFormatException">The file is corrupt or not a shard.</exception>
    public static async Task<ShardSummary> SummarizeAsync(string path, Func<ShardFormat, IShardReader>? reader, InspectOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new InspectOptions();
        var format = options.Format ?? DetectFormat(path, options.Files);
        var builder = new ShardSummaryBuilder(path, format);
        var records = reader is null ? ReadAsync(path, options with { Format = format }, cancellationToken) : reader(format).ReadAsync(path, options with { Format = format }, cancellationToken);
        await foreach (var record in records.ConfigureAwait(false)) builder.Add(record);
        return builder.Build();
    }

#pragma warning disable CS1998 // an async iterator over synchronous reads
    private static async IAsyncEnumerable<ShardRecord> ToAsync(IEnumerable<ShardRecord> records)
    {
        foreach (var r in records) yield return r;
    }
#pragma warning restore CS1998

    private static IEnumerable<ShardRecord> ReadRecordIO(string path, InputFiles files, CancellationToken cancellationToken)
    {
        using var reader = RecordIOReader.Open(path, files);
        foreach (var framed in reader.ReadAll(cancellationToken))
        {
            var decoded = RecordDecoder.Decode(framed, path);
            var features = decoded.Features ?? decoded.FeatureMap.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).FirstOrDefault();
            var label = decoded.Label ?? decoded.LabelMap.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).FirstOrDefault();
            yield return new ShardRecord
            {
                Index = decoded.Index,
                ByteOffset = decoded.Offset,
                DType = features?.DType ?? TensorDTypes.None,
                Values = features?.Values ?? [],
                Keys = features?.Keys,
                Shape = features?.Shape is { } shape && features.IsSparse ? shape : [],
                Label = label?.Values,
                LabelDType = label?.DType,
                Uid = decoded.Uid,
                Metadata = decoded.Metadata,
            };
        }
    }

    private static async IAsyncEnumerable<ShardRecord> ReadLibSvmAsync(string path, InspectOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = new LibSvmSource(path, new SourceOptions { BatchRows = 4096, Files = options.Files }, new LibSvmOptions(options.ZeroBased));
        await source.OpenAsync(cancellationToken).ConfigureAwait(false);
        long index = 0;
        await foreach (var batch in source.ReadAsync(0, cancellationToken).ConfigureAwait(false))
        {
            var labels = batch.Columns[0];
            var features = (SparseColumn)batch.Columns[1];
            ulong[] shape = [(ulong)features.Width];
            for (int r = 0; r < batch.RowCount; r++)
            {
                int from = features.RowOffsets[r], to = features.RowOffsets[r + 1];
                var keys = new ulong[to - from];
                for (int j = 0; j < keys.Length; j++) keys[j] = (ulong)features.Indices[from + j];
                double label = labels switch
                {
                    Int64Column l => l.Values[r],
                    Float64Column d => d.Values[r],
                    _ => double.NaN,
                };
                yield return new ShardRecord
                {
                    Index = index++,
                    DType = ShardRecord.TextDType,
                    Values = features.Values.AsSpan(from, to - from).ToArray(),
                    Keys = keys,
                    Shape = shape,
                    Label = [label],
                    LabelDType = ShardRecord.TextDType,
                };
            }
        }
    }

    /// <summary>
    /// Label-first CSV shards: no header, ',' only, a record per line (a stray quote cannot run on into the next
    /// lines), whitespace around values (inside quotes too) ignored as number parsing ignores it.
    /// </summary>
    private static readonly CsvReaderOptions s_shardCsv = CsvReaderOptions.Default with
    {
        Separator = ',',
        HasHeader = false,
        DetectSeparatorHint = false,
        AllowLineBreaksInQuotes = false,
        SkipEmptyLines = true,
        TrimWhitespace = true,
        TrimInsideQuotes = true,
        FieldCountMismatch = CsvFieldCountHandling.Allow,
        TrackLineNumbers = true,
    };

    private static IEnumerable<ShardRecord> ReadCsv(string path, InspectOptions options, CancellationToken cancellationToken)
    {
        using var reader = CsvReader.Create(options.Files.Open(path), s_shardCsv, leaveOpen: false);
        long index = 0;
        while (Read(reader, path))
        {
            if ((reader.RowNumber & 4095) == 0) cancellationToken.ThrowIfCancellationRequested();
            if (reader.FieldCount == 1 && reader.GetSpan(0).IsEmpty && IsBlank(reader.RawRecord)) continue;
            var numbers = new double[reader.FieldCount];
            for (int i = 0; i < numbers.Length; i++) numbers[i] = ParseField(reader, i, index == 0, options.NoLabel, path);
            bool hasLabel = !options.NoLabel;
            yield return new ShardRecord
            {
                Index = index++,
                Line = reader.LineNumber,
                DType = ShardRecord.TextDType,
                Values = hasLabel ? numbers[1..] : numbers,
                Label = hasLabel ? [numbers[0]] : null,
                LabelDType = hasLabel ? ShardRecord.TextDType : null,
            };
        }
    }

    private static bool Read(CsvReader reader, string path)
    {
        try
        {
            return reader.Read();
        }
        catch (CsvFormatException e)
        {
            throw Throw.Format($"malformed CSV ({e.Message.TrimEnd('.')}); expected a label-first CSV shard", path, e.LineNumber, inner: e);
        }
    }

    /// <summary>A line of only whitespace (skipped, as an empty line is).</summary>
    private static bool IsBlank(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8).AsSpan().IsWhiteSpace();

    private static double ParseField(CsvReader reader, int position, bool firstRecord, bool noLabel, string path)
    {
        var span = reader.GetSpan(position);
        if (double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        string what = position == 0 && !noLabel ? "the label (field 1)" : $"field {position + 1}";
        if (span.IsEmpty)
        {
            throw Throw.Format($"found an empty field as {what}; expected a number, because label-first CSV shards have no missing values", path, reader.LineNumber);
        }
        var field = reader.GetRawSpan(position);
        string hint = field.Contains((byte)':')
            ? "; this looks like LibSVM ('label index:value …'): read it with --format libsvm"
            : firstRecord
                ? "; this looks like a header row, but label-first CSV shards have none"
                : "";
        throw Throw.Format($"found {Throw.Quote(field)} as {what} in {Throw.Quote(reader.RawRecord, 60)}; expected a number (invariant culture, '.' as decimal point){hint}", path, reader.LineNumber);
    }
}

using System.Buffers.Binary;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Output;
using DataPrep.Pipeline;
using Parquet;

namespace DataPrep.Formats;

/// <summary>
/// Parquet in a scaled-out run (<c>--workers</c>). The encode step formats each row as a record of its output values,
/// 8 little-endian bytes a column (INT64, or a DOUBLE's bits), so every record is <see cref="ParquetColumns.RowBytes"/>
/// long and the shard rule sees the places <see cref="ParquetChannelWriter"/> sees; the channel's header names the
/// columns. The write step decodes the records of a shard back into row groups of
/// <see cref="ParquetFormatDefinition.RowGroupRows"/> rows from the shard's start, as the one-process writer cuts them,
/// so the files are byte for byte the same.
/// </summary>
internal sealed class ParquetWorkerFormat(ConvertOptions options, EncodingRecord? encoding) : WorkerFormat(new ParquetRecords(encoding))
{
    /// <inheritdoc />
    /// <remarks>Parquet's limits apply to its rows' uncompressed widths, less a file's footer (see <see cref="ParquetFormatDefinition.ShardsFor"/>).</remarks>
    public override ShardRule RuleFor(ConvertOptions options, string channel, long records, long bytes, long maxRecord, byte[] header)
    {
        ArgumentNullException.ThrowIfNull(options);
        var columns = ParquetColumns.FromHeader(header);
        return ShardRule.For(ParquetFormatDefinition.ShardsFor(options, columns.Columns.Count), channel, records, bytes, maxRecord);
    }

    /// <inheritdoc />
    public override async ValueTask<Stream> OpenShardAsync(Stream target, byte[] header, bool gzip, CancellationToken cancellationToken)
    {
        var columns = ParquetColumns.FromHeader(header);
        var file = await ParquetWriter.CreateAsync(columns.Parquet, target, ParquetFormatDefinition.WriterOptions(), append: false, cancellationToken).ConfigureAwait(false);
        return new ShardStream(file, columns, ParquetFormatDefinition.RowGroupRows(options, columns.Columns.Count));
    }

    /// <summary>Rows as records of 8-byte values; the header is the output columns (<see cref="ParquetColumns.ToHeader"/>).</summary>
    private sealed class ParquetRecords(EncodingRecord? encoding) : IRecordFormat
    {
        private ParquetColumns? _columns;

        public string Extension => ParquetFormatDefinition.FileExtension;

        public string ContentType => ParquetFormatDefinition.ContentType;

        public void Validate(Schema schema, bool hasLabel) => ParquetColumns.Validate(schema);

        public byte[] FileHeader(Schema schema) => Columns(schema).ToHeader();

        private ParquetColumns Columns(Schema schema)
        {
            var columns = Volatile.Read(ref _columns);
            if (columns is not null && columns.BatchSchema.Equals(schema)) return columns;
            columns = ParquetColumns.Create(schema, encoding);
            Volatile.Write(ref _columns, columns);
            return columns;
        }

        public FormattedChunk Format(RecordBatch batch, int start, int count)
        {
            ParquetSink.CheckNoMissing(batch, inputs: null);
            var columns = Columns(batch.Schema);
            var rows = new ParquetRowBuffer(columns, Math.Max(1, count));
            rows.Append(batch, start, count, hashes: null, 0);
            int width = columns.RowBytes;
            var data = new byte[count * width];
            rows.CopyRowsTo(data);
            var ends = new int[count];
            for (int k = 0; k < count; k++) ends[k] = (k + 1) * width;
            // Lineage content hashes: the row as label-first CSV writes it, as the one-process sink hashes it.
            var hashes = ParquetContentHashes.Of(batch, start, count);
            return new FormattedChunk(data, data.Length, ends, hashes);
        }

        public FormatInfo Describe(Schema schema, bool withLabel) => new(ContentType, Columns(schema).Columns.Count - (withLabel ? 1 : 0), Sparse: false, Dtype: null, LabelDtype: null);
    }

    /// <summary>One shard being written: records arrive as bytes, whole row groups go to the file, the footer at the end.</summary>
    private sealed class ShardStream(ParquetWriter file, ParquetColumns columns, int rowGroupRows) : WriteOnlyForwardStream
    {
        private readonly ParquetRowBuffer _rows = new(columns, rowGroupRows);
        private readonly byte[] _row = new byte[columns.RowBytes];
        private int _partial;
        private bool _done;

        public override void Flush() { }

        public override void Write(ReadOnlySpan<byte> buffer) => throw new NotSupportedException("Write the records asynchronously.");

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, _row.Length - _partial);
                buffer.Span[..n].CopyTo(_row.AsSpan(_partial));
                _partial += n;
                buffer = buffer[n..];
                if (_partial < _row.Length) continue;
                _partial = 0;
                _rows.AppendRow(_row);
                if (_rows.Count == rowGroupRows) await FlushRowGroupAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private async ValueTask FlushRowGroupAsync(CancellationToken cancellationToken)
        {
            await _rows.WriteRowGroupAsync(file, cancellationToken).ConfigureAwait(false);
            _rows.Clear();
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_done)
            {
                _done = true;
                if (_partial != 0) throw new InvalidOperationException($"A Parquet shard ended inside a row ({_partial} of {_row.Length} bytes).");
                if (_rows.Count > 0) await FlushRowGroupAsync(CancellationToken.None).ConfigureAwait(false);
                await file.DisposeAsync().ConfigureAwait(false); // the footer
            }
            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_done) DisposeAsync().AsTask().GetAwaiter().GetResult();
            base.Dispose(disposing);
        }
    }
}

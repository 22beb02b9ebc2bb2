using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;
using Parquet;

namespace DataPrep.Formats;

/// <summary>
/// Writes one channel (train, validation, test, data or fold-k) as Parquet shards <c>&lt;channel&gt;/part-NNNNN.parquet</c>
/// plus its lineage sidecar. Rows are buffered up to one row group, which is written when full, so at most one row
/// group per channel is held in memory. Every decision (row group and shard boundaries) depends only on row counts,
/// the options and the rows' places, never on how rows arrived in batches or on bytes written.
/// </summary>
/// <remarks>
/// Every row's shard comes from <see cref="ShardRule"/>, as in the other formats, a row counting its uncompressed width
/// (<see cref="ParquetColumns.RowBytes"/>) and a size limit lowered by a file's overhead
/// (<see cref="ParquetFormatDefinition.ShardsFor"/>); row groups start at a shard's first row and end where the rule
/// starts the next shard. A pure rule, so the workers of a scaled-out run cut the same files (see docs/decisions.md,
/// "Parquet as workers"). A shard count (<c>--shards</c>, <c>--instances</c>) depends on the channel's size, which is
/// known only at the end: the row groups then go to a spill file first and are written through at the commit.
/// </remarks>
internal sealed class ParquetChannelWriter
{
    /// <summary>Lineage columns, as every format writes them (see <see cref="ShardedSink"/>).</summary>

    private readonly string _name;
    private readonly IOutputStore _store;
    private readonly ParquetColumns _columns;
    private readonly ShardOptions _shards;
    private readonly int _rowGroupRows;
    private readonly bool _hasGroups;
    private readonly bool _hasTimes;
    private readonly ParquetRowBuffer _buffer;
    private readonly SplitReport _report = new();
    private Stream? _lineageStream;
    private int _target;

    // Spilled mode (--shards, --instances): row groups go to a spill file until the channel's size is known.
    private readonly string? _spillPath;
    private FileStream? _spillStream;
    private BinaryWriter? _spill;

    // The shard of each row (size and row limits from the start; --shards and --instances once the spill is complete);
    // null while spilling. _rows: the channel's rows, once known (the rule's records end there).
    private ShardRule? _rule;
    private long _rows = long.MaxValue;

    // The open shard.
    private ParquetWriter? _file;
    private Sha256WriteStream? _hashing;
    private string? _path;
    private int _shard = -1;
    private long _shardRows;
    private long _written;

    /// <summary>Creates the writer of one channel; nothing is created in the store until rows are written.</summary>
    /// <param name="name">The channel.</param>
    /// <param name="store">Where shards and lineage go.</param>
    /// <param name="columns">The shards' columns.</param>
    /// <param name="shards">Shard limits.</param>
    /// <param name="rowGroupRows">Rows per row group (the last one of a shard may have fewer).</param>
    /// <param name="lineage">Whether to write the lineage sidecar.</param>
    /// <param name="spillPath">A temp file for the spilled mode (shard count known only at the end); null to stream.</param>
    /// <param name="first">The channel's first rows: whether the run carries group keys and times (lineage columns).</param>
    public ParquetChannelWriter(string name, IOutputStore store, ParquetColumns columns, ShardOptions shards, int rowGroupRows, bool lineage, string? spillPath, RowInfo first)
    {
        _name = name;
        _store = store;
        _columns = columns;
        _shards = shards;
        _rowGroupRows = rowGroupRows;
        _spillPath = spillPath;
        _hasGroups = first.GroupKeys is not null;
        _hasTimes = first.Times is not null;
        _buffer = new ParquetRowBuffer(columns, rowGroupRows);
        Lineage = lineage;
        if (spillPath is null) _rule = ShardRule.For(shards, name);
    }

    /// <summary>Whether a lineage sidecar is written.</summary>
    public bool Lineage { get; }

    /// <summary>The label distribution of the channel (null without a label).</summary>
    public LabelTally? Labels { get; init; }

    /// <summary>Appends rows [<paramref name="start"/>, +<paramref name="count"/>) of a batch (see <see cref="ParquetRowBuffer.Append(RecordBatch, int, int, ulong[], int)"/>).</summary>
    public async ValueTask AppendAsync(RecordBatch batch, int start, int count, ulong[]? hashes, int hashOffset, CancellationToken cancellationToken)
    {
        if (_lineageStream is null && Lineage) await OpenLineageAsync(cancellationToken).ConfigureAwait(false);
        while (count > 0)
        {
            if (_buffer.Count == 0) await BeginRowGroupAsync().ConfigureAwait(false);
            int n = Math.Min(count, _target - _buffer.Count);
            _buffer.Append(batch, start, n, hashes, hashOffset);
            start += n;
            hashOffset += n;
            count -= n;
            if (_buffer.Count == _target) await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes what is left, closes the last shard and the lineage, and returns the channel's files and rows.</summary>
    public async Task<SplitReport> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_spillPath is not null) await WriteSpilledAsync(cancellationToken).ConfigureAwait(false);
        if (_buffer.Count > 0) await FlushAsync(cancellationToken).ConfigureAwait(false);
        await CloseShardAsync().ConfigureAwait(false);
        if (_lineageStream is not null)
        {
            await _lineageStream.DisposeAsync().ConfigureAwait(false);
            _lineageStream = null;
            _report.Lineage = RunLayout.LineagePath(_name);
        }
        _report.Rows = _written;
        return _report;
    }

    /// <summary>Closes every open file without finishing it (the store removes them).</summary>
    public async ValueTask StopAsync()
    {
        _file = null; // its footer would only be written into a file that is being removed
        if (_hashing is not null) await _hashing.DisposeAsync().ConfigureAwait(false);
        _hashing = null;
        if (_lineageStream is not null) await _lineageStream.DisposeAsync().ConfigureAwait(false);
        _lineageStream = null;
        _spill?.Dispose();
        _spill = null;
        if (_spillStream is not null) await _spillStream.DisposeAsync().ConfigureAwait(false);
        _spillStream = null;
    }

    /// <summary>
    /// Decides, before a row group's first row, whether the open shard is done and how many rows the row group takes:
    /// at most <see cref="_rowGroupRows"/>, and with a rule never past the row where the rule starts the next shard.
    /// </summary>
    private async ValueTask BeginRowGroupAsync()
    {
        _target = _rowGroupRows;
        if (_rule is null) return; // spilling: blocks of a row group each
        int shard = ShardOf(_written);
        if (shard != (_file is null ? _shard + 1 : _shard))
        {
            if (shard != _shard + 1) throw new InvalidOperationException($"Channel '{_name}': the shard rule put row {_written} in shard {shard} after shard {_shard}; it must never skip a number.");
            await CloseShardAsync().ConfigureAwait(false);
        }
        // The rows of this shard from here on (the rule is monotone, so a binary search finds its last one).
        long lo = 1, hi = Math.Min(_rowGroupRows, _rows - _written);
        while (lo < hi)
        {
            long mid = lo + (hi - lo + 1) / 2;
            if (ShardOf(_written + mid - 1) == shard) lo = mid;
            else hi = mid - 1;
        }
        _target = (int)lo;
    }

    /// <summary>The rule's shard of row <paramref name="row"/>: every row counts <see cref="ParquetColumns.RowBytes"/> uncompressed bytes.</summary>
    private int ShardOf(long row) => _rule!.ShardOf(row, row * _columns.RowBytes, (row + 1) * _columns.RowBytes);

    /// <summary>Writes the buffered rows as one row group of the open shard (opening one first), or into the spill file.</summary>
    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_spillPath is not null && _rule is null)
        {
            if (_spill is null)
            {
                _spillStream = new FileStream(_spillPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
                _spill = new BinaryWriter(_spillStream, System.Text.Encoding.UTF8, leaveOpen: true);
            }
            _buffer.WriteTo(_spill);
            _written += _buffer.Count;
            _buffer.Clear();
            return;
        }
        if (_file is null) await OpenShardAsync(cancellationToken).ConfigureAwait(false);
        int n = _buffer.Count;
        await _buffer.WriteRowGroupAsync(_file!, cancellationToken).ConfigureAwait(false);
        if (_lineageStream is not null) await WriteLineageAsync(n, cancellationToken).ConfigureAwait(false);
        _shardRows += n;
        _written += n;
        _buffer.Clear();
    }

    private async ValueTask OpenShardAsync(CancellationToken cancellationToken)
    {
        _shard++;
        _shardRows = 0;
        _path = RunLayout.ShardPath(_name, _shard, ParquetFormatDefinition.FileExtension, gzip: false);
        _hashing = new Sha256WriteStream(await _store.CreateAsync(_path, cancellationToken).ConfigureAwait(false));
        // The hashing stream cannot seek, so Parquet.Net counts positions itself and never seeks back: the bytes are
        // the same on every store (local files, S3 multipart uploads).
        _file = await ParquetWriter.CreateAsync(_columns.Parquet, _hashing, ParquetFormatDefinition.WriterOptions(), append: false, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask CloseShardAsync()
    {
        if (_file is null) return;
        await _file.DisposeAsync().ConfigureAwait(false); // writes the footer
        _file = null;
        _report.Shards.Add(new ShardRecord(_path!, _shardRows, _hashing!.Written, _hashing.HashHex()));
        await _hashing.DisposeAsync().ConfigureAwait(false);
        _hashing = null;
    }

    /// <summary>
    /// The spilled mode's end: the channel's rows are known, so its shard rule is too (<c>--shards</c>, or what
    /// <c>--shard-size</c> and <c>--shard-rows</c> need, rounded up to a multiple of <c>--instances</c>, at most one
    /// shard per row; see <see cref="ShardRule"/>). The spilled row groups are then written through.
    /// </summary>
    private async ValueTask WriteSpilledAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Count > 0) await FlushAsync(cancellationToken).ConfigureAwait(false);
        _rows = _written;
        _rule = ShardRule.For(_shards, _name, _rows, _rows * _columns.RowBytes, _columns.RowBytes);
        if (_spill is null) return;
        _spill.Dispose();
        _spill = null;
        _written = 0;
        var stream = _spillStream!;
        stream.Position = 0;
        var block = new ParquetRowBuffer(_columns, _rowGroupRows);
        using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            while (stream.Position < stream.Length)
            {
                block.ReadFrom(reader);
                int at = 0;
                while (at < block.Count)
                {
                    if (_buffer.Count == 0) await BeginRowGroupAsync().ConfigureAwait(false);
                    int n = Math.Min(block.Count - at, _target - _buffer.Count);
                    _buffer.Append(block, at, n);
                    at += n;
                    if (_buffer.Count == _target) await FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        await stream.DisposeAsync().ConfigureAwait(false);
        _spillStream = null;
        File.Delete(_spillPath!);
    }

    private async ValueTask OpenLineageAsync(CancellationToken cancellationToken)
    {
        _lineageStream = await _store.CreateAsync(RunLayout.LineagePath(_name), cancellationToken).ConfigureAwait(false);
        await _lineageStream.WriteAsync(LineageBuffer.Header(_hasGroups, _hasTimes).Memory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lineage lines of the row group just written: its rows are records <see cref="_shardRows"/>… of shard <see cref="_shard"/>.</summary>
    private async ValueTask WriteLineageAsync(int rows, CancellationToken cancellationToken)
    {
        var lines = LineageBuffer.Rent(rows * 96);
        try
        {
            for (int k = 0; k < rows; k++)
            {
                lines.Append(_buffer.RowId(k)).Append((byte)',').Append(_buffer.Source(k)).Append((byte)',').Append(_buffer.SourceRow(k))
                    .Append((byte)',').Append(_shard).Append((byte)',').Append(_shardRows + k).Append((byte)',').AppendHex16(_buffer.Hash(k));
                if (_hasGroups) lines.Append((byte)',').AppendField(_buffer.Group(k));
                if (_hasTimes) lines.Append((byte)',').AppendTime(_buffer.Time(k));
                lines.Append((byte)'\n');
            }
            await _lineageStream!.WriteAsync(lines.Memory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lines.Release();
        }
    }
}

using System.Runtime.CompilerServices;
using DataPrep.Data;
using Parquet;
using Parquet.Schema;
using DataPrep.Pipeline;
using Field = DataPrep.Data.Field;

namespace DataPrep.Sources;

/// <summary>
/// Reads a Parquet file with Parquet.Net: flat (top-level, non-repeated) columns, REQUIRED or OPTIONAL,
/// any codec Parquet.Net decodes (uncompressed, snappy, gzip, zstd, LZ4_RAW, brotli), format v1 and v2
/// encodings, one batch per row group (row groups of more than <see cref="WholeGroupFactor"/> ×
/// <see cref="SourceOptions.BatchRows"/> rows are cut into batches of <see cref="SourceOptions.BatchRows"/>; a row group
/// too large for the memory budget is transposed on disk and read back in budgeted batches, see
/// <see cref="HeldGroupBatches"/>).
/// </summary>
/// <remarks>
/// <para>Types map as follows; <see cref="SourceOptions.ColumnTypes"/> may pick another kind where the
/// conversion is lossless or textual (an integer as Float64 or String, a string parsed as a number, …);
/// any other override is a <see cref="PipelineValidationException"/> that lists what the column can be:</para>
/// <list type="bullet">
/// <item>signed and unsigned integers of every width → <see cref="ColumnKind.Int64"/> (a UINT64 above
/// <see cref="long.MaxValue"/> is an error naming the row; read such a column as Float64 or String);</item>
/// <item>FLOAT, DOUBLE, FLOAT16 → <see cref="ColumnKind.Float64"/> (widened exactly);</item>
/// <item>DECIMAL(p,s) → <see cref="ColumnKind.Float64"/>, the double nearest to the exact decimal value:
/// exact up to 15 significant digits, rounded beyond (a DECIMAL(20,4) such as 9999999999999999.9999
/// reads as 1E16). Read it as String to keep every digit (the text has exactly s decimals);</item>
/// <item>BOOLEAN → <see cref="ColumnKind.Boolean"/>;</item>
/// <item>strings (UTF8/STRING, ENUM, JSON) and UUID → <see cref="ColumnKind.String"/>;</item>
/// <item>DATE, TIMESTAMP (millis, micros, nanos; INT96) → <see cref="ColumnKind.Timestamp"/> as UTC
/// ticks. A timestamp not adjusted to UTC (a "local" or naive timestamp) is taken as UTC, the same as a
/// CSV date-time without an offset. Nanoseconds are rounded down to the 100 ns tick (toward the past).
/// A value outside the years 1–9999 (such as DuckDB's 'infinity') is an error naming the row;</item>
/// <item>TIME → <see cref="ColumnKind.Float64"/> seconds since midnight;</item>
/// <item>BYTE_ARRAY without a string annotation, FIXED_LEN_BYTE_ARRAY → <see cref="ColumnKind.Binary"/>
/// (String if requested, when the bytes are UTF-8).</item>
/// </list>
/// <para>LIST, MAP, STRUCT and repeated columns, INTERVAL columns, and BOOLEAN columns whose values are
/// RLE-encoded (which Parquet.Net 6.1 misreads) are rejected with an error naming the column.</para>
/// <para>Row ids follow <see cref="CsvSource"/>: the 1-based row ordinal within the file, counted across
/// row groups, folded with the source index by <see cref="RowInfo.MakeRowId"/>.</para>
/// </remarks>
public sealed class ParquetSource : IRecordSource
{
    private static ReadOnlySpan<byte> Magic => "PAR1"u8;

    private readonly string _path;
    private readonly SourceOptions _options;
    private Schema? _schema;
    private volatile bool _inflated;

    /// <summary>Creates a source for one Parquet file (a .gz-compressed one is decompressed into memory).</summary>
    public ParquetSource(string path, SourceOptions? options = null)
    {
        _path = path;
        _options = options ?? new SourceOptions();
    }

    /// <inheritdoc />
    public string Description => _path;

    /// <inheritdoc />
    /// <remarks>True, except for a .parquet.gz, which is inflated whole for every read.</remarks>
    public bool ReadsColumnsSeparately => !_path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    /// <remarks>Reads only the footer: the schema, the row group sizes and the column chunk locations.</remarks>
    public async ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_schema is not null) return _schema;
        await using var reader = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (schema, plans) = Plan(reader.Schema);
            CheckEncodings(reader, plans);
            CheckChunks(reader, plans);
            var groups = new long[reader.RowGroupCount];
            for (int g = 0; g < groups.Length; g++) groups[g] = reader.OpenRowGroupReader(g).RowCount;
            _groups = groups;
            _rowBytes = DecodedRowBytes(reader, plans, schema, groups.Sum());
            _schema = schema;
            return schema;
        }
        catch (Exception e) when (e is not (DataPrepException or OperationCanceledException))
        {
            // Parquet.Net decodes the schema lazily and throws what it meets (ArgumentException, NotSupportedException, …).
            throw Throw.Format(
                $"has a corrupt footer ({e.Message.TrimEnd('.')}); expected a Parquet file whose schema and row group index can be decoded",
                _path, inner: e);
        }
    }

    private long[] _groups = [1];

    private long _rowBytes;

    /// <inheritdoc />
    /// <remarks>
    /// A decoded row's bytes, from the footer: 8 a number or timestamp, 1 a boolean, and a text or binary value's
    /// reference plus its column chunks' uncompressed bytes a row. The run's batches after the split follow it; the
    /// source's own batches are its row groups, decoded whole, unless a group's rows take more than
    /// <see cref="HeldGroupBatches"/> of the budget's batches: such a group is transposed on disk and read back in
    /// batches of <see cref="SourceOptions.BatchRowsFor"/> rows.
    /// </remarks>
    public long RowBytes => _rowBytes;

    private static long DecodedRowBytes(ParquetReader reader, ParquetColumnPlan[] plans, Schema schema, long rows)
    {
        var text = new long[plans.Length];
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            var rowGroup = reader.OpenRowGroupReader(g);
            for (int c = 0; c < plans.Length; c++)
            {
                if (schema[c].Kind is ColumnKind.String or ColumnKind.Binary && plans[c] is not NotReadPlan && rowGroup.GetMetadata(plans[c].Field)?.MetaData is { } meta) text[c] += meta.TotalUncompressedSize;
            }
        }
        long bytes = 0;
        for (int c = 0; c < plans.Length; c++)
        {
            bytes += schema[c].Kind switch
            {
                ColumnKind.Boolean => 1,
                ColumnKind.String or ColumnKind.Binary => 16 + (rows > 0 ? text[c] / rows : 0),
                _ => 8,
            };
        }
        return bytes;
    }

    /// <summary>Where the footer begins: column chunks must end before it.</summary>
    private long _dataEnd;

    /// <inheritdoc />
    /// <remarks>The row groups (a file without any is one empty part).</remarks>
    public IReadOnlyList<long> Parts => _groups.Length == 0 ? [0] : _groups;

    /// <inheritdoc />
    public (long Line, string? Within) LocateRow(long row)
    {
        long first = 1;
        for (int g = 0; g < _groups.Length; g++)
        {
            if (row < first + _groups[g]) return (0, new ReadContext(_path, first, g, _groups.Length).Within((int)(row - first)));
            first += _groups[g];
        }
        return (0, null);
    }

    /// <summary>
    /// A row group of at most this many times <see cref="SourceOptions.BatchRows"/> rows is read as one batch (2^20 rows by
    /// default: pyarrow's default row group, DuckDB's and Polars' smaller ones); a larger one is cut into batches.
    /// </summary>
    public const int WholeGroupFactor = 16;

    /// <inheritdoc />
    public IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, CancellationToken cancellationToken = default)
        => ReadPartsAsync(sourceIndex, 0, int.MaxValue, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Row groups [first, end); row ids count the rows of the groups before <paramref name="first"/>, as a whole read does.</remarks>
    public async IAsyncEnumerable<RecordBatch> ReadPartsAsync(int sourceIndex, int first, int end, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var schema = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var reader = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        // The file may have changed since OpenAsync; the footer read now is the one the plans must match.
        var (current, plans) = Plan(reader.Schema);
        if (!current.Equals(schema))
        {
            throw Throw.Format($"changed while being read: its columns are now {current}, expected {schema} as when it was opened", _path);
        }
        CheckEncodings(reader, plans);
        // Rows alone cut a row group held decoded (not BatchRowsFor): it is decoded whole whatever the batches, and cutting
        // it copies every value while the whole group stays alive (a 1,000-column file at --memory 128MB: 1.0 s and
        // 447-490 MiB whole, 2.0 s and 560 MiB cut into 512-row batches). A group too large for the budget is transposed
        // instead (below) and read back in BatchRowsFor batches.
        int batchRows = Math.Max(1, _options.BatchRows);
        // A row group is one batch, its columns as decoded, unless it is much larger than a batch: cutting it copies
        // every value into fresh arrays (a quarter of W2's page faults), and the decoded group is held whole anyway.
        long wholeRows = (long)WholeGroupFactor * batchRows;
        int groups = Math.Min(end, reader.RowGroupCount);
        var firstOrdinals = new long[groups + 1];
        for (int g = 0; g < groups; g++) firstOrdinals[g + 1] = firstOrdinals[g] + reader.OpenRowGroupReader(g).RowCount;
        // Row groups are decoded in parallel, each worker with its own reader (its own stream), at most
        // `window` row groups ahead of the one being yielded; they are yielded in file order, so batches,
        // row ids and the first error met are the same as reading them one after another.
        int window = _inflated ? 1 : Math.Max(1, Math.Min(_options.EffectiveThreads, groups - first));
        // A row group whose decoded rows would take more than HeldGroupBatches batches of the budget is not held decoded:
        // it is transposed on disk (see RowGroupTranspose) and read back in batches of the budget's rows.
        long heldBytes = _options.BatchBytes > 0 && _options.TempDirectory is not null ? HeldGroupBatches * _options.BatchBytes : long.MaxValue;
        bool Transposed(int g) => (firstOrdinals[g + 1] - firstOrdinals[g]) * Math.Max(1, _rowBytes) > heldBytes;
        SpillFolder? folder = null;

        var readers = new System.Collections.Concurrent.ConcurrentBag<ParquetReader>([reader]);
        var owned = new List<ParquetReader>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new Queue<Task<(Column[]? Columns, int Rows, List<BadRow>? Bad)>>();
        // --on-bad-row skip|quarantine: a row group's bad rows are noted while it is decoded, and left out of its batches.
        var badRows = _options.BadRows is { Tolerates: true } log ? log : null;
        int next = Math.Max(0, first);
        async Task<ParquetReader> TakeReaderAsync()
        {
            if (readers.TryTake(out var r)) return r;
            r = await OpenReaderAsync(stop.Token).ConfigureAwait(false);
            lock (owned) owned.Add(r);
            return r;
        }
        void StartNext()
        {
            int g = next++;
            // A transposed group is decoded when its turn comes, not ahead: it is read column by column into its temp file.
            if (Transposed(g))
            {
                inFlight.Enqueue(Task.FromResult<(Column[]?, int, List<BadRow>?)>((null, (int)(firstOrdinals[g + 1] - firstOrdinals[g]), null)));
                return;
            }
            inFlight.Enqueue(Task.Run(async () =>
            {
                var r = await TakeReaderAsync().ConfigureAwait(false);
                try { return await ReadRowGroupAsync(r, plans, g, firstOrdinals[g] + 1, badRows is not null, stop.Token).ConfigureAwait(false); }
                finally { readers.Add(r); }
            }, stop.Token));
        }
        try
        {
            while (next < groups && inFlight.Count < window) StartNext();
            for (int g = Math.Max(0, first); g < groups; g++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (columns, rows, bad) = await inFlight.Dequeue().ConfigureAwait(false);
                if (next < groups) StartNext();
                if (rows == 0) continue;
                long ordinal = firstOrdinals[g];
                if (columns is not null)
                {
                    int step = rows <= wholeRows ? rows : batchRows;
                    for (int start = 0; start < rows; start += step)
                    {
                        int count = Math.Min(step, rows - start);
                        var cols = start == 0 && count == rows ? columns : columns.Select(c => ColumnSlicer.Slice(c, start, count)).ToArray();
                        if (Batch(schema, cols, sourceIndex, ordinal, start, count, bad, badRows) is { } batch) yield return batch;
                    }
                    continue;
                }
                folder ??= new SpillFolder(_options.TempDirectory!);
                using (var transpose = new RowGroupTranspose(folder.NewFile("parquet-group.bin"), schema, rows, _options.BatchRowsFor(_rowBytes)))
                {
                    int workers = _inflated ? 1 : Math.Max(1, Math.Min(_options.EffectiveThreads, plans.Length));
                    bad = await TransposeRowGroupAsync(TakeReaderAsync, readers.Add, workers, plans, g, ordinal + 1, transpose, badRows is not null, stop.Token).ConfigureAwait(false);
                    RunTrace.Line($"{_path}: row group {g + 1} transposed ({rows:N0} rows, {transpose.Slices} batches of {transpose.SliceRows:N0})");
                    for (int s = 0; s < transpose.Slices; s++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (Batch(schema, transpose.Read(s), sourceIndex, ordinal, s * transpose.SliceRows, transpose.RowsOf(s), bad, badRows) is { } batch) yield return batch;
                    }
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var t in inFlight)
            {
                try { await t.ConfigureAwait(false); }
                catch (Exception) { /* already failing or stopped early; only the readers must be closed */ }
            }
            foreach (var r in owned) await r.DisposeAsync().ConfigureAwait(false);
            folder?.Dispose();
        }
    }

    /// <summary>
    /// A row group whose decoded rows take more than this many of the budget's batches (<see cref="SourceOptions.BatchBytes"/>,
    /// a 32nd of the budget each: an eighth of it) is transposed on disk and read back in batches (<see cref="RowGroupTranspose"/>),
    /// not held decoded. Row groups are decoded whole (Parquet.Net reads a column chunk whole), and a row group of 1,000,000
    /// rows of 51 doubles (about pyarrow's default of 2^20 rows) decodes to 408 MB: such a file peaked at 927–928 MiB at <c>--memory 128MB</c>
    /// and 894–975 MiB at 512MB; transposed, 267–297 and 413–455 MiB, and 13–25 % faster (its columns are decoded two at
    /// a time). A transposed group costs a write and a read of its decoded bytes: three 80 MB groups of 1,000 doubles at
    /// 512MB take 1.10–1.16 s instead of 0.92–1.12 s to RecordIO-protobuf.
    /// </summary>
    public const int HeldGroupBatches = 4;

    /// <summary>
    /// Rows [<paramref name="start"/>, +<paramref name="count"/>) of a row group as a batch, less its bad rows under
    /// <c>--on-bad-row skip|quarantine</c> (null when none is left).
    /// </summary>
    private static RecordBatch? Batch(Schema schema, Column[] columns, int sourceIndex, long ordinal, int start, int count, List<BadRow>? bad, BadRows? badRows)
    {
        var batch = new RecordBatch(schema, columns, count, RowInfo.Sequential(sourceIndex, ordinal + start, count));
        if (bad is { Count: > 0 } && BadIn(bad, start, count) is { Count: > 0 } here)
        {
            // Quarantined rows have no input line: their values as read go with them, as JSON.
            if (badRows!.Policy == BadRowPolicy.Quarantine) here = here.ConvertAll(b => b with { Text = BadRows.RowJson(batch, b.At) });
            batch = badRows.Skip(batch, here);
            if (batch.RowCount == 0) return null;
        }
        return batch;
    }

    /// <summary>
    /// The bad rows of a row group within its batch [start, start + count), one per row (its first column's error, as
    /// text sources note a row at its first bad field), at their index in the batch, with the row's values as its text.
    /// </summary>
    private static List<BadRow> BadIn(List<BadRow> bad, int start, int count)
    {
        var seen = new HashSet<int>();
        var here = new List<BadRow>();
        foreach (var b in bad)
        {
            if (b.At < start || b.At >= start + count || !seen.Add(b.At)) continue;
            here.Add(b with { At = b.At - start });
        }
        return here;
    }

    private async Task<(Column[]? Columns, int Rows, List<BadRow>? Bad)> ReadRowGroupAsync(ParquetReader reader, ParquetColumnPlan[] plans, int group, long firstOrdinal, bool tolerant, CancellationToken cancellationToken)
    {
        var bad = tolerant ? new List<BadRow>() : null;
        var rowGroup = reader.OpenRowGroupReader(group);
        int rows = GroupRows(reader, rowGroup, group, firstOrdinal);
        var columns = new Column[plans.Length];
        for (int c = 0; c < plans.Length; c++) columns[c] = await ReadColumnAsync(reader, rowGroup, plans[c], group, rows, firstOrdinal, bad, cancellationToken).ConfigureAwait(false);
        return (columns, rows, bad);
    }

    /// <summary>
    /// Decodes a row group a column at a time into <paramref name="transpose"/> (each column dropped once written),
    /// <paramref name="workers"/> columns at once, each worker with its own reader; the bad rows noted on the way (null
    /// unless <paramref name="tolerant"/>), in column order, and the first column's error if any fails, as decoding the
    /// group whole notes and reports them.
    /// </summary>
    private async Task<List<BadRow>?> TransposeRowGroupAsync(Func<Task<ParquetReader>> take, Action<ParquetReader> give, int workers, ParquetColumnPlan[] plans, int group, long firstOrdinal,
        RowGroupTranspose transpose, bool tolerant, CancellationToken cancellationToken)
    {
        var bad = tolerant ? new List<BadRow>[plans.Length] : null;
        var failed = new Exception?[plans.Length];
        // Each decoded column (8 MB for 2^20 doubles, and as much again of Parquet.Net's page buffers) is garbage once
        // written, on the large object heap, which only a full collection frees: without one, 50 of them pile up.
        var governor = _options.MemoryBudget > 0 ? new MemoryGovernor(_options.MemoryBudget) : null;
        var gate = new object();
        int next = -1;
        async Task WorkAsync()
        {
            var reader = await take().ConfigureAwait(false);
            try
            {
                var rowGroup = reader.OpenRowGroupReader(group);
                int rows = GroupRows(reader, rowGroup, group, firstOrdinal);
                for (int c = Interlocked.Increment(ref next); c < plans.Length; c = Interlocked.Increment(ref next))
                {
                    if (bad is not null) bad[c] = [];
                    Column column;
                    try { column = await ReadColumnAsync(reader, rowGroup, plans[c], group, rows, firstOrdinal, bad?[c], cancellationToken).ConfigureAwait(false); }
                    catch (DataPrepException e)
                    {
                        failed[c] = e;
                        continue;
                    }
                    lock (gate)
                    {
                        transpose.Add(c, column);
                        governor?.Check();
                    }
                }
            }
            finally { give(reader); }
        }
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(WorkAsync, cancellationToken))).ConfigureAwait(false);
        if (failed.FirstOrDefault(e => e is not null) is { } first) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        return bad?.SelectMany(b => b).ToList();
    }

    private int GroupRows(ParquetReader reader, ParquetRowGroupReader rowGroup, int group, long firstOrdinal)
    {
        long count = rowGroup.RowCount;
        if (count > Array.MaxLength)
        {
            throw Throw.Format($"row group {group + 1} of {reader.RowGroupCount} holds {count:N0} rows; expected at most {Array.MaxLength:N0} rows per row group", _path, row: firstOrdinal);
        }
        return (int)count;
    }

    /// <summary>One column of a row group, decoded and checked.</summary>
    private async Task<Column> ReadColumnAsync(ParquetReader reader, ParquetRowGroupReader rowGroup, ParquetColumnPlan plan, int group, int rows, long firstOrdinal, List<BadRow>? bad, CancellationToken cancellationToken)
    {
        if (plan is NotReadPlan) return await plan.ReadAsync(rowGroup, rows, default!, cancellationToken).ConfigureAwait(false);
        if (!rowGroup.ColumnExists(plan.Field))
        {
            throw Throw.Format($"row group {group + 1} of {reader.RowGroupCount} has no data for the column; expected every column of the schema in every row group", _path, row: firstOrdinal, column: plan.Name);
        }
        Column column;
        try
        {
            column = await plan.ReadAsync(rowGroup, rows, new ReadContext(_path, firstOrdinal, group, reader.RowGroupCount, _options.NonFinite, bad), cancellationToken).ConfigureAwait(false);
        }
        catch (OutOfMemoryException e) when (e is not InsufficientMemoryException)
        {
            // Not "the file may be corrupt": a sound column larger than the memory left fails the same way. (A footer that
            // makes Parquet.Net allocate gigabytes is corrupt: its length is checked against the file first.)
            throw new InsufficientMemoryException(
                $"while decoding {_path}, column '{plan.Name}', row group {group + 1} of {reader.RowGroupCount} (rows {firstOrdinal:N0}–{firstOrdinal + rows - 1:N0}: {rows:N0} {plan.ParquetType} values, decoded whole; a corrupt page header that declares a size this large fails the same way)", e);
        }
        catch (Exception e) when (Throw.IsDecodeFailure(e))
        {
            throw Throw.Format(
                $"cannot read row group {group + 1} of {reader.RowGroupCount} (rows {firstOrdinal:N0}–{firstOrdinal + rows - 1:N0}): {e.Message.TrimEnd('.')}; expected valid {plan.ParquetType} column data (the file may be corrupt or truncated)",
                _path, row: firstOrdinal, column: plan.Name, inner: e);
        }
        if (column.Length != rows)
        {
            throw Throw.Format($"row group {group + 1} of {reader.RowGroupCount} has {column.Length} values for the column, expected {rows} (its row count)", _path, row: firstOrdinal, column: plan.Name);
        }
        return column;
    }

    /// <summary>
    /// Refuses what Parquet.Net would read wrongly: it reads RLE-encoded BOOLEAN values (written by some
    /// data page v2 writers) as all false, or fails on them, so such a file is an error before any row is read.
    /// </summary>
    private void CheckEncodings(ParquetReader reader, ParquetColumnPlan[] plans)
    {
        long firstOrdinal = 1;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            var rowGroup = reader.OpenRowGroupReader(g);
            foreach (var plan in plans)
            {
                if (plan is NotReadPlan) continue;
                if (plan.Field.ClrType == typeof(bool) && HasRleValues(rowGroup.GetMetadata(plan.Field)?.MetaData))
                {
                    throw Throw.Format(
                        $"row group {g + 1} of {reader.RowGroupCount} holds RLE-encoded BOOLEAN values, which the Parquet reader DataPrep uses (Parquet.Net) cannot decode correctly; expected PLAIN-encoded booleans. Rewrite the file with PLAIN booleans or data page v1 (DuckDB and pyarrow write those by default), or drop the column",
                        _path, row: firstOrdinal, column: plan.Name);
                }
            }
            firstOrdinal += rowGroup.RowCount;
        }
    }

    /// <summary>
    /// Column chunks must lie between the leading magic and the footer: Parquet.Net allocates a chunk's or page's
    /// size before it reads it, so a corrupt size or offset would cost up to 2 GB before the error (tools/fuzz.sh).
    /// </summary>
    private void CheckChunks(ParquetReader reader, ParquetColumnPlan[] plans)
    {
        long firstOrdinal = 1;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            var rowGroup = reader.OpenRowGroupReader(g);
            if (rowGroup.RowCount < 0)
            {
                throw Throw.Format($"row group {g + 1} of {reader.RowGroupCount} says it holds {rowGroup.RowCount} rows; expected a count of zero or more (the footer is corrupt)", _path, row: firstOrdinal);
            }
            foreach (var plan in plans)
            {
                if (plan is NotReadPlan { InFile: false } || rowGroup.GetMetadata(plan.Field)?.MetaData is not { } meta) continue;
                long start = meta.DictionaryPageOffset is > 0 and var d && d < meta.DataPageOffset ? d : meta.DataPageOffset;
                if (start < Magic.Length || meta.TotalCompressedSize < 0 || meta.TotalCompressedSize > _dataEnd - start)
                {
                    throw Throw.Format(
                        $"row group {g + 1} of {reader.RowGroupCount}: the footer places the column's data at bytes {start:N0}–{start + meta.TotalCompressedSize - 1:N0}, outside the file's data (bytes 4–{_dataEnd - 1:N0}); expected column chunks within the file (it is truncated or corrupt)",
                        _path, row: firstOrdinal, column: plan.Name);
                }
            }
            firstOrdinal += rowGroup.RowCount;
        }
    }

    /// <summary>Whether a BOOLEAN column chunk's values (not just its levels) are RLE-encoded.</summary>
    private static bool HasRleValues(global::Parquet.Meta.ColumnMetaData? meta)
    {
        if (meta is null) return false;
        if (meta.EncodingStats is { Count: > 0 } stats)
        {
            return stats.Any(s => s.Encoding == global::Parquet.Meta.Encoding.RLE
                && s.PageType is global::Parquet.Meta.PageType.DATA_PAGE or global::Parquet.Meta.PageType.DATA_PAGE_V2);
        }
        // Without page statistics: RLE listed and PLAIN not (levels are RLE too, so RLE alone says little).
        return meta.Encodings.Contains(global::Parquet.Meta.Encoding.RLE) && !meta.Encodings.Contains(global::Parquet.Meta.Encoding.PLAIN);
    }


    /// <summary>Maps the file's columns to fields and readers, applying the type overrides.</summary>
    private (Schema Schema, ParquetColumnPlan[] Plans) Plan(ParquetSchema parquet)
    {
        var top = parquet.Fields;
        if (top.Count == 0) throw Throw.Format("has no columns; expected a Parquet file with at least one column", _path);
        var names = top.Select(f => f.Name).ToArray();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            if (!seen.TryAdd(names[i], i))
            {
                throw Throw.Format($"has two columns named '{names[i]}' (columns {seen[names[i]]} and {i}, 0-based); expected unique column names", _path, column: names[i]);
            }
        }
        foreach (var key in _options.ColumnTypes.Keys)
        {
            if (!seen.ContainsKey(key) && !(key.Length > 0 && int.TryParse(key, out int ix) && ix >= 0 && ix < names.Length))
            {
                throw new PipelineValidationException($"--column-type names column '{key}', which {_path} does not have (its columns: {string.Join(", ", names)}).");
            }
        }
        var fields = new Field[top.Count];
        var plans = new ParquetColumnPlan[top.Count];
        for (int i = 0; i < top.Count; i++)
        {
            var f = top[i];
            bool read = _options.Reads(f.Name);
            if (f is not DataField data || data.IsArray || data.MaxRepetitionLevel > 0)
            {
                if (!read)
                {
                    // Left out by the run: never decoded, so its nesting does not matter.
                    plans[i] = new NotReadPlan(new DataField<string>(f.Name), ColumnKind.String, "a nested type", inFile: false);
                    fields[i] = new Field(f.Name, ColumnKind.String);
                    continue;
                }
                string what = f switch
                {
                    ListField => "a LIST column",
                    MapField => "a MAP column",
                    StructField => "a STRUCT (group) column",
                    _ => "a repeated column",
                };
                throw Throw.Format(
                    $"is {what}, a nested type; expected flat columns of scalar values (numbers, booleans, strings, dates, timestamps, binary). Leave it out (--drop {f.Name}: a column left out is never decoded), or flatten it first",
                    _path, column: f.Name);
            }
            ColumnKind? requested = _options.ColumnTypes.TryGetValue(f.Name, out var k) ? k
                : _options.ColumnTypes.TryGetValue(i.ToString(System.Globalization.CultureInfo.InvariantCulture), out k) ? k
                : null;
            if (read) plans[i] = ParquetColumnPlan.Create(data, requested, _path);
            else
            {
                // Left out by the run: never decoded (its kind as it would be read, or text where DataPrep reads no such type).
                ColumnKind kind;
                try { kind = ParquetColumnPlan.Create(data, requested, _path).Kind; }
                catch (Exception e) when (e is DataFormatException or PipelineValidationException) { kind = ColumnKind.String; }
                plans[i] = new NotReadPlan(data, kind, ParquetColumnPlan.Describe(data), inFile: true);
            }
            fields[i] = new Field(f.Name, plans[i].Kind);
        }
        // Columns the run does not use are never read (a columnar file makes that free).
        if (_options.OnlyColumns is { } only && fields.Any(f => only.Contains(f.Name)) && !fields.All(f => only.Contains(f.Name)))
        {
            var keep = Enumerable.Range(0, fields.Length).Where(i => only.Contains(fields[i].Name)).ToArray();
            return (new Schema(keep.Select(i => fields[i]).ToList()), keep.Select(i => plans[i]).ToArray());
        }
        return (new Schema(fields), plans);
    }

    private async Task<ParquetReader> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var stream = _options.Files.Open(_path);
        try
        {
            if (!stream.CanSeek)
            {
                // A .parquet.gz: Parquet needs random access (the footer is at the end), so inflate it into memory.
                var memory = new MemoryStream();
                await stream.CopyToAsync(memory, cancellationToken).ConfigureAwait(false);
                await stream.DisposeAsync().ConfigureAwait(false);
                memory.Position = 0;
                stream = memory;
                _inflated = true; // each reader would inflate it again: read its row groups one at a time
            }
            CheckMagic(stream);
            stream = new EndCheckedStream(stream, _path);
            stream.Position = 0;
            try
            {
                return await ParquetReader.CreateAsync(stream, new ParquetOptions(), leaveStreamOpen: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw Throw.Format(
                    $"has a corrupt footer ({e.Message.TrimEnd('.')}); expected a Parquet file whose footer (the schema and row group index before the trailing magic PAR1) can be decoded",
                    _path, inner: e);
            }
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void CheckMagic(Stream stream)
    {
        long length = stream.Length;
        Span<byte> head = stackalloc byte[4];
        Span<byte> tail = stackalloc byte[4];
        stream.Position = 0;
        int got = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        if (got < 4 || !head.SequenceEqual(Magic))
        {
            string found = length == 0 ? "an empty file" : $"{Printable(head[..got])} at the start";
            throw Throw.Format($"is not a Parquet file: found {found}, expected a Parquet file starting and ending with the magic bytes PAR1", _path);
        }
        if (length < 12)
        {
            throw Throw.Format($"is only {length} bytes long; expected a Parquet file (at least 12 bytes: magic PAR1, footer, footer length, magic PAR1). It is truncated", _path);
        }
        Span<byte> footerLength = stackalloc byte[4];
        stream.Position = length - 8;
        stream.ReadExactly(footerLength);
        stream.ReadExactly(tail);
        if (!tail.SequenceEqual(Magic))
        {
            throw Throw.Format(
                $"starts like a Parquet file but ends with {Printable(tail)} instead of the magic bytes PAR1; expected a complete Parquet file (it is truncated, still being written, or corrupt)",
                _path);
        }
        // Parquet.Net allocates the footer's length before reading it: a corrupt length must not cost gigabytes.
        uint footer = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(footerLength);
        if (footer > length - 12)
        {
            throw Throw.Format(
                $"has a corrupt footer: its length field says {footer:N0} bytes, but the file holds only {length - 12:N0} bytes between its magic words; expected a footer length within the file (it is truncated or corrupt)",
                _path);
        }
        // Every reader of the source (one per thread decoding row groups) opens the file; the footer is checked once.
        if (Volatile.Read(ref _dataEnd) == length - 8 - footer) return;
        var bytes = new byte[footer];
        stream.Position = length - 8 - footer;
        stream.ReadExactly(bytes);
        if (ParquetFooterCheck.Problem(bytes) is { } problem)
        {
            throw Throw.Format($"has a corrupt footer ({problem}); expected a Parquet footer in Thrift compact encoding", _path);
        }
        Volatile.Write(ref _dataEnd, length - 8 - footer);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new System.Text.StringBuilder("'");
        foreach (byte b in bytes)
        {
            if (b is >= 0x20 and < 0x7f and not (byte)'\\' and not (byte)'\'') text.Append((char)b);
            else text.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.Append('\'').ToString();
    }
}

/// <summary>
/// The stream Parquet.Net reads: a byte asked for past the end is an error. Parquet.Net's Thrift reader skips unknown
/// fields byte by byte and takes the end of the file (-1) for a byte, so a corrupt footer or page header made it loop
/// for ever at the end of the file (found by tools/fuzz.sh). Nothing in a valid file is read past its end.
/// </summary>
internal sealed class EndCheckedStream(Stream inner, string path) : Stream
{
    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override int ReadByte()
    {
        int b = inner.ReadByte();
        if (b < 0) throw Throw.Format($"ends inside a Thrift structure (a footer or page header) at byte {inner.Position:N0}; expected a complete Parquet file (it is truncated or corrupt)", path);
        return b;
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Where a row group starts, for error messages, and what non-finite floats become.</summary>
internal readonly record struct ReadContext(string Path, long FirstOrdinal, int Group = 0, int GroupCount = 1, NonFinitePolicy NonFinite = NonFinitePolicy.Error, List<BadRow>? Bad = null)
{
    /// <summary>
    /// Refuses row <paramref name="row"/> (0-based in the row group): under <c>--on-bad-row skip|quarantine</c> it is
    /// noted (the row group's batches leave it out), else <paramref name="error"/> is thrown.
    /// </summary>
    public void Refuse(int row, string cause, DataFormatException error)
    {
        if (Bad is null) throw error;
        Bad.Add(new BadRow(row, cause, error, null));
    }

    /// <summary>"row group G of N, its row R" for a 0-based row of the group.</summary>
    public string Within(int row) => $"row group {Group + 1} of {GroupCount}, its row {row + 1}";
}

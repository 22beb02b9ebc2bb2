using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.Intrinsics.X86;
using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.RecordIO;

/// <summary>
/// SageMaker's RecordIO-protobuf (<c>application/x-recordio-protobuf</c>): one <c>aialgs.data.Record</c> per
/// row with <c>features["values"]</c> (dense values, or values + 0-based keys + shape for sparse rows) and
/// <c>label["values"]</c> (a one-element tensor), framed as RecordIO.
/// </summary>
/// <remarks>
/// The protobuf bytes are written by hand, without a message object per row, in the order Google.Protobuf
/// and the SageMaker SDK write them (fields by number, map entries key then value, empty repeated fields
/// left out, packed scalars), so the output is byte-identical to the SDK's writer. NaN is written as the
/// canonical quiet NaN (0x7FC00000 / 0x7FF8000000000000), as numpy does.
/// </remarks>
public sealed class RecordIOProtobufFormat(bool hasLabel, RecordIOOptions? options = null) : IRecordFormat
{
    private readonly RecordIOOptions _options = options ?? new RecordIOOptions();

    /// <summary>The encoder options.</summary>
    public RecordIOOptions Options => _options;

    /// <inheritdoc />
    /// <remarks>".pbr", as the SageMaker SDK names RecordIO-protobuf objects (".rec" is image RecordIO).</remarks>
    public string Extension => "pbr";

    /// <inheritdoc />
    public string ContentType => "application/x-recordio-protobuf";

    /// <summary>The number of feature columns a row expands to (one-hot and other sparse columns counted by width).</summary>
    public static int FeatureWidth(Schema schema, bool hasLabel) => schema.Fields.Skip(hasLabel ? 1 : 0).Sum(f => f.Width);

    /// <inheritdoc />
    public FormatInfo Describe(Schema schema, bool hasLabel) => new(
        ContentType,
        FeatureWidth(schema, hasLabel),
        IsSparse(schema),
        _options.Features.ToString().ToLowerInvariant(),
        hasLabel ? _options.Label.ToString().ToLowerInvariant() : null);

    /// <summary>Whether rows of this schema are written sparse.</summary>
    public bool IsSparse(Schema schema) => _options.Sparse || schema.Fields.Any(f => f.Kind == ColumnKind.Sparse);

    /// <inheritdoc />
    public void Validate(Schema schema, bool hasLabel)
    {
        foreach (var f in schema.Fields)
        {
            if (!f.IsNumeric) throw new PipelineValidationException($"RecordIO-protobuf output needs numeric columns, but '{f.Name}' is {f.Kind}.");
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Each record is encoded straight into the chunk's pooled buffer: its sizes are computed from the row's values first
    /// (protobuf length prefixes are varints), then the RecordIO header, the payload and the padding are written in place;
    /// with escaping, a payload that holds the magic word is cut into parts afterwards. A row whose text the source kept
    /// (see <see cref="FormatTraits.ReadsKeptText"/>) is read from that text, field by field, so the columns of a shuffled
    /// batch are never gathered; the text is what label-first CSV would write for the row's values, so it parses to the
    /// same doubles (<see cref="Sources.KeptTextValues.Parse"/>) and the bytes are those of the columns.
    /// </remarks>
    public FormattedChunk Format(RecordBatch batch, int start, int count)
    {
        var encoder = new RowEncoder(batch, hasLabel, _options, IsSparse(batch.Schema));
        encoder.UseChunkImages(start, count);
        try
        {
            // A pooled buffer, handed over to the writer, which gives it back once written (see PooledBufferWriter).
            var output = new PooledBufferWriter(encoder.ChunkSizeHint(start, count));
            var ends = new int[count];
            var hashes = new ulong[count];
            for (int k = 0; k < count; k++)
            {
                hashes[k] = encoder.Write(start + k, output);
                ends[k] = output.Length;
            }
            return output.ToChunk(ends, hashes);
        }
        finally
        {
            encoder.ReturnChunkImages();
        }
    }

    /// <summary>Encodes rows of one batch; holds per-batch lookups and one row's scratch values so each row is a tight loop.</summary>
    private sealed class RowEncoder
    {
        private static ReadOnlySpan<byte> ValuesKey => "values"u8;

        /// <summary>The most bytes a map entry's framing takes besides its tensor's fields (tags, key and three length varints).</summary>
        private const int EntryOverhead = 1 + 5 + 2 + 6 + 1 + 5 + 1 + 5;

        private readonly RecordBatch _batch;
        private readonly bool _hasLabel;
        private readonly RecordIOOptions _options;
        private readonly bool _sparse;
        private readonly int _width;
        private readonly int[] _offsets;
        // One row's feature values (and, sparse, their 0-based keys), reused row after row.
        private double[] _values;
        private ulong[] _keys;
        // Each column's values, resolved on first use (no type test or property read per value).
        private readonly Column[] _columns;
        private readonly double[]?[] _doubles;
        private readonly long[]?[] _longs;
        private readonly bool[]?[] _bools;
        private readonly SparseColumn?[] _sparseColumns;
        // The rows' kept text (empty for a row that kept none), when every column is a dense number read from it.
        private readonly ReadOnlyMemory<byte>[]? _text;
        private readonly bool[]? _integral;
        // The rows' values as float32 kept beside their text (empty for a row without), when features and label are float32.
        private readonly ReadOnlyMemory<byte>[]? _float32;
        // Or the chunk's rows as float32 converted from the columns (see UseChunkImages): row start + r at r × columns.
        private float[]? _chunk;
        private bool[]? _chunkBad;
        private int _chunkStart;
        private int _chunkCount;

        public RowEncoder(RecordBatch batch, bool hasLabel, RecordIOOptions options, bool sparse)
        {
            _batch = batch;
            _hasLabel = hasLabel;
            _options = options;
            _sparse = sparse;
            int first = hasLabel ? 1 : 0;
            _offsets = new int[batch.Schema.Count];
            int at = 0;
            for (int c = first; c < batch.Schema.Count; c++) { _offsets[c] = at; at += batch.Schema[c].Width; }
            _width = at;
            _values = new double[Math.Max(1, at)];
            _keys = sparse ? new ulong[Math.Max(1, at)] : [];
            int n = batch.Columns.Count;
            _columns = [.. batch.Columns];
            _doubles = new double[]?[n];
            _longs = new long[]?[n];
            _bools = new bool[]?[n];
            _sparseColumns = new SparseColumn?[n];
            bool textual = true;
            for (int c = 0; c < n; c++)
            {
                if (_columns[c] is SparseColumn s) _sparseColumns[c] = s;
                textual &= _columns[c] is Float64Column or Int64Column;
            }
            if (textual && batch.Raw is { } raw && raw.Matches(batch.Schema))
            {
                _text = raw.Records;
                _integral = Array.ConvertAll(_columns, c => c is Int64Column);
                if (options.Features == TensorType.Float32 && (!hasLabel || options.Label == TensorType.Float32)) _float32 = raw.Float32;
            }
        }

        /// <summary>
        /// For dense float32 records of rows without float32 values kept by the source (a spilled split, Parquet or JSON
        /// input): converts the chunk's rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>)
        /// to float32 once, column by column, into one row-major block, so <see cref="Write"/> copies each row's values as
        /// it copies kept ones instead of reading 51 columns a value at a time. Each value is what <see cref="ToFloat32"/>
        /// gives (NaN canonical); a row holding a value float32 cannot hold is marked and takes the column path, which
        /// reports it (exit 3, its row).
        /// </summary>
        public void UseChunkImages(int start, int count)
        {
            if (_float32 is not null || _text is not null || _sparse || count <= 0 || !BitConverter.IsLittleEndian) return;
            if (_options.Features != TensorType.Float32 || (_hasLabel && _options.Label != TensorType.Float32)) return;
            int n = _columns.Length;
            for (int c = 0; c < n; c++)
            {
                if (_batch.Schema[c].Width != 1 || _columns[c] is not (Float64Column or Int64Column or BooleanColumn)) return;
            }
            // Pooled: a chunk's block is about 0.8 MB (4,096 rows × 51 values), a large-object allocation per chunk otherwise.
            var chunk = System.Buffers.ArrayPool<float>.Shared.Rent(count * n);
            var bad = System.Buffers.ArrayPool<bool>.Shared.Rent(count);
            Array.Clear(bad, 0, count);
            for (int c = 0; c < n; c++)
            {
                switch (_columns[c])
                {
                    case Float64Column f:
                    {
                        var values = (_doubles[c] = f.Values).AsSpan(start, count);
                        for (int r = 0, at = c; r < values.Length; r++, at += n)
                        {
                            double v = values[r];
                            float x = (float)v;
                            if (double.IsNaN(v)) x = BitConverter.Int32BitsToSingle(0x7FC00000);
                            else if (Float32Rule.OutOfRange(v, x)) bad[r] = true;
                            chunk[at] = x;
                        }
                        break;
                    }
                    case Int64Column l:
                    {
                        var values = (_longs[c] = l.Values).AsSpan(start, count);
                        for (int r = 0, at = c; r < values.Length; r++, at += n) chunk[at] = (float)(double)values[r];
                        break;
                    }
                    case BooleanColumn b:
                    {
                        var values = (_bools[c] = b.Values).AsSpan(start, count);
                        for (int r = 0, at = c; r < values.Length; r++, at += n) chunk[at] = values[r] ? 1 : 0;
                        break;
                    }
                }
            }
            _chunk = chunk;
            _chunkBad = bad;
            _chunkStart = start;
            _chunkCount = count;
        }

        /// <summary>Gives the chunk's float32 block back to the pool (<see cref="UseChunkImages"/>).</summary>
        public void ReturnChunkImages()
        {
            if (_chunk is null) return;
            System.Buffers.ArrayPool<float>.Shared.Return(_chunk);
            System.Buffers.ArrayPool<bool>.Shared.Return(_chunkBad!);
            _chunk = null;
            _chunkBad = null;
        }

        /// <summary>
        /// The likely bytes of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>), for the
        /// chunk's first buffer (it grows when they take more). Dense: every value, 4 or 8 bytes. Sparse: a record holds
        /// only its non-zeros (value and key, about 12 bytes), so a sparse column counts the chunk's stored entries, not
        /// its width — a one-hot column of 1,000 values is one entry a row, where counting its width asked for 12 KB a
        /// row, 48 MiB a chunk, rounded up to 64 MiB by the pool, for records of about 100 bytes.
        /// </summary>
        public int ChunkSizeHint(int start, int count)
        {
            const int framing = 8 + 2 * EntryOverhead + 3 + 8;
            long values = (long)(_sparse ? 0 : _width) * count;
            if (_sparse)
            {
                for (int c = _hasLabel ? 1 : 0; c < _columns.Length; c++)
                {
                    values += _sparseColumns[c] is { } s ? s.RowOffsets[start + count] - s.RowOffsets[start] : (long)_batch.Schema[c].Width * count;
                }
            }
            long bytes = (long)framing * count + (_sparse ? 12 : _options.Features == TensorType.Float64 ? 8 : 4) * values;
            return (int)Math.Min(bytes, Array.MaxLength);
        }

        /// <summary>Writes row <paramref name="row"/>'s framed record and gives the XxHash3 of its payload.</summary>
        public ulong Write(int row, PooledBufferWriter output)
        {
            try
            {
                return WriteRecord(row, output);
            }
            catch (DataFormatException e) when (e.File is null && e.Column is null && ColumnThatDoesNotFit(row) is { } column)
            {
                // A value its tensor cannot hold: name its column (the sink names the input, line and row).
                throw Throw.Format(e.Problem, row: e.Row, column: column);
            }
        }

        /// <summary>
        /// On an error path: the first column whose value in row <paramref name="row"/> its tensor type cannot hold, in the
        /// order the record is written (the features, then the label), so it is the value the error names.
        /// </summary>
        private string? ColumnThatDoesNotFit(int row)
        {
            int first = _hasLabel ? 1 : 0;
            for (int k = 0; k < _columns.Length; k++)
            {
                int c = k + first < _columns.Length ? k + first : 0;
                var type = _hasLabel && c == 0 ? _options.Label : _options.Features;
                if (type == TensorType.Float64) continue;
                if (_sparseColumns[c] is { } s)
                {
                    for (int j = s.RowOffsets[row]; j < s.RowOffsets[row + 1]; j++) if (!Fits(s.Values[j], type)) return _batch.Schema[c].Name;
                    continue;
                }
                if (!Fits(Numeric(c, row), type)) return _batch.Schema[c].Name;
            }
            return null;

            static bool Fits(double v, TensorType type) => type == TensorType.Float32 ? !Float32Rule.OutOfRange(v, (float)v) : FitsInt32(v);
        }

        private ulong WriteRecord(int row, PooledBufferWriter output)
        {
            // The row's values as float32, parsed once while reading (see RawRecords.Float32): copied, not parsed again.
            ReadOnlySpan<byte> image = default;
            if (_float32 is not null)
            {
                image = _float32[row].Span;
                Prefetch(row + PrefetchAhead);
            }
            else if (_chunk is not null && (uint)(row - _chunkStart) < (uint)_chunkCount && !_chunkBad![row - _chunkStart])
            {
                int fields = _columns.Length;
                image = System.Runtime.InteropServices.MemoryMarshal.AsBytes(_chunk.AsSpan((row - _chunkStart) * fields, fields));
            }
            int n = image.IsEmpty ? Collect(row, out double label) : CollectFloat32(image, out label);
            // Dense float32 features are the image's bytes after the label's.
            var featureBytes = image.IsEmpty || _sparse ? default : image[(_hasLabel ? 4 : 0)..];
            var features = Layout(_options.Features, n, _sparse, _sparse ? _width : -1, row);
            RecordIOFraming.CheckLength((long)features.Entry + 6, row + 1);
            string? uid = _options.Uid ? _batch.Rows.RowIds[row].ToString(CultureInfo.InvariantCulture) : null;
            string? metadata = _options.Metadata ? Metadata(row) : null;
            long most = 1 + 5 + (long)features.Entry
                + (_hasLabel ? EntryOverhead + 1 + 5 + 10 : 0)
                + (uid is null ? 0 : 1 + 5 + Encoding.UTF8.GetMaxByteCount(uid.Length))
                + (metadata is null ? 0 : 1 + 5 + Encoding.UTF8.GetMaxByteCount(metadata.Length));
            int recordStart = output.Length;
            var buffer = output.Reserve(8 + (int)most + 3);
            var span = buffer.AsSpan(recordStart + 8, (int)most);
            int at = 0;
            WriteEntry(span, ref at, 0x0A, _options.Features, features, _values.AsSpan(0, n), _sparse ? _keys.AsSpan(0, n) : default, _sparse ? _width : -1, row, featureBytes);
            if (_hasLabel)
            {
                _values[0] = label;
                var labelLayout = Layout(_options.Label, 1, sparse: false, -1, row);
                WriteEntry(span, ref at, 0x12, _options.Label, labelLayout, _values.AsSpan(0, 1), default, -1, row);
            }
            if (uid is not null) WriteString(span, ref at, 0x1A, uid);
            if (metadata is not null) WriteString(span, ref at, 0x22, metadata);
            RecordIOFraming.CheckLength(at);
            var payload = span[..at];
            ulong hash = XxHash3.HashToUInt64(payload);
            if (_options.Escape && RecordIOFraming.HoldsAlignedMagic(payload))
            {
                // Cut into parts (rare): the payload moves out of the way of the part headers.
                var copy = payload.ToArray();
                RecordIOFraming.Write(copy, escape: true, output);
                return hash;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(recordStart), RecordIOFraming.Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(recordStart + 4), RecordIOFraming.EncodeLRec(0, at));
            int padded = RecordIOFraming.Padded(at);
            buffer.AsSpan(recordStart + 8 + at, padded - at).Clear();
            output.Advance(8 + padded);
            return hash;
        }

        private string Metadata(int row)
        {
            var info = _batch.Rows;
            return string.Create(CultureInfo.InvariantCulture,
                $"{{\"row_id\":{info.RowIds[row]},\"source\":{info.Sources[row]},\"source_row\":{info.SourceRows[row]}}}");
        }

        /// <summary>Puts row <paramref name="row"/>'s feature values (and keys, sparse) in the scratch arrays; gives their count and the label.</summary>
        private int Collect(int row, out double label)
        {
            if (_text is not null && _text[row].Length > 0) return CollectText(_text[row].Span, out label);
            label = _hasLabel ? Numeric(0, row) : 0;
            int n = 0;
            for (int c = _hasLabel ? 1 : 0; c < _columns.Length; c++)
            {
                if (_sparseColumns[c] is { } s)
                {
                    int from = s.RowOffsets[row], to = s.RowOffsets[row + 1];
                    EnsureRoom(n + to - from);
                    for (int j = from; j < to; j++)
                    {
                        _values[n] = s.Values[j];
                        _keys[n++] = (ulong)(_offsets[c] + s.Indices[j]);
                    }
                    continue;
                }
                double v = Numeric(c, row);
                if (_sparse)
                {
                    if (v == 0) continue;
                    _keys[n] = (ulong)_offsets[c];
                }
                _values[n++] = v;
            }
            return n;
        }

        /// <summary>
        /// How many rows ahead <see cref="Write"/> asks for a row's float32 values: the rows of a shuffled batch lie anywhere in
        /// the source's blocks, so each row's first read was a cache miss (8 % of W1's samples on one load) before this.
        /// </summary>
        private const int PrefetchAhead = 8;

        /// <summary>Asks the CPU to load row <paramref name="row"/>'s float32 values into its caches (a hint; no effect on results).</summary>
        private unsafe void Prefetch(int row)
        {
            if (!Sse.IsSupported || (uint)row >= (uint)_float32!.Length) return;
            var values = _float32[row].Span;
            fixed (byte* p = values)
            {
                for (int at = 0; at < values.Length; at += 64) Sse.Prefetch0(p + at);
            }
        }

        /// <summary>
        /// <see cref="Collect"/> from a row's values as float32 (4 bytes a field, label first): the label, and sparse, the non-zero
        /// features with their keys; dense features are copied from the image by <see cref="WriteEntry"/>. A float32 widened to
        /// double converts back to itself, so the bytes are those of the parsed doubles.
        /// </summary>
        private int CollectFloat32(ReadOnlySpan<byte> image, out double label)
        {
            int first = _hasLabel ? 1 : 0;
            label = _hasLabel ? BinaryPrimitives.ReadSingleLittleEndian(image) : 0;
            if (!_sparse) return _width;
            int n = 0;
            for (int c = first; c < _columns.Length; c++)
            {
                float v = BinaryPrimitives.ReadSingleLittleEndian(image[(4 * c)..]);
                if (v == 0) continue;
                _keys[n] = (ulong)_offsets[c];
                _values[n++] = v;
            }
            return n;
        }

        /// <summary><see cref="Collect"/> from a row's kept text: its fields in column order, joined by commas.</summary>
        private int CollectText(ReadOnlySpan<byte> text, out double label)
        {
            label = 0;
            int n = 0;
            var integral = _integral!;
            for (int c = 0; c < integral.Length; c++)
            {
                double v;
                int length;
                if (integral[c])
                {
                    // A short integer (the label): a byte loop, not a vectorised search set up for long spans.
                    length = 0;
                    while (length < text.Length && text[length] != (byte)',') length++;
                    v = ParseInteger(text[..length]);
                }
                else if (!CanonicalNumber.TryParseCopyableField(text, out v, out length))
                {
                    v = Sources.KeptTextValues.Parse(text[..length]);
                }
                text = length < text.Length ? text[(length + 1)..] : default;
                if (c == 0 && _hasLabel)
                {
                    label = v;
                    continue;
                }
                if (_sparse)
                {
                    if (v == 0) continue;
                    _keys[n] = (ulong)_offsets[c];
                }
                _values[n++] = v;
            }
            return n;
        }

        private static double ParseInteger(ReadOnlySpan<byte> field)
        {
            if (Sources.ValueParser.TryParseInt64(field, out long value)) return value;
            throw new InvalidOperationException($"Kept row text holds '{Encoding.UTF8.GetString(field)}', which is not an integer.");
        }

        private void EnsureRoom(int count)
        {
            if (count <= _values.Length) return;
            int size = Math.Max(count, 2 * _values.Length);
            Array.Resize(ref _values, size);
            Array.Resize(ref _keys, size);
        }

        private double Numeric(int column, int row)
        {
            if (_doubles[column] is { } doubles) return doubles[row];
            if (_longs[column] is { } longs) return longs[row];
            if (_bools[column] is { } bools) return bools[row] ? 1 : 0;
            // With kept text around, a row without it reads its value alone (a deferred gather is not done for a few rows).
            switch (_columns[column])
            {
                case Float64Column f when _text is not null: return f.ValueAt(row);
                case Int64Column l when _text is not null: return l.ValueAt(row);
                case Float64Column f: return (_doubles[column] = f.Values)[row];
                case Int64Column l: return (_longs[column] = l.Values)[row];
                case BooleanColumn b: return (_bools[column] = b.Values)[row] ? 1 : 0;
                default: throw new NotSupportedException($"RecordIO-protobuf cannot hold {_columns[column].Kind} columns.");
            }
        }

        /// <summary>The sizes of one map entry <c>{ key: "values", value: Value { tensor } }</c>.</summary>
        private readonly record struct EntryLayout(int ValuesBytes, int KeysBytes, int Tensor, int Value, int Entry);

        private EntryLayout Layout(TensorType type, int count, bool sparse, int shape, int row)
        {
            var values = _values.AsSpan(0, count);
            int valuesBytes = type switch
            {
                TensorType.Float32 => 4 * count,
                TensorType.Float64 => 8 * count,
                _ => Int32Bytes(values, row),
            };
            int keysBytes = 0;
            if (sparse) foreach (var k in _keys.AsSpan(0, count)) keysBytes += VarintSize(k);
            int tensor = (count > 0 ? 1 + VarintSize((ulong)valuesBytes) + valuesBytes : 0)
                + (keysBytes > 0 ? 1 + VarintSize((ulong)keysBytes) + keysBytes : 0)
                + (shape >= 0 ? 1 + VarintSize((ulong)VarintSize((ulong)shape)) + VarintSize((ulong)shape) : 0);
            int value = 1 + VarintSize((ulong)tensor) + tensor;
            int entry = 2 + ValuesKey.Length + 1 + VarintSize((ulong)value) + value;
            return new EntryLayout(valuesBytes, keysBytes, tensor, value, entry);
        }

        /// <summary>Writes <c>field { key: "values", value: Value { tensor } }</c> of a map field at <paramref name="at"/>.</summary>
        /// <remarks><paramref name="float32"/>, when not empty, holds the values already as little-endian float32 (a float32 tensor's bytes).</remarks>
        private static void WriteEntry(Span<byte> span, ref int at, byte fieldTag, TensorType type, in EntryLayout layout, ReadOnlySpan<double> values, ReadOnlySpan<ulong> keys, int shape, int row, ReadOnlySpan<byte> float32 = default)
        {
            span[at++] = fieldTag;
            at += WriteVarint(span[at..], (ulong)layout.Entry);
            span[at++] = 0x0A;
            span[at++] = (byte)ValuesKey.Length;
            ValuesKey.CopyTo(span[at..]);
            at += ValuesKey.Length;
            span[at++] = 0x12;
            at += WriteVarint(span[at..], (ulong)layout.Value);
            span[at++] = type switch { TensorType.Float32 => 0x12, TensorType.Float64 => 0x1A, _ => 0x3A };
            at += WriteVarint(span[at..], (ulong)layout.Tensor);
            if (values.Length > 0)
            {
                span[at++] = 0x0A;
                at += WriteVarint(span[at..], (ulong)layout.ValuesBytes);
                var dest = span.Slice(at, layout.ValuesBytes);
                switch (type)
                {
                    case TensorType.Float32 when !float32.IsEmpty:
                        float32.CopyTo(dest);
                        break;
                    case TensorType.Float32:
                        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dest[(4 * i)..], ToFloat32(values[i], row));
                        break;
                    case TensorType.Float64:
                        for (int i = 0; i < values.Length; i++)
                        {
                            double v = values[i];
                            BinaryPrimitives.WriteDoubleLittleEndian(dest[(8 * i)..], double.IsNaN(v) ? BitConverter.Int64BitsToDouble(0x7FF8000000000000) : v);
                        }
                        break;
                    default:
                        int k = 0;
                        foreach (double v in values) k += WriteVarint(dest[k..], unchecked((ulong)(long)(int)v));
                        break;
                }
                at += layout.ValuesBytes;
            }
            if (layout.KeysBytes > 0)
            {
                span[at++] = 0x12;
                at += WriteVarint(span[at..], (ulong)layout.KeysBytes);
                foreach (var k in keys) at += WriteVarint(span[at..], k);
            }
            if (shape >= 0)
            {
                span[at++] = 0x1A;
                at += WriteVarint(span[at..], (ulong)VarintSize((ulong)shape));
                at += WriteVarint(span[at..], (ulong)shape);
            }
        }

        private static float ToFloat32(double v, int row)
        {
            if (double.IsNaN(v)) return BitConverter.Int32BitsToSingle(0x7FC00000);
            float f = (float)v;
            if (Float32Rule.OutOfRange(v, f))
            {
                throw Throw.Format($"found {v.ToString("R", CultureInfo.InvariantCulture)}, which does not fit a float32 tensor (largest ±3.4028235E+38); expected a smaller value, or --dtype float64", row: row + 1);
            }
            return f;
        }

        /// <summary>Whether an int32 tensor holds the value: a whole number in int32's range (NaN is not).</summary>
        private static bool FitsInt32(double v) => v == Math.Floor(v) && v >= int.MinValue && v <= int.MaxValue;

        private static int Int32Bytes(ReadOnlySpan<double> values, int row)
        {
            int n = 0;
            foreach (double v in values)
            {
                if (!FitsInt32(v))
                {
                    throw Throw.Format($"found {v.ToString("R", CultureInfo.InvariantCulture)}, which does not fit an int32 tensor; expected whole numbers from -2147483648 to 2147483647, or --dtype float32/float64", row: row + 1);
                }
                n += VarintSize(unchecked((ulong)(long)(int)v));
            }
            return n;
        }

        private static void WriteString(Span<byte> span, ref int at, byte tag, string text)
        {
            int n = Encoding.UTF8.GetByteCount(text);
            span[at++] = tag;
            at += WriteVarint(span[at..], (ulong)n);
            at += Encoding.UTF8.GetBytes(text, span[at..]);
        }

        private static int WriteVarint(Span<byte> span, ulong v)
        {
            int i = 0;
            while (v >= 0x80)
            {
                span[i++] = (byte)(v | 0x80);
                v >>= 7;
            }
            span[i++] = (byte)v;
            return i;
        }

        private static int VarintSize(ulong v) => v == 0 ? 1 : (63 - System.Numerics.BitOperations.LeadingZeroCount(v)) / 7 + 1;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
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
    public FormattedChunk Format(RecordBatch batch, int start, int count)
    {
        // A pooled buffer, handed over to the writer, which gives it back once written (see PooledBufferWriter).
        var output = new PooledBufferWriter(count * (24 + batch.Schema.Count * 5));
        var payload = new ArrayBufferWriter<byte>(1024);
        var ends = new int[count];
        var hashes = new ulong[count];
        var encoder = new RowEncoder(batch, hasLabel, _options, IsSparse(batch.Schema));
        for (int k = 0; k < count; k++)
        {
            payload.ResetWrittenCount();
            encoder.Encode(start + k, payload);
            hashes[k] = XxHash3.HashToUInt64(payload.WrittenSpan);
            RecordIOFraming.Write(payload.WrittenSpan, _options.Escape, output);
            ends[k] = output.Length;
        }
        return output.ToChunk(ends, hashes);
    }

    /// <summary>Encodes rows of one batch; holds per-batch lookups so each row is a tight loop.</summary>
    private sealed class RowEncoder
    {
        private static readonly byte[] s_valuesKey = "values"u8.ToArray();
        private readonly RecordBatch _batch;
        private readonly bool _hasLabel;
        private readonly RecordIOOptions _options;
        private readonly bool _sparse;
        private readonly int _width;
        private readonly int[] _offsets;
        private readonly List<double> _values = new(64);
        private readonly List<ulong> _keys = new(64);
        // Each column's values, resolved once per chunk (no type test or property read per value).
        private readonly double[]?[] _doubles;
        private readonly long[]?[] _longs;
        private readonly bool[]?[] _bools;
        private readonly SparseColumn?[] _sparseColumns;

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
            int n = batch.Columns.Count;
            _doubles = new double[]?[n];
            _longs = new long[]?[n];
            _bools = new bool[]?[n];
            _sparseColumns = new SparseColumn?[n];
            for (int c = 0; c < n; c++)
            {
                switch (batch.Columns[c])
                {
                    case SparseColumn s: _sparseColumns[c] = s; break;
                    case Float64Column d: _doubles[c] = d.Values; break;
                    case Int64Column l: _longs[c] = l.Values; break;
                    case BooleanColumn b: _bools[c] = b.Values; break;
                }
            }
        }

        public void Encode(int row, ArrayBufferWriter<byte> w)
        {
            CollectFeatures(row);
            WriteMapEntry(w, 0x0A, _options.Features, _values, _sparse ? _keys : null, _sparse ? _width : -1, row);
            if (_hasLabel)
            {
                _values.Clear();
                _keys.Clear();
                _values.Add(Numeric(0, row));
                WriteMapEntry(w, 0x12, _options.Label, _values, null, -1, row);
            }
            var info = _batch.Rows;
            if (_options.Uid) WriteString(w, 0x1A, info.RowIds[row].ToString(CultureInfo.InvariantCulture));
            if (_options.Metadata)
            {
                WriteString(w, 0x22, string.Create(CultureInfo.InvariantCulture,
                    $"{{\"row_id\":{info.RowIds[row]},\"source\":{info.Sources[row]},\"source_row\":{info.SourceRows[row]}}}"));
            }
        }

        private void CollectFeatures(int row)
        {
            _values.Clear();
            _keys.Clear();
            for (int c = _hasLabel ? 1 : 0; c < _sparseColumns.Length; c++)
            {
                if (_sparseColumns[c] is { } s)
                {
                    for (int j = s.RowOffsets[row]; j < s.RowOffsets[row + 1]; j++)
                    {
                        _values.Add(s.Values[j]);
                        _keys.Add((ulong)(_offsets[c] + s.Indices[j]));
                    }
                    continue;
                }
                double v = Numeric(c, row);
                if (_sparse)
                {
                    if (v == 0) continue;
                    _keys.Add((ulong)_offsets[c]);
                }
                _values.Add(v);
            }
        }

        private double Numeric(int column, int row)
        {
            if (_doubles[column] is { } d) return d[row];
            if (_longs[column] is { } l) return l[row];
            if (_bools[column] is { } b) return b[row] ? 1 : 0;
            throw new NotSupportedException($"RecordIO-protobuf cannot hold {_batch.Columns[column].Kind} columns.");
        }

        /// <summary>Writes <c>field { key: "values", value: Value { tensor } }</c> of a map field.</summary>
        private void WriteMapEntry(ArrayBufferWriter<byte> w, byte fieldTag, TensorType type, List<double> values, List<ulong>? keys, int shape, int row)
        {
            int valuesBytes = type switch
            {
                TensorType.Float32 => 4 * values.Count,
                TensorType.Float64 => 8 * values.Count,
                _ => Int32Bytes(values, row),
            };
            int keysBytes = 0;
            if (keys is not null) foreach (var k in keys) keysBytes += VarintSize(k);
            int tensor = (values.Count > 0 ? 1 + VarintSize((ulong)valuesBytes) + valuesBytes : 0)
                + (keys is { Count: > 0 } ? 1 + VarintSize((ulong)keysBytes) + keysBytes : 0)
                + (shape >= 0 ? 1 + VarintSize((ulong)VarintSize((ulong)shape)) + VarintSize((ulong)shape) : 0);
            int value = 1 + VarintSize((ulong)tensor) + tensor;
            int entry = 2 + s_valuesKey.Length + 1 + VarintSize((ulong)value) + value;
            RecordIOFraming.CheckLength((long)entry + 6, row + 1);

            WriteByte(w, fieldTag);
            WriteVarint(w, (ulong)entry);
            WriteByte(w, 0x0A);
            WriteVarint(w, (ulong)s_valuesKey.Length);
            w.Write(s_valuesKey);
            WriteByte(w, 0x12);
            WriteVarint(w, (ulong)value);
            WriteByte(w, type switch { TensorType.Float32 => 0x12, TensorType.Float64 => 0x1A, _ => 0x3A });
            WriteVarint(w, (ulong)tensor);
            if (values.Count > 0)
            {
                WriteByte(w, 0x0A);
                WriteVarint(w, (ulong)valuesBytes);
                var span = w.GetSpan(valuesBytes);
                int at = 0;
                var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values);
                switch (type)
                {
                    case TensorType.Float32:
                        foreach (double v in all)
                        {
                            BinaryPrimitives.WriteSingleLittleEndian(span[at..], ToFloat32(v, row));
                            at += 4;
                        }
                        break;
                    case TensorType.Float64:
                        foreach (double v in all)
                        {
                            BinaryPrimitives.WriteDoubleLittleEndian(span[at..], double.IsNaN(v) ? BitConverter.Int64BitsToDouble(0x7FF8000000000000) : v);
                            at += 8;
                        }
                        break;
                    default:
                        foreach (double v in all) at += WriteVarint(span[at..], unchecked((ulong)(long)(int)v));
                        break;
                }
                w.Advance(valuesBytes);
            }
            if (keys is { Count: > 0 })
            {
                WriteByte(w, 0x12);
                WriteVarint(w, (ulong)keysBytes);
                foreach (var k in keys) WriteVarint(w, k);
            }
            if (shape >= 0)
            {
                WriteByte(w, 0x1A);
                WriteVarint(w, (ulong)VarintSize((ulong)shape));
                WriteVarint(w, (ulong)shape);
            }
        }

        private static float ToFloat32(double v, int row)
        {
            if (double.IsNaN(v)) return BitConverter.Int32BitsToSingle(0x7FC00000);
            float f = (float)v;
            if (float.IsInfinity(f) && !double.IsInfinity(v))
            {
                throw Throw.Format($"found {v.ToString("R", CultureInfo.InvariantCulture)}, which does not fit a float32 tensor (largest ±3.4028235E+38); expected a smaller value, or --dtype float64", row: row + 1);
            }
            return f;
        }

        private static int Int32Bytes(List<double> values, int row)
        {
            int n = 0;
            foreach (double v in values)
            {
                if (v != Math.Floor(v) || v < int.MinValue || v > int.MaxValue)
                {
                    throw Throw.Format($"found {v.ToString("R", CultureInfo.InvariantCulture)}, which does not fit an int32 tensor; expected whole numbers from -2147483648 to 2147483647, or --dtype float32/float64", row: row + 1);
                }
                n += VarintSize(unchecked((ulong)(long)(int)v));
            }
            return n;
        }

        private static void WriteString(ArrayBufferWriter<byte> w, byte tag, string text)
        {
            int n = Encoding.UTF8.GetByteCount(text);
            WriteByte(w, tag);
            WriteVarint(w, (ulong)n);
            w.Advance(Encoding.UTF8.GetBytes(text, w.GetSpan(n)));
        }

        private static void WriteByte(ArrayBufferWriter<byte> w, byte b)
        {
            w.GetSpan(1)[0] = b;
            w.Advance(1);
        }

        private static void WriteVarint(ArrayBufferWriter<byte> w, ulong v) => w.Advance(WriteVarint(w.GetSpan(10), v));

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

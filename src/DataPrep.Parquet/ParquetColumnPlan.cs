using System.Buffers;
using System.Globalization;
using System.Numerics;
using DataPrep.Data;
using DataPrep.Pipeline;
using Parquet;
using Parquet.Schema;

namespace DataPrep.Sources;

/// <summary>
/// How one Parquet column becomes one <see cref="Column"/>: the Parquet.Net type to read it as and the
/// conversion to the chosen <see cref="ColumnKind"/>. One plan per column, made once from the footer.
/// </summary>
/// <remarks>
/// Columns stored as INT32 or INT64 (every integer width, DATE, TIMESTAMP, DECIMAL up to 18 digits) are
/// read as their physical int/long and converted here. Parquet.Net 6.1 decodes DELTA_BINARY_PACKED
/// (the default integer encoding of Parquet format v2 writers) only into int and long, so reading an
/// INT_8 column as sbyte or a TIMESTAMP as DateTime fails on such files; the physical values also let
/// DataPrep choose the rounding of nanoseconds and keep decimals exact.
/// </remarks>
internal abstract class ParquetColumnPlan
{
    private protected ParquetColumnPlan(DataField field, ColumnKind kind, string parquetType, DataField? readField = null)
    {
        Field = field;
        ReadField = readField ?? field;
        Kind = kind;
        ParquetType = parquetType;
    }

    /// <summary>The file's field.</summary>
    public DataField Field { get; }

    /// <summary>The field passed to Parquet.Net: <see cref="Field"/>, or a stand-in of its physical type.</summary>
    public DataField ReadField { get; }

    /// <summary>The column name.</summary>
    public string Name => Field.Name;

    /// <summary>The kind of the column produced.</summary>
    public ColumnKind Kind { get; }

    /// <summary>The Parquet type, for messages (for example "INT32 (INT_8)" or "DECIMAL(20,4)").</summary>
    public string ParquetType { get; }

    /// <summary>Reads the column of one row group.</summary>
    public abstract ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken);

    /// <summary>Chooses the plan for a flat column, honouring a requested kind where it makes sense.</summary>
    /// <exception cref="PipelineValidationException">The requested kind cannot be read from this column.</exception>
    /// <exception cref="DataFormatException">The column's type is not supported.</exception>
    public static ParquetColumnPlan Create(DataField field, ColumnKind? requested, string path)
    {
        string type = Describe(field);
        Type clr = field.ClrType;
        var physical = field.SchemaElement?.Type;
        bool int32 = physical == global::Parquet.Meta.Type.INT32, int64 = physical == global::Parquet.Meta.Type.INT64;
        ColumnKind[] allowed;
        Func<ColumnKind, ParquetColumnPlan> make;
        if (field is TimeDataField time)
        {
            long perSecond = time.Precision switch
            {
                TimeUnitPrecision.Millis => 1_000,
                TimeUnitPrecision.Micros => 1_000_000,
                _ => 1_000_000_000,
            };
            allowed = [ColumnKind.Float64, ColumnKind.String];
            make = int32 ? k => new TimePlan<int>(field, k, type, perSecond)
                : int64 ? k => new TimePlan<long>(field, k, type, perSecond)
                : throw Unsupported(field, type, path);
        }
        else if (field is DecimalDataField dec && (int32 || int64))
        {
            (allowed, make) = (FloatKinds, int32 ? k => new UnscaledDecimalPlan<int>(field, k, type, dec.Scale) : k => new UnscaledDecimalPlan<long>(field, k, type, dec.Scale, exactIntegers: requested is null));
        }
        else if (clr == typeof(DateTime) && (int32 || int64))
        {
            // DATE: days since 1970-01-01 (INT32). TIMESTAMP: units since 1970-01-01T00:00 (INT64).
            long perTick = int32 ? -TimeSpan.TicksPerDay : TimestampUnitNanoseconds(field.SchemaElement!) switch
            {
                1_000_000 => -TimeSpan.TicksPerMillisecond,
                1_000 => -10,
                _ => 100, // nanoseconds: 100 of them per tick
            };
            (allowed, make) = (TimeKinds, int32 ? k => new EpochPlan<int>(field, k, type, perTick) : k => new EpochPlan<long>(field, k, type, perTick));
        }
        else if (clr == typeof(sbyte) || clr == typeof(short) || clr == typeof(int) || clr == typeof(byte) || clr == typeof(ushort) || clr == typeof(uint) || clr == typeof(long) || clr == typeof(ulong))
        {
            bool unsigned = clr == typeof(byte) || clr == typeof(ushort) || clr == typeof(uint) || clr == typeof(ulong);
            make = int32 ? k => new IntegerPlan<int>(field, k, type, unsigned)
                : int64 ? k => new IntegerPlan<long>(field, k, type, unsigned)
                : throw Unsupported(field, type, path);
            allowed = IntegerKinds;
        }
        else if (clr == typeof(float)) (allowed, make) = (FloatKinds, k => new FloatPlan<float>(field, k, type));
        else if (clr == typeof(double)) (allowed, make) = (FloatKinds, k => new FloatPlan<double>(field, k, type));
        else if (clr == typeof(Half)) (allowed, make) = (FloatKinds, k => new FloatPlan<Half>(field, k, type));
        else if (clr == typeof(decimal)) (allowed, make) = (FloatKinds, k => new DecimalPlan(field, k, type, exactIntegers: requested is null));
        else if (clr == typeof(bool)) (allowed, make) = ([ColumnKind.Boolean, ColumnKind.Int64, ColumnKind.Float64, ColumnKind.String], k => new BooleanPlan(field, k, type));
        else if (clr == typeof(string) || clr == typeof(ReadOnlyMemory<char>))
        {
            (allowed, make) = ([ColumnKind.String, ColumnKind.Int64, ColumnKind.Float64, ColumnKind.Boolean, ColumnKind.Timestamp], k => new StringPlan(field, k, type));
        }
        else if (clr == typeof(Guid)) (allowed, make) = ([ColumnKind.String], k => new GuidPlan(field, k, type));
        else if (clr == typeof(DateTime)) (allowed, make) = (TimeKinds, k => new TimestampPlan<DateTime>(field, k, type));
        else if (clr == typeof(DateTimeOffset)) (allowed, make) = (TimeKinds, k => new TimestampPlan<DateTimeOffset>(field, k, type));
        else if (clr == typeof(DateOnly)) (allowed, make) = (TimeKinds, k => new TimestampPlan<DateOnly>(field, k, type));
        else if (clr == typeof(byte[]) || clr == typeof(ReadOnlyMemory<byte>)) (allowed, make) = ([ColumnKind.Binary, ColumnKind.String], k => new BinaryPlan(field, k, type));
        else throw Unsupported(field, type, path);

        var kind = requested ?? allowed[0];
        if (Array.IndexOf(allowed, kind) < 0)
        {
            string others = string.Join(", ", allowed.Skip(1).Select(Lower));
            throw new PipelineValidationException(
                $"--column-type {field.Name}={Lower(kind)} cannot be applied to column '{field.Name}' of {path}: it is a Parquet {type} column, which reads as {Lower(allowed[0])}"
                + (others.Length > 0 ? $" and can also be read as {others}." : " and cannot be read as anything else."));
        }
        return make(kind);
    }

    private static readonly ColumnKind[] IntegerKinds = [ColumnKind.Int64, ColumnKind.Float64, ColumnKind.String];
    private static readonly ColumnKind[] FloatKinds = [ColumnKind.Float64, ColumnKind.String];
    private static readonly ColumnKind[] TimeKinds = [ColumnKind.Timestamp, ColumnKind.String];

    private static string Lower(ColumnKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Nanoseconds per unit of an INT64 timestamp (legacy converted types are millis or micros).</summary>
    private static long TimestampUnitNanoseconds(global::Parquet.Meta.SchemaElement se)
    {
        var unit = se.LogicalType?.TIMESTAMP?.Unit;
        if (unit?.NANOS is not null) return 1;
        if (unit?.MICROS is not null) return 1_000;
        if (unit?.MILLIS is not null) return 1_000_000;
        return se.ConvertedType == global::Parquet.Meta.ConvertedType.TIMESTAMP_MICROS ? 1_000 : 1_000_000;
    }

    /// <summary>A field of CLR type <typeparamref name="T"/> at the same top-level path, for reading the physical values.</summary>
    private protected static DataField Physical<T>(DataField field)
    {
        var stand = new DataField(field.Name, typeof(T), isNullable: field.IsNullable);
        _ = new ParquetSchema(stand); // attaches the field, which sets its definition level
        return stand;
    }

    private static DataFormatException Unsupported(DataField field, string type, string path)
        => Throw.Format(
            $"has the Parquet type {type}, which DataPrep does not read; expected integers, floating point, decimals, booleans, strings, UUIDs, dates, timestamps, times or binary. Cast or drop the column before preparing the data",
            path, column: field.Name);

    /// <summary>A short name of the column's Parquet type.</summary>
    public static string Describe(DataField field)
    {
        switch (field)
        {
            case DecimalDataField d: return $"DECIMAL({d.Precision},{d.Scale})";
            case DateTimeDataField { DateTimeFormat: DateTimeFormat.Date }: return "DATE";
            case DateTimeDataField { DateTimeFormat: DateTimeFormat.Impala }: return "INT96 timestamp";
            case DateTimeDataField t: return $"TIMESTAMP({t.Unit.ToString().ToUpperInvariant()}, {(t.IsAdjustedToUTC ? "adjusted to UTC" : "not adjusted to UTC")})";
            case TimeDataField t: return $"TIME({t.Precision.ToString().ToUpperInvariant()})";
        }
        var se = field.SchemaElement;
        string physical = se?.Type?.ToString() ?? field.ClrType.Name;
        string? annotation = se?.ConvertedType?.ToString()
            ?? (field.ClrType == typeof(Guid) ? "UUID" : field.ClrType == typeof(Half) ? "FLOAT16" : null);
        return annotation is null ? physical : $"{physical} ({annotation})";
    }

    /// <summary>
    /// Reads a column of value type <typeparamref name="T"/> (the field's CLR type): the values with
    /// defaults at missing rows, and the null mask (null when no row is missing).
    /// </summary>
    private protected async ValueTask<(T[] Values, bool[]? Nulls)> ReadValuesAsync<T>(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T[rows];
        if (rows == 0) return (values, null);
        int maxLevel = ReadField.MaxDefinitionLevel;
        if (maxLevel == 0)
        {
            await rowGroup.ReadAsync<T>(ReadField, values.AsMemory(), null, cancellationToken).ConfigureAwait(false);
            return (values, null);
        }
        int[] levels = ArrayPool<int>.Shared.Rent(rows);
        try
        {
            // Raw reading packs the present values at the front; the definition levels say which rows they belong to.
            await rowGroup.ReadRawAsync<T>(ReadField, values.AsMemory(), levels.AsMemory(0, rows), null, cancellationToken).ConfigureAwait(false);
            int present = 0;
            for (int i = 0; i < rows; i++) if (levels[i] == maxLevel) present++;
            if (present == rows) return (values, null);
            var nulls = new bool[rows];
            int from = present - 1;
            for (int i = rows - 1; i >= 0; i--)
            {
                if (levels[i] == maxLevel) values[i] = values[from--];
                else { values[i] = default; nulls[i] = true; }
            }
            return (values, nulls);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(levels);
        }
    }

    private protected static bool IsNull(bool[]? nulls, int row) => nulls is not null && nulls[row];

    private protected static string?[] Strings<T>(T[] values, bool[]? nulls, Func<T, string> format)
    {
        var result = new string?[values.Length];
        for (int i = 0; i < values.Length; i++) if (!IsNull(nulls, i)) result[i] = format(values[i]);
        return result;
    }

    private protected DataFormatException NotConvertible(string found, string expected, ReadContext at, int row)
        => Throw.Format($"found {found}, expected {expected}", at.Path, row: at.FirstOrdinal + row, column: Name, within: at.Within(row));

    /// <summary>
    /// Applies the non-finite policy to a float column read from the file: NaN and ±infinity are refused (naming row
    /// group and row), read as missing, or kept, as <see cref="SourceOptions.NonFinite"/> says (the same rule as text).
    /// </summary>
    private protected Column AdmitNonFinite(double[] values, bool[]? nulls, int rows, ReadContext at)
    {
        if (at.NonFinite == NonFinitePolicy.Keep) return new Float64Column(values, nulls, rows);
        for (int i = 0; i < rows; i++)
        {
            if (double.IsFinite(values[i]) || IsNull(nulls, i)) continue;
            if (at.NonFinite == NonFinitePolicy.Error)
            {
                var text = System.Text.Encoding.UTF8.GetBytes(values[i].ToString(CultureInfo.InvariantCulture));
                // Under --on-bad-row skip|quarantine the row is noted and keeps its value (it is left out of its batch).
                at.Refuse(i, BadRowCause.NonFinite, Throw.Format(ValueParser.NonFiniteProblem(text, ColumnKind.Float64)!, at.Path, row: at.FirstOrdinal + i, column: Name, within: at.Within(i)));
                continue;
            }
            (nulls ??= new bool[rows])[i] = true;
            values[i] = 0;
        }
        return new Float64Column(values, nulls, rows);
    }

    /// <summary>
    /// For a DECIMAL column of scale 0 (integers) read as float because no --column-type chose: refuses each value a
    /// double holds only as another integer (beyond 2^53), as an inferred float column refuses such an integer in text
    /// (<c>ValueParser.IsInexactInteger</c>). A column set to float reads the nearest double, as asked.
    /// </summary>
    private protected void RefuseInexactIntegers(double[] values, bool[]? nulls, int rows, ReadContext at, Func<int, BigInteger> exact)
    {
        for (int i = 0; i < rows; i++)
        {
            // The exact integer is made only beyond 2^53, where a double may not hold it.
            if (IsNull(nulls, i) || Math.Abs(values[i]) < ValueParser.ExactIntegerLimit) continue;
            var integer = exact(i);
            if (ValueParser.DoubleHolds(integer, values[i])) continue;
            at.Refuse(i, BadRowCause.NotOfType, Throw.Format(
                ValueParser.InexactIntegerMessage(integer.ToString(CultureInfo.InvariantCulture), $"a {ParquetType} column is read as float", values[i], Name),
                at.Path, row: at.FirstOrdinal + i, column: Name, within: at.Within(i)));
        }
    }
}

/// <summary>
/// Integers of any width, read as the physical INT32/INT64 (<typeparamref name="T"/>); unsigned types are
/// reinterpreted. Int64 (a UINT64 above Int64's range is an error), Float64 or String.
/// </summary>
internal sealed class IntegerPlan<T>(DataField field, ColumnKind kind, string type, bool unsigned)
    : ParquetColumnPlan(field, kind, type, Physical<T>(field))
    where T : struct, IBinaryInteger<T>
{
    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<T>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        if (Kind == ColumnKind.String)
        {
            return new StringColumn(Strings(values, nulls, v => unsigned
                ? ulong.CreateTruncating(Unsigned(v)).ToString(CultureInfo.InvariantCulture)
                : long.CreateTruncating(v).ToString(CultureInfo.InvariantCulture)), rows);
        }
        if (Kind == ColumnKind.Float64)
        {
            var doubles = new double[rows];
            for (int i = 0; i < rows; i++) doubles[i] = unsigned ? double.CreateTruncating(Unsigned(values[i])) : double.CreateTruncating(values[i]);
            return new Float64Column(doubles, nulls, rows);
        }
        if (typeof(T) == typeof(long))
        {
            var same = (long[])(object)values;
            if (unsigned)
            {
                // UINT64 above Int64.MaxValue reads as a negative long.
                for (int i = 0; i < rows; i++)
                {
                    if (same[i] < 0 && !IsNull(nulls, i))
                    {
                        throw NotConvertible(((ulong)same[i]).ToString(CultureInfo.InvariantCulture),
                            $"an integer of at most {long.MaxValue} to fit Int64 (read the column as float64 or string with --column-type {Name}=float64)", at, i);
                    }
                }
            }
            return new Int64Column(same, nulls, rows);
        }
        var longs = new long[rows];
        for (int i = 0; i < rows; i++) longs[i] = unsigned ? long.CreateTruncating(Unsigned(values[i])) : long.CreateTruncating(values[i]);
        return new Int64Column(longs, nulls, rows);
    }

    /// <summary>The unsigned value of the same bits (UINT_32 stored in an INT32, UINT_64 in an INT64).</summary>
    private static ulong Unsigned(T value) => typeof(T) == typeof(int) ? (uint)(int)(object)value : (ulong)(long)(object)value;
}

/// <summary>FLOAT, DOUBLE, FLOAT16: Float64 (widened exactly) or String (shortest round-trip text).</summary>
internal sealed class FloatPlan<T>(DataField field, ColumnKind kind, string type) : ParquetColumnPlan(field, kind, type)
    where T : struct, IFloatingPointIeee754<T>
{
    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<T>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        if (Kind == ColumnKind.String) return new StringColumn(Strings(values, nulls, v => v.ToString("R", CultureInfo.InvariantCulture)), rows);
        if (typeof(T) == typeof(double)) return AdmitNonFinite((double[])(object)values, nulls, rows, at);
        var doubles = new double[rows];
        for (int i = 0; i < rows; i++) doubles[i] = double.CreateTruncating(values[i]);
        return AdmitNonFinite(doubles, nulls, rows, at);
    }
}

/// <summary>
/// A column the run leaves out (<c>--drop</c>, or outside <c>--features</c>): kept in the schema, so options naming it
/// still find it, but never decoded, every row missing. So what DataPrep could not read or would refuse in it (a nested
/// type, NaN, an integer a double cannot hold) does not stop a run it never reaches.
/// </summary>
internal sealed class NotReadPlan(DataField field, ColumnKind kind, string type, bool inFile) : ParquetColumnPlan(field, kind, type)
{
    /// <summary>Whether <see cref="ParquetColumnPlan.Field"/> is the file's own field (false: a stand-in for a nested column, which has none).</summary>
    public bool InFile => inFile;

    public override ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var nulls = new bool[rows];
        Array.Fill(nulls, true);
        Column column = Kind switch
        {
            ColumnKind.Int64 => new Int64Column(new long[rows], nulls, rows),
            ColumnKind.Boolean => new BooleanColumn(new bool[rows], nulls, rows),
            ColumnKind.Timestamp => new TimestampColumn(new long[rows], nulls, rows),
            ColumnKind.String => new StringColumn(new string?[rows]),
            ColumnKind.Binary => new BinaryColumn(new ReadOnlyMemory<byte>[rows], nulls, rows),
            _ => new Float64Column(new double[rows], nulls, rows),
        };
        return ValueTask.FromResult(column);
    }
}

/// <summary>DECIMAL: Float64 (the nearest double) or String (every digit, as many decimals as the scale).</summary>
internal sealed class DecimalPlan(DataField field, ColumnKind kind, string type, bool exactIntegers = false) : ParquetColumnPlan(field, kind, type)
{
    private static readonly double[] PowersOf10 = Enumerable.Range(0, 23).Select(e => Math.Pow(10, e)).ToArray();

    // Parquet.Net's decimals do not always carry the column's scale (9190 at scale 4 reads as .919).
    private readonly string _format = field is DecimalDataField d ? "F" + d.Scale.ToString(CultureInfo.InvariantCulture) : "G";

    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<decimal>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        if (Kind == ColumnKind.String) return new StringColumn(Strings(values, nulls, v => v.ToString(_format, CultureInfo.InvariantCulture)), rows);
        var doubles = new double[rows];
        for (int i = 0; i < rows; i++) doubles[i] = ToDouble(values[i]);
        if (exactIntegers && Field is DecimalDataField { Scale: 0 }) RefuseInexactIntegers(doubles, nulls, rows, at, i => new BigInteger(decimal.Truncate(values[i])));
        return new Float64Column(doubles, nulls, rows);
    }

    /// <summary>The double nearest to <paramref name="value"/> (System.Decimal's own conversion can be off by an ulp).</summary>
    internal static double ToDouble(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        int scale = (bits[3] >> 16) & 0xFF;
        // value = ±m / 10^scale. With m below 2^53 and 10^scale exact (scale ≤ 22) both operands are exact
        // doubles, and one IEEE division rounds correctly.
        if (bits[2] == 0 && (uint)bits[1] < (1u << 21) && scale < PowersOf10.Length)
        {
            ulong m = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
            double d = m / PowersOf10[scale];
            return bits[3] < 0 ? -d : d;
        }
        Span<char> text = stackalloc char[48];
        value.TryFormat(text, out int length, default, CultureInfo.InvariantCulture);
        return double.Parse(text[..length], NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}

/// <summary>DECIMAL stored as INT32/INT64: the unscaled integer and the column's scale, so text stays exact.</summary>
internal sealed class UnscaledDecimalPlan<T>(DataField field, ColumnKind kind, string type, int scale, bool exactIntegers = false)
    : ParquetColumnPlan(field, kind, type, Physical<T>(field))
    where T : struct, IBinaryInteger<T>
{
    private static readonly double[] PowersOf10 = Enumerable.Range(0, 23).Select(e => Math.Pow(10, e)).ToArray();

    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<T>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        if (Kind == ColumnKind.String) return new StringColumn(Strings(values, nulls, v => Text(long.CreateTruncating(v), scale)), rows);
        var doubles = new double[rows];
        for (int i = 0; i < rows; i++) doubles[i] = ToDouble(long.CreateTruncating(values[i]), scale);
        if (exactIntegers && scale == 0) RefuseInexactIntegers(doubles, nulls, rows, at, i => long.CreateTruncating(values[i]));
        return new Float64Column(doubles, nulls, rows);
    }

    /// <summary>The double nearest to <paramref name="unscaled"/> / 10^<paramref name="scale"/>.</summary>
    internal static double ToDouble(long unscaled, int scale)
    {
        // Both operands exact (|m| below 2^53, 10^scale for scale ≤ 22): one IEEE division rounds correctly.
        if (scale >= 0 && scale < PowersOf10.Length && unscaled > -(1L << 53) && unscaled < (1L << 53)) return unscaled / PowersOf10[scale];
        ulong magnitude = unscaled < 0 ? (ulong)(-(unscaled + 1)) + 1 : (ulong)unscaled;
        var value = new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, unscaled < 0, (byte)Math.Clamp(scale, 0, 28));
        return DecimalPlan.ToDouble(value);
    }

    /// <summary>The exact text, with exactly <paramref name="scale"/> decimals.</summary>
    internal static string Text(long unscaled, int scale)
    {
        ulong magnitude = unscaled < 0 ? (ulong)(-(unscaled + 1)) + 1 : (ulong)unscaled;
        string digits = magnitude.ToString(CultureInfo.InvariantCulture);
        if (scale > 0)
        {
            digits = digits.PadLeft(scale + 1, '0');
            digits = string.Concat(digits.AsSpan(0, digits.Length - scale), ".", digits.AsSpan(digits.Length - scale));
        }
        return unscaled < 0 ? "-" + digits : digits;
    }
}

/// <summary>
/// DATE (INT32 days) and TIMESTAMP (INT64 millis, micros or nanos) since the Unix epoch: Timestamp ticks
/// (nanoseconds rounded down to the 100 ns tick, toward the past) or String (ISO 8601, UTC).
/// </summary>
/// <param name="field">The file's field.</param>
/// <param name="kind">The kind produced.</param>
/// <param name="type">The Parquet type, for messages.</param>
/// <param name="perTick">Negative: ticks per unit (-days, -millis, -micros); positive: units per tick (100 ns).</param>
internal sealed class EpochPlan<T>(DataField field, ColumnKind kind, string type, long perTick)
    : ParquetColumnPlan(field, kind, type, Physical<T>(field))
    where T : struct, IBinaryInteger<T>
{
    private static readonly long Epoch = DateTime.UnixEpoch.Ticks;
    private readonly bool _date = perTick == -TimeSpan.TicksPerDay;

    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<T>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        // INT64 units become ticks in place (each value is read before its slot is written; missing rows hold 0 in both).
        var ticks = typeof(T) == typeof(long) ? (long[])(object)values : new long[rows];
        for (int i = 0; i < rows; i++)
        {
            if (IsNull(nulls, i)) continue;
            long raw = long.CreateTruncating(values[i]);
            long since;
            if (perTick > 0) since = Math.DivRem(raw, perTick, out long rest) - (rest < 0 ? 1 : 0);
            else if (raw > long.MaxValue / -perTick || raw < long.MinValue / -perTick) since = long.MaxValue;
            else since = raw * -perTick;
            if (since > DateTime.MaxValue.Ticks - Epoch || since < -Epoch)
            {
                string unit = perTick switch { 100 => "nanoseconds", -10 => "microseconds", -TimeSpan.TicksPerMillisecond => "milliseconds", _ => "days" };
                throw NotConvertible($"{raw} {unit} since 1970-01-01 (outside the years 1–9999, perhaps an 'infinity' value)",
                    "a date or timestamp between 0001-01-01 and 9999-12-31", at, i);
            }
            ticks[i] = Epoch + since;
        }
        if (Kind == ColumnKind.Timestamp) return new TimestampColumn(ticks, nulls, rows);
        string format = _date ? "yyyy'-'MM'-'dd" : "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";
        return new StringColumn(Strings(ticks, nulls, t => new DateTime(t, DateTimeKind.Utc).ToString(format, CultureInfo.InvariantCulture)), rows);
    }
}

/// <summary>BOOLEAN: Boolean, Int64 or Float64 (0/1), or String (true/false).</summary>
internal sealed class BooleanPlan(DataField field, ColumnKind kind, string type) : ParquetColumnPlan(field, kind, type)
{
    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<bool>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        switch (Kind)
        {
            case ColumnKind.Boolean:
                return new BooleanColumn(values, nulls, rows);
            case ColumnKind.Int64:
                var longs = new long[rows];
                for (int i = 0; i < rows; i++) longs[i] = values[i] ? 1 : 0;
                return new Int64Column(longs, nulls, rows);
            case ColumnKind.Float64:
                var doubles = new double[rows];
                for (int i = 0; i < rows; i++) doubles[i] = values[i] ? 1 : 0;
                return new Float64Column(doubles, nulls, rows);
            default:
                return new StringColumn(Strings(values, nulls, v => v ? "true" : "false"), rows);
        }
    }
}

/// <summary>Strings: String as they are, or parsed as CSV fields are for another requested kind.</summary>
internal sealed class StringPlan(DataField field, ColumnKind kind, string type) : ParquetColumnPlan(field, kind, type)
{
    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var values = new string?[rows];
        if (rows > 0) await rowGroup.ReadAsync(Field, values.AsMemory(), null, cancellationToken).ConfigureAwait(false);
        if (Kind == ColumnKind.String) return new StringColumn(values, rows);
        var builder = ColumnBuilder.Create(Kind, rows, at.NonFinite);
        byte[] utf8 = ArrayPool<byte>.Shared.Rent(256);
        try
        {
            for (int i = 0; i < rows; i++)
            {
                string? s = values[i];
                if (s is null) { builder.SetNull(i); continue; }
                int max = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length);
                if (utf8.Length < max)
                {
                    ArrayPool<byte>.Shared.Return(utf8);
                    utf8 = ArrayPool<byte>.Shared.Rent(max);
                }
                int length = System.Text.Encoding.UTF8.GetBytes(s, utf8);
                var span = utf8.AsSpan(0, length).Trim(" \t"u8);
                if (span.IsEmpty) { builder.SetNull(i); continue; }
                if (!builder.TrySet(i, span))
                {
                    // Under --on-bad-row skip|quarantine the row is noted (and left out of its batch); the value reads as missing.
                    if (ValueParser.NonFiniteProblem(span, Kind) is { } problem) at.Refuse(i, BadRowCause.NonFinite, Throw.Format(problem, at.Path, row: at.FirstOrdinal + i, column: Name, within: at.Within(i)));
                    else at.Refuse(i, BadRowCause.NotOfType, NotConvertible(Throw.Quote(s), $"{builder.Expected} because of --column-type {Name}={Kind.ToString().ToLowerInvariant()}", at, i));
                    builder.SetNull(i);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
        return builder.Build(rows);
    }
}

/// <summary>UUID: String in canonical lower-case form.</summary>
internal sealed class GuidPlan(DataField field, ColumnKind kind, string type) : ParquetColumnPlan(field, kind, type)
{
    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<Guid>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        return new StringColumn(Strings(values, nulls, v => v.ToString("D")), rows);
    }
}

/// <summary>INT96 timestamps (and other DateTime-typed columns): Timestamp (UTC ticks) or String (ISO 8601).</summary>
internal sealed class TimestampPlan<T>(DataField field, ColumnKind kind, string type) : ParquetColumnPlan(field, kind, type)
    where T : struct
{
    private readonly bool _dateOnly = field is DateTimeDataField { DateTimeFormat: DateTimeFormat.Date } || typeof(T) == typeof(DateOnly);

    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<T>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        var ticks = new long[rows];
        switch (values)
        {
            // Parquet.Net gives naive (not UTC-adjusted) timestamps as DateTime of kind Local without
            // shifting them; the ticks are the wall-clock time, which DataPrep takes as UTC.
            case DateTime[] dates:
                for (int i = 0; i < rows; i++) ticks[i] = dates[i].Ticks;
                break;
            case DateTimeOffset[] offsets:
                for (int i = 0; i < rows; i++) ticks[i] = offsets[i].UtcTicks;
                break;
            case DateOnly[] days:
                for (int i = 0; i < rows; i++) ticks[i] = days[i].DayNumber * TimeSpan.TicksPerDay;
                break;
        }
        if (Kind == ColumnKind.Timestamp) return new TimestampColumn(ticks, nulls, rows);
        string format = _dateOnly ? "yyyy'-'MM'-'dd" : "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";
        return new StringColumn(Strings(ticks, nulls, t => new DateTime(t, DateTimeKind.Utc).ToString(format, CultureInfo.InvariantCulture)), rows);
    }
}

/// <summary>TIME: Float64 seconds since midnight, or String (c format, e.g. 12:34:56.7890000).</summary>
internal sealed class TimePlan<T>(DataField field, ColumnKind kind, string type, long perSecond)
    : ParquetColumnPlan(field, kind, type, Physical<T>(field))
    where T : struct, IBinaryInteger<T>
{
    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var (values, nulls) = await ReadValuesAsync<T>(rowGroup, rows, cancellationToken).ConfigureAwait(false);
        if (Kind == ColumnKind.String)
        {
            long ticksPer = TimeSpan.TicksPerSecond;
            return new StringColumn(Strings(values, nulls, v =>
            {
                long raw = long.CreateTruncating(v);
                long ticks = perSecond >= ticksPer ? raw / (perSecond / ticksPer) : raw * (ticksPer / perSecond);
                return TimeSpan.FromTicks(ticks).ToString("c", CultureInfo.InvariantCulture);
            }), rows);
        }
        var seconds = new double[rows];
        for (int i = 0; i < rows; i++) seconds[i] = double.CreateTruncating(values[i]) / perSecond;
        return new Float64Column(seconds, nulls, rows);
    }
}

/// <summary>Binary: Binary, or String when the bytes are UTF-8 text without a string annotation.</summary>
internal sealed class BinaryPlan(DataField field, ColumnKind kind, string type) : ParquetColumnPlan(field, kind, type)
{
    private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public override async ValueTask<Column> ReadAsync(ParquetRowGroupReader rowGroup, int rows, ReadContext at, CancellationToken cancellationToken)
    {
        var values = new byte[]?[rows];
        if (rows > 0) await rowGroup.ReadAsync(Field, values.AsMemory(), null, cancellationToken).ConfigureAwait(false);
        if (Kind == ColumnKind.String)
        {
            var strings = new string?[rows];
            for (int i = 0; i < rows; i++)
            {
                if (values[i] is not { } bytes) continue;
                try
                {
                    strings[i] = Strict.GetString(bytes);
                }
                catch (System.Text.DecoderFallbackException)
                {
                    throw NotConvertible($"{bytes.Length} bytes that are not UTF-8 text", $"UTF-8 text because of --column-type {Name}=string", at, i);
                }
            }
            return new StringColumn(strings, rows);
        }
        var memory = new ReadOnlyMemory<byte>[rows];
        bool[]? nulls = null;
        for (int i = 0; i < rows; i++)
        {
            if (values[i] is { } bytes) memory[i] = bytes;
            else (nulls ??= new bool[rows])[i] = true;
        }
        return new BinaryColumn(memory, nulls, rows);
    }
}

/// <summary>Copies a row range of a column (for splitting a row group into batches).</summary>
internal static class ColumnSlicer
{
    public static Column Slice(Column column, int start, int count) => column switch
    {
        Float64Column c => new Float64Column(c.Values.AsSpan(start, count).ToArray(), Nulls(c.Nulls, start, count), count),
        Int64Column c => new Int64Column(c.Values.AsSpan(start, count).ToArray(), Nulls(c.Nulls, start, count), count),
        BooleanColumn c => new BooleanColumn(c.Values.AsSpan(start, count).ToArray(), Nulls(c.Nulls, start, count), count),
        StringColumn c => new StringColumn(c.Values.AsSpan(start, count).ToArray(), count),
        TimestampColumn c => new TimestampColumn(c.Values.AsSpan(start, count).ToArray(), Nulls(c.Nulls, start, count), count),
        BinaryColumn c => new BinaryColumn(c.Values.AsSpan(start, count).ToArray(), Nulls(c.Nulls, start, count), count),
        _ => throw new NotSupportedException(column.GetType().Name),
    };

    private static bool[]? Nulls(bool[]? nulls, int start, int count)
    {
        if (nulls is null) return null;
        var slice = nulls.AsSpan(start, count);
        return slice.Contains(true) ? slice.ToArray() : null;
    }
}

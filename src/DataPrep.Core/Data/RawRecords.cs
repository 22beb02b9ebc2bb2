using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DataPrep.Data;

/// <summary>
/// The output text of rows that label-first CSV output can copy instead of formatting their numbers: the
/// reader keeps a row's text when every field is already written the way our CSV writer writes its value,
/// up to trailing zeros of the fraction, which it drops (<see cref="CanonicalNumber"/>); the fields joined
/// by commas are then exactly the bytes the writer would produce.
/// </summary>
/// <remarks>
/// Kept by the CSV reader when the output is label-first CSV, carried by <see cref="RecordBatch.Take"/>, RecordBatch.Gather
/// and <see cref="RecordBatch.WithRows"/> (which keep the columns), and by
/// stages that pass columns through unchanged; any stage that builds new columns builds a new batch, which
/// has none. The writer also checks that the batch's field names are the ones the text was read with.
/// </remarks>
public sealed class RawRecords
{
    /// <summary>Creates raw records for a batch.</summary>
    /// <param name="fieldNames">The fields the text holds, in order.</param>
    /// <param name="records">Per row: the record's output text, or empty when it must be formatted.</param>
    /// <param name="float32">Per row: the record's values as float32 (see <see cref="Float32"/>); null when not kept.</param>
    public RawRecords(IReadOnlyList<string> fieldNames, ReadOnlyMemory<byte>[] records, ReadOnlyMemory<byte>[]? float32 = null)
    {
        FieldNames = fieldNames;
        Records = records;
        Float32 = float32;
    }

    /// <summary>The fields the text holds, in order.</summary>
    public IReadOnlyList<string> FieldNames { get; }

    /// <summary>
    /// Per row: the record's text without its line break, or empty when the row must be formatted, or when its values are
    /// kept as float32 alone (a <see cref="Float32"/> image and no text: <see cref="Pipeline.Float32OnlyColumns"/>).
    /// </summary>
    public ReadOnlyMemory<byte>[] Records { get; }

    /// <summary>
    /// Per row (when the source was asked for them, <see cref="Pipeline.SourceOptions.KeepFloat32"/>): the values of the
    /// row's fields in order, as little-endian float32, 4 bytes each, each <c>(float)</c> of the double its field's text reads
    /// as (the rounding a float32 writer applies to the column's value); empty for a row without kept text, or with a value
    /// that float32 cannot hold as such (beyond ±3.4e38, or a non-zero that rounds to zero), which is then read from its text.
    /// Null when none were kept.
    /// </summary>
    public ReadOnlyMemory<byte>[]? Float32 { get; }

    /// <summary>Field <paramref name="column"/>'s value in one row's <see cref="Float32"/> values (4 bytes a field, little-endian).</summary>
    internal static float Float32At(ReadOnlySpan<byte> image, int column) => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(image.Slice(4 * column, 4));

    /// <summary>Whether the text holds exactly the fields of <paramref name="schema"/>, in order.</summary>
    public bool Matches(Schema schema)
    {
        if (schema.Count != FieldNames.Count) return false;
        for (int i = 0; i < FieldNames.Count; i++)
        {
            if (!string.Equals(schema[i].Name, FieldNames[i], StringComparison.Ordinal)) return false;
        }
        return true;
    }

    /// <summary>The text bytes this holds (for memory estimates).</summary>
    public long Bytes
    {
        get
        {
            long bytes = 16L * Records.Length;
            foreach (var r in Records) bytes += r.Length;
            if (Float32 is { } image)
            {
                bytes += 16L * image.Length;
                foreach (var r in image) bytes += r.Length;
            }
            return bytes;
        }
    }

    internal RawRecords Take(ReadOnlySpan<int> rows)
    {
        var picked = new ReadOnlyMemory<byte>[rows.Length];
        for (int i = 0; i < rows.Length; i++) picked[i] = Records[rows[i]];
        ReadOnlyMemory<byte>[]? image = null;
        if (Float32 is { } kept)
        {
            image = new ReadOnlyMemory<byte>[rows.Length];
            for (int i = 0; i < rows.Length; i++) image[i] = kept[rows[i]];
        }
        return new RawRecords(FieldNames, picked, image);
    }

    /// <summary>The raw records of rows gathered from several batches, when every batch has them for the same fields.</summary>
    /// <remarks>
    /// One pass over the rows, each row's text and float32 values picked together from arrays looked up once per batch: the
    /// rows come in shuffled order, so each pick is a cache miss, and two passes (text, then values), each through the list's
    /// indexer and the batch's properties per row, left the values' misses to the second pass instead of overlapping them.
    /// </remarks>
    internal static RawRecords? Gather(IReadOnlyList<RecordBatch> batches, int[] part, int[] row)
    {
        if (batches.Count == 0 || batches[0].Raw is not { } first) return null;
        var texts = new ReadOnlyMemory<byte>[batches.Count][];
        var images = new ReadOnlyMemory<byte>[]?[batches.Count];
        bool anyImage = false;
        for (int b = 0; b < texts.Length; b++)
        {
            if (batches[b].Raw is not { } r || !ReferenceEquals(r.FieldNames, first.FieldNames)) return null;
            texts[b] = r.Records;
            images[b] = r.Float32;
            anyImage |= r.Float32 is not null;
        }
        var picked = new ReadOnlyMemory<byte>[row.Length];
        if (!anyImage)
        {
            for (int i = 0; i < row.Length; i++) picked[i] = texts[part[i]][row[i]];
            return new RawRecords(first.FieldNames, picked);
        }
        // A batch without values as float32 gives its rows none: they are read from their text.
        var image = new ReadOnlyMemory<byte>[row.Length];
        for (int i = 0; i < row.Length; i++)
        {
            int p = part[i], r = row[i];
            picked[i] = texts[p][r];
            if (images[p] is { } kept) image[i] = kept[r];
        }
        return new RawRecords(first.FieldNames, picked, image);
    }
}

/// <summary>
/// Recognises numbers written exactly as our writers write them, so their input text can be copied.
/// </summary>
/// <remarks>
/// Integers: <c>-?(0|[1-9][0-9]*)</c>, not "-0". Doubles: the same, optionally followed by a point and digits
/// not ending in 0, with at most 15 significant digits and a magnitude of at least 1e-4 (no "0.00001").
/// Why that is enough: any decimal of at most 15 significant digits survives decimal → double → 15-digit
/// decimal (DBL_DIG), so it is the only decimal of at most 15 digits naming its double, hence that double's
/// shortest round-trip text; and .NET writes it in this fixed notation for decimal exponents −5 &lt; e &lt; 15
/// with no trailing zeros. Property-tested against double.Parse + ToString("R") and long.Parse + ToString().
/// </remarks>
public static class CanonicalNumber
{
    // Constant data, not a static readonly array: with tiered compilation off every static field read checks class init.
    /// <summary>Bytes -16..15 (as sbyte): 16 of them from offset count are the source byte of each output lane, before the point.</summary>
    private static ReadOnlySpan<byte> DigitSource => [0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    /// <summary>16 zeros, then 16 bytes of all ones (-1): 16 of them from offset count - point mark the lanes past the point.</summary>
    private static ReadOnlySpan<byte> PastPoint => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    private static ReadOnlySpan<double> Pow10 => [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// Parses a double whose text our writer would print as the text itself or the text without trailing zeros
    /// of the fraction (and then the point: "1.50" → "1.5", "2.0" → "2"), giving that length, in the same pass
    /// that checks it: false (value undefined) for anything else, which the general parser then reads. The value is exact:
    /// with at most 15 significant digits the digits m &lt; 2^53 and the scale 10^k (k &lt;= 18) are exact doubles,
    /// so one correctly rounded division gives the correctly rounded value, as double.Parse does.
    /// </summary>
    public static bool TryParseCopyableDouble(ReadOnlySpan<byte> text, out double value, out int length)
    {
        int unsigned = text.Length - (text.Length > 0 && text[0] == (byte)'-' ? 1 : 0);
        if (Ssse3.IsSupported && unsigned is >= 1 and <= 16) return TryParseCopyableDoubleVector(text, out value, out length);
        return TryParseCopyableDoubleScalar(text, out value, out length);
    }

    /// <summary>
    /// <see cref="TryParseCopyableDouble"/> for 1–16 bytes after the sign, with one 16-byte register: masks of the digits,
    /// the point and the non-zero digits give the checks, one shuffle drops the point and right-aligns the digits up to
    /// the last significant one, and two multiply-adds per step turn them into the integer (same results as the scalar loop).
    /// </summary>
    internal static bool TryParseCopyableDoubleVector(ReadOnlySpan<byte> text, out double value, out int length)
        => CopyableVector(text, computeValue: true, out value, out length);

    /// <summary>
    /// Whether <see cref="TryParseCopyableDouble"/> accepts <paramref name="text"/>, and the length it would give, without
    /// the value: for text that is kept and copied, whose value nothing may ever read (CSV to label-first CSV); the same
    /// checks, minus the digit shuffle, the multiply-adds and the division.
    /// </summary>
    public static bool IsCopyableDouble(ReadOnlySpan<byte> text, out int length)
    {
        int unsigned = text.Length - (text.Length > 0 && text[0] == (byte)'-' ? 1 : 0);
        if (Ssse3.IsSupported && unsigned is >= 1 and <= 16) return CopyableVector(text, computeValue: false, out _, out length);
        return TryParseCopyableDoubleScalar(text, out _, out length);
    }

    /// <summary>The vector path of both: <paramref name="computeValue"/> is a constant at each call site, so each gets its own code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool CopyableVector(ReadOnlySpan<byte> text, bool computeValue, out double value, out int length)
    {
        bool negative = text[0] == (byte)'-';
        int s = negative ? 1 : 0, n = text.Length - s;
        Vector128<byte> v = Load16(ref Unsafe.Add(ref MemoryMarshal.GetReference(text), s), n);
        return CopyableCore(v, n, negative, computeValue, out value, out length);
    }

    /// <summary>
    /// Parses the field at the start of a row's kept text (<see cref="RawRecords"/>: fields joined by commas) as
    /// <see cref="TryParseCopyableDouble"/> parses it, giving the field's length up to its comma or the end of the text:
    /// false (value undefined) when the field is not copyable (text the reader formatted, "1E-05"), which the general
    /// parser then reads. One 16-byte load finds the comma and holds the digits, so a field costs no separate search.
    /// </summary>
    internal static bool TryParseCopyableField(ReadOnlySpan<byte> text, out double value, out int fieldLength)
    {
        if (Ssse3.IsSupported && text.Length >= 17)
        {
            bool negative = text[0] == (byte)'-';
            int s = negative ? 1 : 0;
            var v = Vector128.LoadUnsafe(ref Unsafe.Add(ref MemoryMarshal.GetReference(text), s));
            uint commas = Vector128.Equals(v, Vector128.Create((byte)',')).ExtractMostSignificantBits();
            if (commas != 0)
            {
                // The bytes from the comma on are not part of the field: every mask below ignores them.
                int n = BitOperations.TrailingZeroCount(commas);
                fieldLength = s + n;
                if (n > 0) return CopyableCore(v, n, negative, computeValue: true, out value, out _);
                value = 0;
                return false;
            }
        }
        int end = text.IndexOf((byte)',');
        fieldLength = end < 0 ? text.Length : end;
        return TryParseCopyableDouble(text[..fieldLength], out value, out _);
    }

    /// <summary>
    /// <see cref="TryParseCopyableDouble"/> (<paramref name="computeValue"/>) or <see cref="IsCopyableDouble"/> of the
    /// <paramref name="n"/> (1–16) bytes of a field already loaded in the low bytes of <paramref name="field"/>, sign
    /// included; the bytes past them may hold anything. Same results as those on the field's span (only the load differs):
    /// for the CSV reader's plain-row path, whose one 16-byte load also finds the field's end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryCopyableLoaded(Vector128<byte> field, int n, bool computeValue, out double value, out int length)
    {
        bool negative = field.GetElement(0) == (byte)'-';
        if (negative)
        {
            if (n == 1)
            {
                value = 0;
                length = -1;
                return false;
            }
            field = Sse2.ShiftRightLogical128BitLane(field, 1);
            n--;
        }
        return CopyableCore(field, n, negative, computeValue, out value, out length);
    }

    /// <summary>
    /// <see cref="TryCopyableLoaded"/> with its value left as a quotient: <paramref name="mantissa"/> / <paramref name="scale"/>
    /// (one correctly rounded division) is the value bit for bit, as <see cref="TryParseCopyableDouble"/> computes it. For a
    /// caller that divides many fields at once (the plain-row path's float32 values), so no division sits in its field loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryCopyableLoadedQuotient(Vector128<byte> field, int n, out double mantissa, out double scale, out int length)
    {
        bool negative = field.GetElement(0) == (byte)'-';
        if (negative)
        {
            if (n == 1)
            {
                mantissa = 0;
                scale = 1;
                length = -1;
                return false;
            }
            field = Sse2.ShiftRightLogical128BitLane(field, 1);
            n--;
        }
        return CopyableQuotient(field, n, negative, computeValue: true, out mantissa, out scale, out length);
    }

    /// <summary>
    /// The checks and value of the vector path on the <paramref name="n"/> (1–16) bytes after the sign, held in the low bytes
    /// of <paramref name="v"/>; the bytes past them may hold anything (every mask and the shuffle stop before them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool CopyableCore(Vector128<byte> v, int n, bool negative, bool computeValue, out double value, out int length)
    {
        bool ok = CopyableQuotient(v, n, negative, computeValue, out double mantissa, out double scale, out length);
        // Division by 1 (an integer) is exact, and a negated dividend gives the negated quotient: the value as before.
        value = computeValue ? mantissa / scale : 0;
        return ok;
    }

    /// <summary>
    /// <see cref="CopyableCore"/> with the value as the signed digits <paramref name="mantissa"/> (below 2^53, an exact double)
    /// and the power of ten <paramref name="scale"/> (1 for an integer) it is divided by; both 0 and 1 when not wanted or refused.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool CopyableQuotient(Vector128<byte> v, int n, bool negative, bool computeValue, out double mantissa, out double scale, out int length)
    {
        mantissa = 0;
        scale = 1;
        length = -1;
        int s = negative ? 1 : 0;
        uint valid = (1u << n) - 1;
        uint digits = Vector128.LessThanOrEqual(v - Vector128.Create((byte)'0'), Vector128.Create((byte)9)).ExtractMostSignificantBits() & valid;
        uint points = Vector128.Equals(v, Vector128.Create((byte)'.')).ExtractMostSignificantBits() & valid;
        // Only digits and at most one point, which is not first.
        if ((digits | points) != valid || (points & (points - 1)) != 0) return false;
        int point = points == 0 ? n : BitOperations.TrailingZeroCount(points);
        if (point == 0 || point > 15) return false;
        bool zeroInteger = v.GetElement(0) == (byte)'0';
        if (zeroInteger && point > 1) return false;
        uint nonZero = digits & ~Vector128.Equals(v, Vector128.Create((byte)'0')).ExtractMostSignificantBits();
        uint fractionNonZero = nonZero & ~((2u << point) - 1);
        int count; // the digits to convert: the integer part, and the fraction up to its last non-zero digit
        int decimals = 0;
        if (fractionNonZero == 0)
        {
            // An integer value ("3", "2.0", "0.000"): "0" but never "-0".
            if (zeroInteger && negative) return false;
            length = zeroInteger ? 1 : s + point;
            count = point;
        }
        else
        {
            int last = 31 - BitOperations.LeadingZeroCount(fractionNonZero);
            decimals = last - point;
            if (zeroInteger)
            {
                int first = BitOperations.TrailingZeroCount(fractionNonZero);
                // At most 15 significant digits, and at most three zeros after the point (>= 1e-4).
                if (last - first + 1 > 15 || first - point - 1 > 3) return false;
            }
            else if (point + decimals > 15)
            {
                return false;
            }
            length = s + last + 1;
            count = last; // the point is before the last digit
        }
        if (!computeValue) return true;
        // Digit q of the count (0 first) sits at byte q, or q + 1 past the point; it goes to byte 16 - count + q.
        // q = lane + count - 16 (bytes -16..15 of DigitSource from count on), plus one for the lanes whose q is at or past the
        // point, i.e. lane > 15 - (count - point) (PastPoint from count - point on: all ones there): two loads, no broadcasts.
        // count is 1..15 and count - point 0..14 (a point is never last), so both loads stay inside their 32 bytes.
        ref byte digitSource = ref MemoryMarshal.GetReference(DigitSource);
        ref byte pastPoint = ref MemoryMarshal.GetReference(PastPoint);
        Vector128<sbyte> index = Vector128.LoadUnsafe(ref digitSource, (nuint)count).AsSByte() - Vector128.LoadUnsafe(ref pastPoint, (nuint)(count - point)).AsSByte();
        Vector128<byte> aligned = Ssse3.Shuffle(v - Vector128.Create((byte)'0'), index.AsByte()); // negative index: zero
        Vector128<short> pairs = Ssse3.MultiplyAddAdjacent(aligned, Vector128.Create((sbyte)10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
        Vector128<int> quads = Sse2.MultiplyAddAdjacent(pairs, Vector128.Create((short)100, 1, 100, 1, 100, 1, 100, 1));
        Vector128<int> octets = Sse2.MultiplyAddAdjacent(Sse2.PackSignedSaturate(quads, quads), Vector128.Create((short)10000, 1, 10000, 1, 10000, 1, 10000, 1));
        // Both 8-digit halves in one 64-bit move (element 0 in the low half: this path is x86's SSSE3, little-endian), not
        // through the stack. m < 10^16 < 2^63, so the signed conversion (one instruction; the unsigned one branches) is exact.
        ulong halves = octets.AsUInt64().ToScalar();
        long m = (long)(uint)halves * 100_000_000 + (long)(halves >> 32);
        mantissa = negative ? -m : m;
        scale = Pow10[decimals];
        return true;
    }

    /// <summary>The <paramref name="n"/> (1–16) bytes at <paramref name="source"/>, then zeros; reads no byte past them.</summary>
    /// <remarks>
    /// Inlined: called, its vector came back through a return buffer on the stack, and the plain-row path's field vector
    /// (this or a full 16-byte load) then lived on the stack for every field, a store and a reload each.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<byte> Load16(ref byte source, int n)
    {
        ulong lo, hi = 0;
        if (n >= 8)
        {
            lo = Unsafe.ReadUnaligned<ulong>(ref source);
            // Bytes 8..n-1 are the top n - 8 bytes of the word ending at n.
            if (n > 8) hi = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, n - 8)) >> (8 * (16 - n));
        }
        else if (n >= 4)
        {
            // Two overlapping words: the overlap holds the same bytes in both.
            lo = Unsafe.ReadUnaligned<uint>(ref source) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref source, n - 4)) << (8 * (n - 4)));
        }
        else
        {
            lo = source;
            if (n > 1) lo |= (ulong)Unsafe.Add(ref source, 1) << 8;
            if (n > 2) lo |= (ulong)Unsafe.Add(ref source, 2) << 16;
        }
        return Vector128.Create(lo, hi).AsByte();
    }

    /// <summary>The byte-at-a-time <see cref="TryParseCopyableDouble"/>, for any length (and the reference of the vector path).</summary>
    internal static bool TryParseCopyableDoubleScalar(ReadOnlySpan<byte> text, out double value, out int length)
    {
        value = 0;
        length = -1;
        int n = text.Length, i = 0;
        bool negative = n > 0 && text[0] == (byte)'-';
        if (negative) i = 1;
        int intStart = i;
        ulong m = 0;
        while (i < n && IsDigit(text[i]))
        {
            m = m * 10 + (uint)(text[i] - '0');
            if (++i - intStart > 15) return false;
        }
        int intDigits = i - intStart;
        if (intDigits == 0) return false;
        bool zeroInteger = text[intStart] == (byte)'0';
        if (zeroInteger && intDigits > 1) return false;
        int point = i, firstNonZero = -1, lastNonZero = -1;
        ulong fraction = m; // m extended by the fraction digits up to the last non-zero one
        if (i < n)
        {
            if (text[i] != (byte)'.') return false;
            ulong pending = m;
            for (i++; i < n; i++)
            {
                byte b = text[i];
                if (!IsDigit(b)) return false;
                if (i - point > 18) return false; // too many decimals for the fast path
                pending = pending * 10 + (uint)(b - '0');
                if (b != (byte)'0')
                {
                    lastNonZero = i;
                    if (firstNonZero < 0) firstNonZero = i;
                    fraction = pending;
                }
            }
        }
        if (lastNonZero < 0)
        {
            // An integer value ("3", "2.0", "0.000"): "0" but never "-0".
            if (zeroInteger && negative) return false;
            length = zeroInteger ? 1 : point;
            value = negative ? -(double)m : m;
            return true;
        }
        int decimals = lastNonZero - point;
        int significant = zeroInteger ? lastNonZero - firstNonZero + 1 : intDigits + decimals;
        // At most 15 significant digits, and for 0.000ddd at most three zeros after the point (>= 1e-4).
        if (significant > 15 || (zeroInteger && firstNonZero - point - 1 > 3)) return false;
        double magnitude = fraction / Pow10[decimals];
        value = negative ? -magnitude : magnitude;
        length = lastNonZero + 1;
        return true;
    }

    /// <summary>Whether <paramref name="text"/> is exactly how a 64-bit integer of its value is written.</summary>
    public static bool IsCanonicalInteger(ReadOnlySpan<byte> text)
    {
        int i = 0;
        if (text.Length > 0 && text[0] == (byte)'-') i = 1;
        int digits = text.Length - i;
        if (digits == 0 || digits > 19) return false; // 19 digits may still overflow: the parse decides that
        if (text[i] == (byte)'0') return digits == 1 && i == 0;
        for (; i < text.Length; i++) if (!IsDigit(text[i])) return false;
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}

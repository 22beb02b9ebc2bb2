using System.Numerics;

namespace DataPrep.Encoders;

/// <summary>
/// The mean of a column's train values for <c>--missing fill:mean</c>, exact whatever the order of the values: every
/// finite double is an integer multiple of 2^-1074, so the sum is kept exactly as a fixed-point integer (positive and
/// negative values apart, 64-bit limbs) and the mean is that sum divided by the count, rounded once to the nearest
/// double (ties to even). Adding costs a few integer operations per value, and two accumulators merge by adding their
/// limbs, so any split of the values into parts (batches, tasks, buckets) gives the same mean as one pass in any order.
/// </summary>
/// <remarks>
/// Infinities are counted apart: the mean of values holding +∞ (and no −∞) is +∞, and the other way round; values
/// holding both have no mean (<see cref="TryMean"/> says so). NaN is not a value here (missing values are left out by
/// the caller).
/// </remarks>
public sealed class ExactMean
{
    // A finite double is m × 2^(p − 1074) with m < 2^53 and 0 ≤ p ≤ 2045: its bits reach bit 2098 at most, and 2^64
    // values add at most 64 bits of carry. 35 limbs hold 2240 bits.
    private const int Limbs = 35;

    private readonly ulong[] _positive = new ulong[Limbs];
    private readonly ulong[] _negative = new ulong[Limbs];

    /// <summary>How many values were added (infinities included).</summary>
    public long Count { get; private set; }

    /// <summary>How many of them were +∞.</summary>
    public long PositiveInfinities { get; private set; }

    /// <summary>How many of them were −∞.</summary>
    public long NegativeInfinities { get; private set; }

    /// <summary>Adds one value (not NaN).</summary>
    public void Add(double value)
    {
        Count++;
        long bits = BitConverter.DoubleToInt64Bits(value);
        int exponent = (int)((bits >> 52) & 0x7FF);
        ulong mantissa = (ulong)bits & ((1UL << 52) - 1);
        if (exponent == 0x7FF)
        {
            if (mantissa != 0) throw new ArgumentException("NaN has no place in a mean; leave missing values out.", nameof(value));
            if (bits < 0) NegativeInfinities++;
            else PositiveInfinities++;
            return;
        }
        if (exponent == 0 && mantissa == 0) return;
        int position = 0;
        if (exponent != 0)
        {
            mantissa |= 1UL << 52;
            position = exponent - 1;
        }
        AddAt(bits < 0 ? _negative : _positive, mantissa, position);
    }

    /// <summary>Adds every value of <paramref name="other"/> to this one.</summary>
    public void Merge(ExactMean other)
    {
        Count += other.Count;
        PositiveInfinities += other.PositiveInfinities;
        NegativeInfinities += other.NegativeInfinities;
        AddLimbs(_positive, other._positive);
        AddLimbs(_negative, other._negative);
    }

    /// <summary>
    /// The mean of the values added, correctly rounded (0 when none were added); false when they hold both +∞ and −∞.
    /// </summary>
    public bool TryMean(out double mean)
    {
        mean = 0;
        if (PositiveInfinities > 0 && NegativeInfinities > 0) return false;
        if (PositiveInfinities > 0) { mean = double.PositiveInfinity; return true; }
        if (NegativeInfinities > 0) { mean = double.NegativeInfinity; return true; }
        if (Count == 0) return true;
        var sum = ToBigInteger(_positive) - ToBigInteger(_negative);
        if (sum.IsZero) return true;
        mean = Divide(BigInteger.Abs(sum), new BigInteger(Count) << 1074);
        if (sum.Sign < 0) mean = -mean;
        return true;
    }

    private static void AddAt(ulong[] limbs, ulong mantissa, int position)
    {
        int at = position >> 6, shift = position & 63;
        ulong low = mantissa << shift;
        ulong high = shift == 0 ? 0 : mantissa >> (64 - shift);
        ulong before = limbs[at];
        limbs[at] = before + low;
        ulong carry = (limbs[at] < before ? 1UL : 0UL) + high;
        for (int i = at + 1; carry != 0; i++)
        {
            before = limbs[i];
            limbs[i] = before + carry;
            carry = limbs[i] < before ? 1UL : 0UL;
        }
    }

    private static void AddLimbs(ulong[] into, ulong[] add)
    {
        ulong carry = 0;
        for (int i = 0; i < Limbs; i++)
        {
            UInt128 s = (UInt128)into[i] + add[i] + carry;
            into[i] = (ulong)s;
            carry = (ulong)(s >> 64);
        }
        if (carry != 0) throw new OverflowException("The exact sum outgrew its limbs.");
    }

    private static BigInteger ToBigInteger(ulong[] limbs)
    {
        var bytes = new byte[Limbs * 8 + 1];
        for (int i = 0; i < Limbs; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 8, 8), limbs[i]);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
    }

    /// <summary>The double nearest <paramref name="a"/> ÷ <paramref name="b"/> (both positive), ties to even.</summary>
    internal static double Divide(BigInteger a, BigInteger b)
    {
        // A quotient of 55 or 56 bits, the rest of the division as a sticky bit.
        long shift = 55 - (long)(a.GetBitLength() - b.GetBitLength());
        var (q, rest) = shift >= 0 ? BigInteger.DivRem(a << (int)shift, b) : BigInteger.DivRem(a, b << (int)-shift);
        long bits = (long)q.GetBitLength();
        // The value is q × 2^-shift; keep 53 bits, fewer below the smallest normal (the last bit is 2^-1074 at least).
        long exponent = bits - 1 - shift;
        long drop = bits - 53;
        if (exponent - 52 < -1074) drop += -1074 - (exponent - 52);
        if (drop > bits) return 0;
        var kept = q >> (int)drop;
        var dropped = q - (kept << (int)drop);
        var half = BigInteger.One << (int)(drop - 1);
        int vsHalf = dropped.CompareTo(half);
        if (vsHalf > 0 || (vsHalf == 0 && (!rest.IsZero || !kept.IsEven))) kept += 1;
        return Math.ScaleB((double)(ulong)kept, (int)(drop - shift));
    }
}

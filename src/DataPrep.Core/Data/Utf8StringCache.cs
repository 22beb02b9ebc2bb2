using System.IO.Hashing;
using System.Text;

namespace DataPrep.Data;

/// <summary>
/// The strings a spill reader decoded lately, by their UTF-8 bytes: a direct-mapped cache of 4,096 slots (the slot from
/// the bytes' XxHash3), so a value that repeats — a category, a label, a key read back from a spill — comes back as one
/// string object instead of one per row. Read back, a piece of a spilled split made a new ~32-byte object for every row
/// of every string column; a column of 1,000 values now holds about 1,000. Only ASCII values of at most 64 bytes are
/// cached (the check compares bytes with chars, no copy kept); others, and a slot that holds another value, are decoded
/// as before. Equal values give equal strings either way: only their identity is shared.
/// </summary>
internal sealed class Utf8StringCache
{
    private const int Slots = 4096;
    private const int MaxBytes = 64;
    private readonly string?[] _strings = new string?[Slots];

    /// <summary>The string of <paramref name="utf8"/>: a cached one when the slot holds the same value, else a new one (then cached when ASCII and short).</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length == 0) return "";
        if (utf8.Length > MaxBytes) return Encoding.UTF8.GetString(utf8);
        int slot = (int)(XxHash3.HashToUInt64(utf8) & (Slots - 1));
        if (_strings[slot] is { } cached && cached.Length == utf8.Length && Ascii.Equals(utf8, cached)) return cached;
        var s = Encoding.UTF8.GetString(utf8);
        if (s.Length == utf8.Length) _strings[slot] = s;
        return s;
    }
}

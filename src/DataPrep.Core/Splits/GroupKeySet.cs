using System.Buffers;
using System.IO.Hashing;
using System.Text;
using System.Text.Unicode;
using DataPrep.Hashing;

namespace DataPrep.Splits;

/// <summary>
/// A set of distinct group keys, numbered 0, 1, … in the order they were first added, held compactly: every key's text
/// in a chunked byte arena (a 7-bit length prefix, as <see cref="BinaryWriter.Write(string)"/> writes it, then the key's
/// UTF-8 bytes) and an open-addressing index of key numbers. Two keys are the same only when their bytes are: a hash
/// collision costs a comparison, never a merge of two keys.
/// </summary>
/// <remarks>
/// <para><b>Memory</b> per key: its text and length prefix, 8 bytes for where it starts, 4 for a hash tag and
/// 4 ÷ load (0.47–0.7; exactly 0.7 when the count is known) for the index: about 18–21 bytes beyond the text, where a <c>Dictionary&lt;string, …&gt;</c> holds
/// a string object (22 bytes + 2 a character) and a 24-byte entry besides the buckets.</para>
/// <para><b>Encoding.</b> A valid string is held as its UTF-8 bytes. A string with an unpaired surrogate (which no input
/// decoded from UTF-8 holds, but a library caller's column may) is held with that surrogate as a three-byte sequence
/// (WTF-8), so distinct strings stay distinct; <see cref="HashOf(int, in KeyedHash)"/> hashes it as <see cref="KeyedHash.Hash(string)"/>
/// does (the surrogate as U+FFFD), and <see cref="Compare"/> orders keys as <see cref="string.CompareOrdinal(string, string)"/>
/// orders their strings.</para>
/// <para>Adding is not thread-safe; looking up (<see cref="IndexOf(string)"/>) is, once no key is being added.</para>
/// </remarks>
internal sealed class GroupKeySet
{
    /// <summary>The index's hash of a key's bytes (tests inject a poor one to force collisions).</summary>
    internal delegate ulong Hasher(ReadOnlySpan<byte> key);

    private const int FirstChunk = 4096;
    private const int MaxChunk = 1 << 20;
    private const double MaxLoad = 0.7;
    private const int StackKey = 256;

    private readonly Hasher? _hasher;
    private readonly List<byte[]> _chunks = [];
    private int _used;
    private long[] _starts;
    private uint[] _tags;
    private int[] _slots;
    private int _count;
    private byte[] _scratch = new byte[StackKey];

    /// <summary>An empty set sized for <paramref name="capacity"/> keys (it grows beyond).</summary>
    public GroupKeySet(int capacity = 0, Hasher? hasher = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _hasher = hasher;
        _starts = new long[Math.Max(capacity, 4)];
        _tags = new uint[_starts.Length];
        _slots = new int[SlotsFor(_starts.Length)];
    }

    /// <summary>The number of keys.</summary>
    public int Count => _count;

    /// <summary>Bytes held: the arena's chunks, the per-key arrays and the index.</summary>
    public long Bytes => _chunks.Sum(c => (long)c.Length) + _starts.Length * 12L + _slots.Length * 4L;

    /// <summary>Adds <paramref name="key"/> unless present; returns its number.</summary>
    public int Add(string key, out bool added)
    {
        ArgumentNullException.ThrowIfNull(key);
        int n = Encode(key, ref _scratch);
        return Add(_scratch.AsSpan(0, n), out added);
    }

    /// <summary>Adds the key held as <paramref name="bytes"/> (<see cref="KeyBytes"/>' form) unless present; returns its number.</summary>
    public int Add(ReadOnlySpan<byte> bytes, out bool added)
    {
        ulong hash = HashBytes(bytes);
        int slot = Find(bytes, hash);
        if (_slots[slot] != 0)
        {
            added = false;
            return _slots[slot] - 1;
        }
        if (_count == int.MaxValue - 1) throw new InvalidOperationException("A group table holds at most 2,147,483,646 groups.");
        int id = _count;
        if (id == _starts.Length)
        {
            int grown = (int)Math.Min(int.MaxValue - 64, (long)_starts.Length * 2);
            Array.Resize(ref _starts, grown);
            Array.Resize(ref _tags, grown);
        }
        _starts[id] = Store(bytes);
        _tags[id] = Tag(hash);
        _slots[slot] = id + 1;
        _count++;
        if (_count > _slots.Length * MaxLoad) Rehash((int)Math.Min(int.MaxValue - 64, _slots.Length * 3L / 2));
        added = true;
        return id;
    }

    /// <summary>The number of <paramref name="key"/>, or −1 when absent.</summary>
    public int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int max = key.Length * 3;
        byte[]? rented = null;
        Span<byte> buffer = max <= StackKey ? stackalloc byte[StackKey] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = Encode(key, buffer);
            return IndexOf(buffer[..n]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The number of the key held as <paramref name="bytes"/>, or −1 when absent.</summary>
    public int IndexOf(ReadOnlySpan<byte> bytes) => _slots[Find(bytes, HashBytes(bytes))] - 1;

    /// <summary>Key <paramref name="id"/>'s bytes (UTF-8; WTF-8 for a string with an unpaired surrogate).</summary>
    public ReadOnlySpan<byte> KeyBytes(int id)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)_count, nameof(id));
        long start = _starts[id];
        var chunk = _chunks[(int)(start >> 32)];
        int offset = (int)start;
        // Keys under 128 bytes (nearly all) have a one-byte prefix; comparisons in sorts read this millions of times.
        int first = chunk[offset];
        if (first < 0x80) return new ReadOnlySpan<byte>(chunk, offset + 1, first);
        int length = ReadLength(chunk.AsSpan(offset), out int prefix);
        return new ReadOnlySpan<byte>(chunk, offset + prefix, length);
    }

    /// <summary>Key <paramref name="id"/>'s length prefix and bytes, as <see cref="BinaryWriter.Write(string)"/> writes a valid key.</summary>
    public ReadOnlySpan<byte> Entry(int id)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)_count, nameof(id));
        long start = _starts[id];
        var chunk = _chunks[(int)(start >> 32)];
        int offset = (int)start;
        int length = ReadLength(chunk.AsSpan(offset), out int prefix);
        return chunk.AsSpan(offset, prefix + length);
    }

    /// <summary>Whether key <paramref name="id"/> is a valid string (no unpaired surrogate), so that <see cref="Entry"/> is what a strict UTF-8 writer writes.</summary>
    public bool IsValid(int id) => Utf8.IsValid(KeyBytes(id));

    /// <summary>Key <paramref name="id"/> as a string.</summary>
    public string KeyOf(int id) => Decode(KeyBytes(id));

    /// <summary><paramref name="hash"/> of key <paramref name="id"/>: the value <see cref="KeyedHash.Hash(string)"/> gives its string.</summary>
    public ulong HashOf(int id, in KeyedHash hash) => HashOf(KeyBytes(id), hash);

    /// <summary><paramref name="hash"/> of the key held as <paramref name="bytes"/> (<see cref="KeyBytes"/>' form): the value <see cref="KeyedHash.Hash(string)"/> gives its string.</summary>
    internal static ulong HashOf(ReadOnlySpan<byte> bytes, in KeyedHash hash)
        => Utf8.IsValid(bytes) ? hash.HashUtf8(bytes) : hash.Hash(Decode(bytes));

    /// <summary>
    /// The key numbers in order of (<paramref name="hash"/> of the key, ordinal key): the order a group split fills its
    /// splits in. Sorts the 64-bit hashes (primitive keys), then orders only runs of equal hashes by key.
    /// </summary>
    public int[] HashOrder(in KeyedHash hash)
    {
        int n = _count;
        var hashes = new ulong[n];
        var order = new int[n];
        for (int g = 0; g < n; g++) { hashes[g] = HashOf(g, hash); order[g] = g; }
        Array.Sort(hashes, order);
        IComparer<int>? byKey = null;
        for (int i = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && hashes[j] == hashes[i]) j++;
            if (j - i > 1) Array.Sort(order, i, j - i, byKey ??= Comparer<int>.Create(Compare));
            i = j;
        }
        return order;
    }

    /// <summary>Orders keys <paramref name="a"/> and <paramref name="b"/> as <see cref="string.CompareOrdinal(string, string)"/> orders their strings (UTF-16 code units).</summary>
    public int Compare(int a, int b) => a == b ? 0 : CompareUtf16(KeyBytes(a), KeyBytes(b));

    /// <summary>Orders two keys' bytes as their strings' UTF-16 code units.</summary>
    internal static int CompareUtf16(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int i = a.CommonPrefixLength(b);
        if (i == a.Length || i == b.Length) return Math.Sign(a.Length - b.Length);
        // The bytes before the character that holds the first difference are whole characters of both; compare code units from there.
        while (i > 0 && (a[i] & 0xC0) == 0x80) i--;
        var x = new Utf16Reader(a, i);
        var y = new Utf16Reader(b, i);
        while (true)
        {
            int u = x.Next(), v = y.Next();
            if (u != v) return u < v ? -1 : 1;
            if (u < 0) return 0;
        }
    }

    /// <summary><see cref="Encode(string, Span{byte})"/> into <paramref name="buffer"/>, grown first when it may be too short; returns the length.</summary>
    internal static int Encode(string key, ref byte[] buffer)
    {
        int max = key.Length * 3;
        if (buffer.Length < max) buffer = new byte[Math.Max(max, buffer.Length * 2)];
        return Encode(key, buffer);
    }

    /// <summary>The bytes a key is held as: UTF-8, an unpaired surrogate as its three-byte sequence. <paramref name="into"/> holds at least 3 bytes a character.</summary>
    internal static int Encode(string key, Span<byte> into)
    {
        if (Utf8.FromUtf16(key, into, out _, out int written, replaceInvalidSequences: false) == OperationStatus.Done) return written;
        int n = 0;
        for (int i = 0; i < key.Length; i++)
        {
            int c = key[i];
            if (char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                int cp = char.ConvertToUtf32(key[i], key[i + 1]);
                i++;
                into[n++] = (byte)(0xF0 | (cp >> 18));
                into[n++] = (byte)(0x80 | ((cp >> 12) & 0x3F));
                into[n++] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                into[n++] = (byte)(0x80 | (cp & 0x3F));
            }
            else if (c < 0x80) into[n++] = (byte)c;
            else if (c < 0x800)
            {
                into[n++] = (byte)(0xC0 | (c >> 6));
                into[n++] = (byte)(0x80 | (c & 0x3F));
            }
            else
            {
                into[n++] = (byte)(0xE0 | (c >> 12));
                into[n++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                into[n++] = (byte)(0x80 | (c & 0x3F));
            }
        }
        return n;
    }

    /// <summary>The string a key's bytes hold (<see cref="Encode(string, Span{byte})"/>'s inverse).</summary>
    internal static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes)) return Encoding.UTF8.GetString(bytes);
        var text = new StringBuilder(bytes.Length);
        var reader = new Utf16Reader(bytes, 0);
        for (int u = reader.Next(); u >= 0; u = reader.Next()) text.Append((char)u);
        return text.ToString();
    }

    private ulong HashBytes(ReadOnlySpan<byte> bytes) => _hasher is null ? XxHash3.HashToUInt64(bytes) : _hasher(bytes);

    private static uint Tag(ulong hash) => (uint)(hash >> 32);

    /// <summary>The slot that holds the key, or the empty slot where it would go.</summary>
    private int Find(ReadOnlySpan<byte> bytes, ulong hash)
    {
        var slots = _slots;
        uint tag = Tag(hash);
        int slot = Home(hash, slots.Length);
        while (true)
        {
            int id = slots[slot] - 1;
            if (id < 0) return slot;
            if (_tags[id] == tag && KeyBytes(id).SequenceEqual(bytes)) return slot;
            if (++slot == slots.Length) slot = 0;
        }
    }

    /// <summary>A key's first slot: the low 32 bits of its hash scaled to the slots (any number of them; the tag is the high 32 bits).</summary>
    private static int Home(ulong hash, int slots) => (int)(((hash & 0xFFFF_FFFFUL) * (uint)slots) >> 32);

    private void Rehash(int slots)
    {
        _slots = new int[slots];
        for (int id = 0; id < _count; id++)
        {
            int slot = Home(HashBytes(KeyBytes(id)), slots);
            while (_slots[slot] != 0) if (++slot == slots) slot = 0;
            _slots[slot] = id + 1;
        }
    }

    /// <summary>Slots for <paramref name="keys"/> keys at most <see cref="MaxLoad"/> full (not a power of two: 4 ÷ 0.7 bytes a key, not up to twice that).</summary>
    private static int SlotsFor(int keys) => (int)Math.Min(int.MaxValue - 64, Math.Max(8, (long)Math.Ceiling(keys / MaxLoad) + 1));

    /// <summary>Appends a key's length prefix and bytes to the arena; returns where (chunk &lt;&lt; 32 | offset).</summary>
    private long Store(ReadOnlySpan<byte> bytes)
    {
        int need = LengthOfPrefix(bytes.Length) + bytes.Length;
        if (_chunks.Count == 0 || _chunks[^1].Length - _used < need)
        {
            int size = _chunks.Count == 0 ? FirstChunk : Math.Min(MaxChunk, _chunks[^1].Length * 2);
            _chunks.Add(new byte[Math.Max(size, need)]);
            _used = 0;
        }
        var chunk = _chunks[^1];
        int at = _used;
        uint v = (uint)bytes.Length;
        int p = at;
        while (v >= 0x80) { chunk[p++] = (byte)(v | 0x80); v >>= 7; }
        chunk[p++] = (byte)v;
        bytes.CopyTo(chunk.AsSpan(p));
        _used = p + bytes.Length;
        return ((long)(_chunks.Count - 1) << 32) | (uint)at;
    }

    private static int LengthOfPrefix(int length)
    {
        int n = 1;
        for (uint v = (uint)length; v >= 0x80; v >>= 7) n++;
        return n;
    }

    private static int ReadLength(ReadOnlySpan<byte> at, out int prefix)
    {
        int length = 0, shift = 0;
        prefix = 0;
        while (true)
        {
            byte b = at[prefix++];
            length |= (b & 0x7F) << shift;
            if (b < 0x80) return length;
            shift += 7;
        }
    }

    /// <summary>UTF-16 code units of a key's bytes from a character boundary on; −1 at the end.</summary>
    private ref struct Utf16Reader(ReadOnlySpan<byte> bytes, int at)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at = at;
        private int _low = -1;

        public int Next()
        {
            if (_low >= 0) { int low = _low; _low = -1; return low; }
            if (_at >= _bytes.Length) return -1;
            int b = _bytes[_at];
            if (b < 0x80) { _at++; return b; }
            if (b < 0xE0) { int c = ((b & 0x1F) << 6) | (_bytes[_at + 1] & 0x3F); _at += 2; return c; }
            if (b < 0xF0) { int c = ((b & 0x0F) << 12) | ((_bytes[_at + 1] & 0x3F) << 6) | (_bytes[_at + 2] & 0x3F); _at += 3; return c; }
            int cp = ((b & 0x07) << 18) | ((_bytes[_at + 1] & 0x3F) << 12) | ((_bytes[_at + 2] & 0x3F) << 6) | (_bytes[_at + 3] & 0x3F);
            _at += 4;
            cp -= 0x10000;
            _low = 0xDC00 | (cp & 0x3FF);
            return 0xD800 | (cp >> 10);
        }
    }
}

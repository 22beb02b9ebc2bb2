using System.Globalization;

namespace DataPrep.Sources;

/// <summary>
/// Checks that a Parquet footer is well-formed Thrift compact protocol before Parquet.Net decodes it. Parquet.Net
/// trusts the footer: a corrupt length makes it allocate up to 2 GB before it finds the bytes missing, and some
/// corrupt field types make its skipping loop forever (both found by tools/fuzz.sh). This walk only checks the
/// structure — every length and count within the bytes left, known types only, bounded nesting — and never
/// allocates; the meaning of the fields stays Parquet.Net's business.
/// </summary>
internal static class ParquetFooterCheck
{
    private const int MaxDepth = 64;

    /// <summary>Walks the footer (the FileMetaData struct); returns null when it is well-formed, else what is wrong.</summary>
    public static string? Problem(ReadOnlySpan<byte> footer)
    {
        int at = 0;
        try
        {
            Struct(footer, ref at, 0);
            return null;
        }
        catch (FormatException e)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{e.Message} at byte {at} of the {footer.Length}-byte footer");
        }
    }

    private static void Struct(ReadOnlySpan<byte> b, ref int at, int depth)
    {
        if (depth > MaxDepth) throw new FormatException($"structs nested more than {MaxDepth} deep");
        while (true)
        {
            byte header = Byte(b, ref at);
            if (header == 0) return; // STOP
            int type = header & 0x0F;
            if (header >> 4 == 0) Varint(b, ref at); // a full field id follows (zigzag i16)
            if (type is 1 or 2) continue; // booleans live in the field header
            Value(b, ref at, type, depth);
        }
    }

    private static void Value(ReadOnlySpan<byte> b, ref int at, int type, int depth)
    {
        switch (type)
        {
            case 1:
            case 2:
            case 3: // bool as a list element, byte
                Byte(b, ref at);
                break;
            case 4:
            case 5:
            case 6: // i16, i32, i64
                Varint(b, ref at);
                break;
            case 7: // double
                Skip(b, ref at, 8);
                break;
            case 8: // binary: a length, then the bytes
                Skip(b, ref at, Varint(b, ref at));
                break;
            case 9:
            case 10: // list, set: size and element type in one byte, a larger size as a varint
            {
                byte h = Byte(b, ref at);
                ulong size = (ulong)(h >> 4);
                if (size == 15) size = Varint(b, ref at);
                Count(b, at, size);
                int element = h & 0x0F;
                for (ulong i = 0; i < size; i++) Value(b, ref at, Known(element), depth + 1);
                break;
            }
            case 11: // map: size, then key and value types in one byte
            {
                ulong size = Varint(b, ref at);
                if (size == 0) break;
                Count(b, at, size);
                byte kv = Byte(b, ref at);
                int key = Known(kv >> 4), value = Known(kv & 0x0F);
                for (ulong i = 0; i < size; i++)
                {
                    Value(b, ref at, key, depth + 1);
                    Value(b, ref at, value, depth + 1);
                }
                break;
            }
            case 12:
                Struct(b, ref at, depth + 1);
                break;
            default:
                throw new FormatException($"unknown Thrift type {type}");
        }
    }

    private static int Known(int type) => type is >= 1 and <= 12 ? type : throw new FormatException($"unknown Thrift element type {type}");

    /// <summary>Every element takes at least one byte: a count beyond the bytes left is corrupt.</summary>
    private static void Count(ReadOnlySpan<byte> b, int at, ulong size)
    {
        if (size > (ulong)(b.Length - at)) throw new FormatException($"a collection of {size:N0} elements with only {b.Length - at:N0} bytes left");
    }

    private static byte Byte(ReadOnlySpan<byte> b, ref int at)
    {
        if (at >= b.Length) throw new FormatException("the footer ends inside a value");
        return b[at++];
    }

    private static void Skip(ReadOnlySpan<byte> b, ref int at, ulong n)
    {
        if (n > (ulong)(b.Length - at)) throw new FormatException($"a value of {n:N0} bytes with only {b.Length - at:N0} bytes left");
        at += (int)n;
    }

    private static ulong Varint(ReadOnlySpan<byte> b, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            byte x = Byte(b, ref at);
            value |= (ulong)(x & 0x7F) << shift;
            if ((x & 0x80) == 0) return value;
        }
        throw new FormatException("a varint longer than 10 bytes");
    }
}

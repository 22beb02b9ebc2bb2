using System.Globalization;

namespace DataPrep.Sources;

/// <summary>
/// Checks that a Parquet footer is well-formed Thrift compact protocol before Parquet.Net decodes it. Parquet.Net
/// trusts the footer: a corrupt length makes it allocate up to 2 GB before it finds the bytes missing, and some
/// corrupt field types make its skipping loop forever (both found by tools/fuzz.sh). This walk only checks the
/// structure — every length and count within the bytes left, known types only, bounded nesting — and never
/// allocates; the meaning of the fields stays Parquet.Net's business. One exception: Parquet.Net reads a field it
/// knows as the type parquet.thrift gives it, whatever type the bytes declare, so a known field declared with another
/// type made it read different bytes than this walk checked, past the end of its copy of the footer, for ever
/// (tools/fuzz/known/parquet-footer-skip-loop.parquet: ColumnMetaData field 11, an i64, declared as a struct). The
/// fields of the structs on the path to the column chunks are therefore checked against parquet.thrift's types.
/// </summary>
internal static class ParquetFooterCheck
{
    private const int MaxDepth = 64;

    // Thrift compact types, and the structs whose fields are checked (Other: any struct, fields unchecked).
    private const int Bool = 1, I16 = 4, I32 = 5, I64 = 6, Binary = 8, List = 9, Struct_ = 12;
    private enum Kind { Other, FileMetaData, SchemaElement, RowGroup, ColumnChunk, ColumnMetaData, Statistics, KeyValue, PageEncodingStats, SortingColumn }

    /// <summary>parquet.thrift's type of a field: its wire type, a list's element type, the struct (or element struct) it holds.</summary>
    private readonly record struct Expected(int Type, int Element = 0, Kind Holds = Kind.Other);

    private static Expected? Field(Kind kind, int id) => (kind, id) switch
    {
        (Kind.FileMetaData, 1) => new(I32),
        (Kind.FileMetaData, 2) => new(List, Struct_, Kind.SchemaElement),
        (Kind.FileMetaData, 3) => new(I64),
        (Kind.FileMetaData, 4) => new(List, Struct_, Kind.RowGroup),
        (Kind.FileMetaData, 5) => new(List, Struct_, Kind.KeyValue),
        (Kind.FileMetaData, 6) => new(Binary),
        (Kind.FileMetaData, 7) => new(List, Struct_),
        (Kind.SchemaElement, 1 or 2 or 3 or 5 or 6 or 7 or 8 or 9) => new(I32),
        (Kind.SchemaElement, 4) => new(Binary),
        (Kind.SchemaElement, 10) => new(Struct_),
        (Kind.RowGroup, 1) => new(List, Struct_, Kind.ColumnChunk),
        (Kind.RowGroup, 2 or 3 or 5 or 6) => new(I64),
        (Kind.RowGroup, 4) => new(List, Struct_, Kind.SortingColumn),
        (Kind.RowGroup, 7) => new(I16),
        (Kind.ColumnChunk, 1) => new(Binary),
        (Kind.ColumnChunk, 2 or 4 or 6) => new(I64),
        (Kind.ColumnChunk, 3) => new(Struct_, 0, Kind.ColumnMetaData),
        (Kind.ColumnChunk, 5 or 7) => new(I32),
        (Kind.ColumnMetaData, 1 or 4 or 15) => new(I32),
        (Kind.ColumnMetaData, 2) => new(List, I32),
        (Kind.ColumnMetaData, 3) => new(List, Binary),
        (Kind.ColumnMetaData, 5 or 6 or 7 or 9 or 10 or 11 or 14) => new(I64),
        (Kind.ColumnMetaData, 8) => new(List, Struct_, Kind.KeyValue),
        (Kind.ColumnMetaData, 12) => new(Struct_, 0, Kind.Statistics),
        (Kind.ColumnMetaData, 13) => new(List, Struct_, Kind.PageEncodingStats),
        (Kind.Statistics, 1 or 2 or 5 or 6) => new(Binary),
        (Kind.Statistics, 3 or 4) => new(I64),
        (Kind.Statistics, 7 or 8) => new(Bool),
        (Kind.KeyValue, 1 or 2) => new(Binary),
        (Kind.PageEncodingStats, 1 or 2 or 3) => new(I32),
        (Kind.SortingColumn, 1) => new(I32),
        (Kind.SortingColumn, 2 or 3) => new(Bool),
        _ => null,
    };

    private static bool Same(int declared, int expected) => declared == expected || (expected == Bool && declared == 2);

    /// <summary>Walks the footer (the FileMetaData struct); returns null when it is well-formed, else what is wrong.</summary>
    public static string? Problem(ReadOnlySpan<byte> footer)
    {
        int at = 0;
        try
        {
            Struct(footer, ref at, 0, Kind.FileMetaData);
            return null;
        }
        catch (FormatException e)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{e.Message} at byte {at} of the {footer.Length}-byte footer");
        }
    }

    private static void Struct(ReadOnlySpan<byte> b, ref int at, int depth, Kind kind)
    {
        if (depth > MaxDepth) throw new FormatException($"structs nested more than {MaxDepth} deep");
        long id = 0;
        while (true)
        {
            byte header = Byte(b, ref at);
            if (header == 0) return; // STOP
            int type = header & 0x0F;
            if (header >> 4 == 0)
            {
                ulong zigzag = Varint(b, ref at); // a full field id follows (zigzag i16)
                id = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
            }
            else
            {
                id += header >> 4;
            }
            var expected = kind == Kind.Other || id is < 1 or > short.MaxValue ? null : Field(kind, (int)id);
            if (expected is { } e && !Same(type, e.Type))
            {
                throw new FormatException($"field {id} of {kind} is declared as Thrift type {type}, but parquet.thrift makes it type {e.Type}");
            }
            if (type is 1 or 2) continue; // booleans live in the field header
            Value(b, ref at, type, depth, expected);
        }
    }

    private static void Value(ReadOnlySpan<byte> b, ref int at, int type, int depth, Expected? expected = null)
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
                if (expected is { Element: > 0 } e && size > 0 && !Same(element, e.Element))
                {
                    throw new FormatException($"a list declared with elements of Thrift type {element}, but parquet.thrift makes them type {e.Element}");
                }
                var holds = expected is { } x ? new Expected(Struct_, 0, x.Holds) : (Expected?)null;
                for (ulong i = 0; i < size; i++) Value(b, ref at, Known(element), depth + 1, holds);
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
                Struct(b, ref at, depth + 1, expected?.Holds ?? Kind.Other);
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

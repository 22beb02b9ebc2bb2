using System.Globalization;
using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>
/// Where a split's shards end: the shard of a record as a pure function of its place in the split (its 0-based
/// index and the bytes it occupies in the split's record stream) and, in count modes, the split's totals. Every
/// sink that cuts shards by <see cref="ShardOptions"/> asks this rule, so a writer that holds only a middle part of a
/// split (one of N workers) numbers its records exactly as the single-process run does.
/// </summary>
/// <remarks>
/// <para>The modes, by <see cref="ShardOptions"/> (see docs/decisions.md, "Where a shard ends: one pure rule"):</para>
/// <list type="bullet">
/// <item><b>size</b> (<c>--shard-size M</c>, the default 64 MiB): shard ⌊(end − 1) / M⌋, the records that end in bytes
/// (k·M, (k+1)·M] of the split. That makes ⌈total / M⌉ shards (the fewest shards of at most M bytes could be), the
/// first k + 1 shards hold at most (k + 1)·M bytes together, and one shard holds at most M bytes plus its first record
/// less one byte (the record that crosses the window's start). A record of more than M bytes is refused: it would
/// leave a window without a record end, so a shard number without a file.</item>
/// <item><b>rows</b> (<c>--shard-rows R</c>, without a size limit): shard ⌊index / R⌋.</item>
/// <item><b>count</b> (<c>--shards n</c>, or a multiple of the training instances): n shards, at most one per record.
/// By bytes, shard ⌊start · n / total bytes⌋, when no record is larger than total bytes / n (then every n-th of the
/// bytes holds a record start, so no number is skipped); otherwise by records, shard ⌊index · n / total records⌋.</item>
/// </list>
/// <para>Record bytes are what the format writes per record, uncompressed; a per-file header does not count.</para>
/// </remarks>
public sealed class ShardRule
{
    private enum Mode { Size, Rows, CountByBytes, CountByRecords }

    private readonly Mode _mode;
    private readonly string _split;
    private readonly long _limit;
    private readonly int _count;
    private readonly long _totalRecords;
    private readonly long _totalBytes;

    private ShardRule(Mode mode, string split, long limit = 0, int count = 0, long totalRecords = 0, long totalBytes = 0)
    {
        _mode = mode;
        _split = split;
        _limit = limit;
        _count = count;
        _totalRecords = totalRecords;
        _totalBytes = totalBytes;
    }

    /// <summary>
    /// Whether the rule needs the split's totals before its first shard can be written: with a shard count
    /// (<see cref="ShardOptions.Count"/>) or a multiple of the training instances (<see cref="ShardOptions.Multiple"/>).
    /// Size and row limits stream.
    /// </summary>
    public static bool NeedsTotals(ShardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Count > 0 || options.Multiple > 1;
    }

    /// <summary>The rule of one split.</summary>
    /// <param name="options">The shard options (validated: positive limits, not both a size and a row limit).</param>
    /// <param name="split">The split's (channel's) name, for messages.</param>
    /// <param name="totalRecords">The split's records; only used when <see cref="NeedsTotals"/>.</param>
    /// <param name="totalBytes">The split's record bytes; only used when <see cref="NeedsTotals"/>.</param>
    /// <param name="maxRecordBytes">The bytes of the split's largest record; only used when <see cref="NeedsTotals"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative total.</exception>
    /// <exception cref="ArgumentException">Both a size and a row limit (options that were not validated).</exception>
    public static ShardRule For(ShardOptions options, string split, long totalRecords = 0, long totalBytes = 0, long maxRecordBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(split);
        if (options.MaxRows > 0 && options.MaxBytes is not null)
        {
            throw new ArgumentException("The shard options have both a size and a row limit, which ConvertOptions.Validate refuses: --shard-rows replaces the size limit.", nameof(options));
        }
        if (!NeedsTotals(options))
        {
            return options.MaxRows > 0
                ? new ShardRule(Mode.Rows, split, limit: options.MaxRows)
                : new ShardRule(Mode.Size, split, limit: options.EffectiveMaxBytes);
        }
        ArgumentOutOfRangeException.ThrowIfNegative(totalRecords);
        ArgumentOutOfRangeException.ThrowIfNegative(totalBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRecordBytes);
        int n = Count(options, totalRecords, totalBytes);
        // maxRecordBytes ≤ totalBytes / n, in integers: every window of totalBytes / n bytes holds a record start.
        bool byBytes = totalBytes > 0 && (Int128)maxRecordBytes * n <= totalBytes;
        return new ShardRule(byBytes ? Mode.CountByBytes : Mode.CountByRecords, split, count: n, totalRecords: totalRecords, totalBytes: totalBytes);
    }

    /// <summary>
    /// The shard count of a split in the count modes: <see cref="ShardOptions.Count"/>, or with only a multiple as many
    /// as the size and row limits need; rounded up to a multiple of <see cref="ShardOptions.Multiple"/> (ShardedByS3Key
    /// then gives every instance the same number of shards) and at most one shard per record.
    /// </summary>
    private static int Count(ShardOptions options, long totalRecords, long totalBytes)
    {
        long count = options.Count;
        if (count <= 0)
        {
            long bytes = options.EffectiveMaxBytes;
            count = Math.Max(1, totalBytes / bytes + (totalBytes % bytes == 0 ? 0 : 1));
            if (options.MaxRows > 0) count = Math.Max(count, totalRecords / options.MaxRows + (totalRecords % options.MaxRows == 0 ? 0 : 1));
        }
        long m = Math.Max(1, options.Multiple);
        count = (count + m - 1) / m * m;
        return (int)Math.Min(Math.Min(count, totalRecords), int.MaxValue);
    }

    /// <summary>The shard (0-based) of record <paramref name="index"/> (0-based in the split) that occupies bytes
    /// [<paramref name="start"/>, <paramref name="end"/>) of the split's record stream.</summary>
    /// <remarks>Consecutive records get non-decreasing numbers that start at 0 and skip none, however the records are
    /// divided among writers. Constant time, no allocation.</remarks>
    /// <exception cref="PipelineValidationException">Size mode: the record is larger than the shard size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Negative or inverted offsets; in count modes, a record outside the split's totals.</exception>
    public int ShardOf(long index, long start, long end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(end, start);
        switch (_mode)
        {
            case Mode.Size:
                if (end - start > _limit) throw TooLarge(index, end - start);
                return checked((int)(Math.Max(0, end - 1) / _limit));
            case Mode.Rows:
                return checked((int)(index / _limit));
            default:
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _totalRecords);
                ArgumentOutOfRangeException.ThrowIfGreaterThan(end, _totalBytes);
                // A record of no bytes at the very end starts at totalBytes: it still belongs to the last shard.
                return _mode == Mode.CountByBytes
                    ? (int)Int128.Min(_count - 1, (Int128)start * _count / _totalBytes)
                    : (int)((Int128)index * _count / _totalRecords);
        }
    }

    private PipelineValidationException TooLarge(long index, long size)
    {
        var c = CultureInfo.InvariantCulture;
        return new PipelineValidationException(string.Create(c,
            $"Split '{_split}': record {index:N0} (counting from 0 in the split's output order) is {size:N0} bytes, more than --shard-size ({_limit:N0} bytes). " +
            $"A shard holds whole records and every --shard-size window of the split must end one, so pass --shard-size {Suggest(size)} or more (or --shard-rows N / --shards N, which have no size limit)."));
    }

    /// <summary>The record's size rounded up to a whole unit that the size parser reads back as at least that many bytes.</summary>
    private static string Suggest(long size)
    {
        foreach (var (unit, scale) in new[] { ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10) })
        {
            if (size >= scale) return string.Create(CultureInfo.InvariantCulture, $"{(size + scale - 1) / scale}{unit}");
        }
        return string.Create(CultureInfo.InvariantCulture, $"{size}");
    }
}

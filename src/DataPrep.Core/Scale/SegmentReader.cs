using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// Reads one channel's records from the segment of one encode task on, across the segments after it: each record's
/// global index and byte range, its bytes and its lineage line (completed with its shard and record numbers).
/// </summary>
internal sealed class SegmentReader(ScaleWork work, SegmentInfo[] segments, string channel, int first, long firstIndex, long firstOffset) : IAsyncDisposable
{
    private int _segment = first - 1;
    private long _left;
    private long _index = firstIndex - 1;
    private long _offset = firstOffset;
    private long _segmentOffset;
    private Stream? _data, _ends, _lineage;
    private bool _dataPending, _lineagePending;
    private readonly byte[] _eight = new byte[8];
    private readonly LineageBuffer _numbers = new(64);

    /// <summary>A record: its index in the channel, its global byte range, and the encode task whose segment holds it.</summary>
    public sealed record Record(long Index, long Start, long End, int Segment);

    public Record? Current { get; private set; }

    public async Task<Record?> NextAsync(CancellationToken cancellationToken)
    {
        if (Current is { } c)
        {
            if (_dataPending) await SkipAsync(_data!, c.End - c.Start, cancellationToken).ConfigureAwait(false);
            if (_lineagePending && _lineage is not null)
            {
                await _lineage.ReadExactlyAsync(_eight, cancellationToken).ConfigureAwait(false);
                await SkipAsync(_lineage, BitConverter.ToInt32(_eight, 0) + (long)BitConverter.ToInt32(_eight, 4), cancellationToken).ConfigureAwait(false);
            }
        }
        while (_left == 0)
        {
            await CloseAsync().ConfigureAwait(false);
            if (++_segment >= segments.Length) return Current = null;
            _left = segments[_segment].Records;
            if (_left == 0) continue;
            _segmentOffset = _offset;
            var area = work.Area;
            _data = await area.OpenRangeAsync(work.Key(ScaleStep.Encode, _segment, channel + ".data"), 0, long.MaxValue, cancellationToken).ConfigureAwait(false);
            _ends = await area.OpenRangeAsync(work.Key(ScaleStep.Encode, _segment, channel + ".ends"), 0, long.MaxValue, cancellationToken).ConfigureAwait(false);
            _lineage = (await area.ListAsync(work.Key(ScaleStep.Encode, _segment, channel + ".lineage"), cancellationToken).ConfigureAwait(false)).Count > 0
                ? await area.OpenRangeAsync(work.Key(ScaleStep.Encode, _segment, channel + ".lineage"), 0, long.MaxValue, cancellationToken).ConfigureAwait(false)
                : null;
        }
        await _ends!.ReadExactlyAsync(_eight, cancellationToken).ConfigureAwait(false);
        long end = _segmentOffset + BitConverter.ToInt64(_eight);
        _left--;
        _index++;
        Current = new Record(_index, _offset, end, _segment);
        _offset = end;
        _dataPending = true;
        _lineagePending = true;
        return Current;
    }

    public async Task CopyRecordAsync(Stream target, CancellationToken cancellationToken)
    {
        var c = Current ?? throw new InvalidOperationException("No record.");
        long n = c.End - c.Start;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(n, 1 << 20));
        try
        {
            while (n > 0)
            {
                int k = (int)Math.Min(n, buffer.Length);
                await _data!.ReadExactlyAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
                await target.WriteAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
                n -= k;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        _dataPending = false;
    }

    /// <summary>Writes the record's lineage line with its shard and its record number in that shard.</summary>
    public async Task CopyLineageAsync(Stream target, int shard, long record, CancellationToken cancellationToken)
    {
        if (_lineage is null) return;
        await _lineage.ReadExactlyAsync(_eight, cancellationToken).ConfigureAwait(false);
        int prefix = BitConverter.ToInt32(_eight, 0), suffix = BitConverter.ToInt32(_eight, 4);
        var bytes = new byte[prefix + suffix];
        await _lineage.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        _numbers.Clear();
        _numbers.Append(shard).Append((byte)',').Append(record);
        await target.WriteAsync(bytes.AsMemory(0, prefix), cancellationToken).ConfigureAwait(false);
        await target.WriteAsync(_numbers.Memory, cancellationToken).ConfigureAwait(false);
        await target.WriteAsync(bytes.AsMemory(prefix), cancellationToken).ConfigureAwait(false);
        _lineagePending = false;
    }

    private static async Task SkipAsync(Stream s, long n, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(Math.Max(n, 1), 1 << 16)];
        while (n > 0)
        {
            int k = (int)Math.Min(n, buffer.Length);
            await s.ReadExactlyAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
            n -= k;
        }
    }

    private async Task CloseAsync()
    {
        foreach (var s in new[] { _data, _ends, _lineage }) if (s is not null) await s.DisposeAsync().ConfigureAwait(false);
        _data = _ends = _lineage = null;
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);
}

using System.IO.Hashing;
using DataPrep.Output;

namespace DataPrep.RecordIO;

/// <summary>RecordIO-protobuf's records for the lineage: each record's payload (the serialized <c>aialgs.data.Record</c>), unframed.</summary>
public sealed class RecordIOPayloadHasher : IRecordHasher
{
    /// <summary>The hasher (it holds no state).</summary>
    public static RecordIOPayloadHasher Instance { get; } = new();

    private RecordIOPayloadHasher()
    {
    }

    /// <inheritdoc />
    public ValueTask HashAsync(Stream content, string path, Action<ulong> onRecord, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onRecord);
        using var reader = new RecordIOReader(content, path, leaveOpen: true);
        long records = 0;
        while (reader.TryRead(out var r))
        {
            onRecord(XxHash3.HashToUInt64(r.Payload));
            if ((++records & 0xFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
        }
        return ValueTask.CompletedTask;
    }
}

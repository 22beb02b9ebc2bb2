using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>
/// Encodes rows of an encoded batch (label first, numeric features) into the bytes of one output
/// format. Chunks are formatted independently on several threads and concatenated in order, so a
/// format must not carry state from one chunk to the next.
/// </summary>
public interface IRecordFormat
{
    /// <summary>The file extension without dot, e.g. "csv".</summary>
    string Extension { get; }

    /// <summary>The SageMaker content type, e.g. "text/csv".</summary>
    string ContentType { get; }

    /// <summary>Checks that the format can write batches of this schema.</summary>
    /// <exception cref="PipelineValidationException">It cannot.</exception>
    void Validate(Schema schema, bool hasLabel);

    /// <summary>Formats rows [start, start + count) of the batch.</summary>
    /// <exception cref="DataFormatException">A value the format cannot hold; its <c>Row</c> is the batch's row (1-based)
    /// and it names no file: the sink names the input, line and row the batch's row came from.</exception>
    FormattedChunk Format(RecordBatch batch, int start, int count);

    /// <summary>Bytes every file starts with (a CSV header); none by default.</summary>
    byte[] FileHeader(Schema schema) => [];

    /// <summary>What a training job needs to know about the files, for the run record.</summary>
    FormatInfo Describe(Schema schema, bool hasLabel) => new(
        ContentType,
        schema.Fields.Skip(hasLabel ? 1 : 0).Sum(f => f.Width),
        Sparse: false,
        Dtype: null,
        LabelDtype: null);
}

/// <summary>The bytes of consecutive records, with where each ends and a content hash of each.</summary>
/// <param name="Data">The bytes; only the first <paramref name="Length"/> are used.</param>
/// <param name="Length">Used bytes.</param>
/// <param name="RecordEnds">The end offset (exclusive) of each record in <paramref name="Data"/>.</param>
/// <param name="Hashes">XxHash3 of each record's content (for CSV, the line without its newline).</param>
public sealed record FormattedChunk(byte[] Data, int Length, int[] RecordEnds, ulong[] Hashes)
{
    private int _released;

    /// <summary>Whether <see cref="Data"/> came from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (see <see cref="Release"/>).</summary>
    internal bool Pooled { get; init; }

    /// <summary>
    /// Called by the one consumer once the bytes are written: a pooled array goes back to the pool (the chunk must not
    /// be read afterwards); otherwise nothing happens. A second call does nothing.
    /// </summary>
    public void Release()
    {
        if (Pooled && Interlocked.Exchange(ref _released, 1) == 0) System.Buffers.ArrayPool<byte>.Shared.Return(Data);
    }
}

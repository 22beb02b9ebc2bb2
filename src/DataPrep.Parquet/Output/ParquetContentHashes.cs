using DataPrep.Data;

namespace DataPrep.Formats;

/// <summary>
/// The lineage content hash of Parquet rows: XxHash3-64 of the row as label-first CSV writes it (without the newline),
/// so a row has the same content_hash whichever format a run writes, and audits compare rows across runs and formats.
/// The sink hashes the rows it writes and the audit the rows it reads back, both through this one formatter.
/// </summary>
/// <remarks>
/// Read back, a shard's columns are INT64 and DOUBLE only, where the sink's batches also had booleans and one-hot
/// (sparse) columns; label-first CSV writes those as the same numbers (booleans 1/0 as INT64 0/1, a one-hot position
/// 0 or its value as the DOUBLE written), so the bytes hashed are the same. The audit tests pin this on runs with both.
/// </remarks>
internal static class ParquetContentHashes
{
    /// <summary>Rows hashed per task when a batch is hashed in parallel.</summary>
    private const int ChunkRows = 4096;

    // The label flag only picks CSV's content type: a record's bytes, and so its hash, are the same with or without one.
    private static readonly LabelFirstCsvFormat s_csv = new(hasLabel: true);

    /// <summary>The content hashes of rows [<paramref name="start"/>, +<paramref name="count"/>) of a batch, in row order.</summary>
    public static ulong[] Of(RecordBatch batch, int start, int count) => HashesOf(batch, start, count);

    private static ulong[] HashesOf(RecordBatch batch, int start, int count)
    {
        var chunk = s_csv.Format(batch, start, count);
        chunk.Release(); // only the hashes are kept
        return chunk.Hashes;
    }

    /// <summary>The content hash of every row of a batch, in row order; chunks of rows are hashed on up to <paramref name="threads"/> threads.</summary>
    /// <remarks>Each row's hash depends only on the row, never on the chunking or the thread count.</remarks>
    public static ulong[] Of(RecordBatch batch, int threads)
    {
        var result = new ulong[batch.RowCount];
        int chunks = (batch.RowCount + ChunkRows - 1) / ChunkRows;
        void HashChunk(int k)
        {
            int s = k * ChunkRows, n = Math.Min(ChunkRows, batch.RowCount - s);
            HashesOf(batch, s, n).CopyTo(result, s);
        }
        if (chunks <= 1 || threads <= 1)
        {
            for (int k = 0; k < chunks; k++) HashChunk(k);
        }
        else
        {
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, HashChunk);
        }
        return result;
    }
}

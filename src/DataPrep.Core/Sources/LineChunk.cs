namespace DataPrep.Sources;

/// <summary>
/// A batch's lines, copied out of the line reader so that several parsers can read them at once (JSON Lines, LibSVM):
/// the reading thread gathers them, then <see cref="RowShares"/> parses contiguous shares of them on parallel threads.
/// </summary>
internal sealed class LineChunk(int rows)
{
    public byte[] Bytes { get; private set; } = new byte[1 << 16];

    /// <summary>Where each line ends in <see cref="Bytes"/> (each starts where the one before ends).</summary>
    public int[] Ends { get; } = new int[rows];

    /// <summary>Each line's 1-based line number in the input, for messages.</summary>
    public long[] Lines { get; } = new long[rows];

    /// <summary>How many lines the chunk holds at most.</summary>
    public int Capacity => Ends.Length;

    /// <summary>An error found while gathering, at the row after the gathered ones: thrown after them.</summary>
    public DataFormatException? Error { get; set; }

    public ReadOnlySpan<byte> Line(int row) => Bytes.AsSpan(row == 0 ? 0 : Ends[row - 1], Ends[row] - (row == 0 ? 0 : Ends[row - 1]));

    public void Add(int row, ReadOnlySpan<byte> line, long lineNumber)
    {
        int at = row == 0 ? 0 : Ends[row - 1];
        if (at + line.Length > Bytes.Length)
        {
            var bigger = new byte[Math.Max(Bytes.Length * 2, at + line.Length)];
            Bytes.AsSpan(0, at).CopyTo(bigger);
            Bytes = bigger;
        }
        line.CopyTo(Bytes.AsSpan(at));
        Ends[row] = at + line.Length;
        Lines[row] = lineNumber;
    }
}

/// <summary>Contiguous shares of a chunk's rows, parsed at once, each by one thread.</summary>
internal static class RowShares
{
    /// <summary>At least 512 rows a share: fewer are not worth a thread.</summary>
    public const int MinRows = 512;

    /// <summary>How many shares <paramref name="rows"/> rows make on up to <paramref name="threads"/> threads.</summary>
    public static int For(int rows, int threads) => Math.Clamp(rows / MinRows, 1, Math.Max(1, threads));

    /// <summary>
    /// Runs <paramref name="share"/>(s, lo, hi) for rows [lo, hi) of each of <paramref name="shares"/> contiguous shares,
    /// on parallel threads when more than one, then throws the error of the first share that failed. Each share stops at
    /// its first error, so that is the earliest failing row's error, as a sequential read throws it.
    /// </summary>
    public static void Run(int rows, int shares, Action<int, int, int> share)
    {
        if (shares <= 1)
        {
            share(0, 0, rows);
            return;
        }
        var errors = new Exception?[shares];
        Parallel.For(0, shares, new ParallelOptions { MaxDegreeOfParallelism = shares }, s =>
        {
            try
            {
                share(s, (int)((long)rows * s / shares), (int)((long)rows * (s + 1) / shares));
            }
            catch (Exception e)
            {
                errors[s] = e;
            }
        });
        foreach (var e in errors)
        {
            if (e is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
        }
    }
}

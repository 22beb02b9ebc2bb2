using System.Diagnostics;

namespace DataPrep;

/// <summary>Base class of every error DataPrep raises on purpose; the message is written for the user.</summary>
public abstract class DataPrepException : Exception
{
    private protected DataPrepException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Input data that cannot be read as expected. Carries where the problem is.</summary>
public sealed class DataFormatException : DataPrepException
{
    /// <summary>Creates the exception; the message is composed from the location and the problem.</summary>
    public DataFormatException(string problem, string? file = null, long line = 0, long row = 0, string? column = null, Exception? inner = null, string? within = null)
        : base(Compose(problem, file, line, row, column, within), inner)
    {
        Problem = problem;
        File = file;
        Line = line;
        Row = row;
        Column = column;
        Within = within;
    }

    /// <summary>Where the row sits inside a file's parts when lines do not apply, e.g. "row group 2 of 3, its row 15" (Parquet); or null.</summary>
    public string? Within { get; }

    /// <summary>The problem without the location.</summary>
    public string Problem { get; }

    /// <summary>The file (or object) that holds the bad data, if known.</summary>
    public string? File { get; }

    /// <summary>The 1-based line in the file, or 0.</summary>
    public long Line { get; }

    /// <summary>The 1-based data row (header not counted), or 0.</summary>
    public long Row { get; }

    /// <summary>The column name, if known.</summary>
    public string? Column { get; }

    private static string Compose(string problem, string? file, long line, long row, string? column, string? within)
    {
        var where = new List<string>(5);
        if (file is not null) where.Add(file);
        if (line > 0) where.Add($"line {line}");
        if (row > 0) where.Add(within is null ? $"row {row}" : $"row {row} ({within})");
        else if (within is not null) where.Add(within);
        if (column is not null) where.Add($"column '{column}'");
        return where.Count == 0 ? problem : $"{string.Join(", ", where)}: {problem}";
    }
}

/// <summary>Options or a pipeline that cannot work, found before any data is written.</summary>
public sealed class PipelineValidationException : DataPrepException
{
    /// <summary>Creates the exception with one or more problems.</summary>
    public PipelineValidationException(string message) : base(message) => Problems = [message];

    /// <summary>Creates the exception collecting several problems into one message.</summary>
    public PipelineValidationException(IReadOnlyList<string> problems)
        : base(problems.Count == 1 ? problems[0] : "The pipeline is not valid:\n  - " + string.Join("\n  - ", problems)) => Problems = problems;

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Problems { get; }
}

/// <summary>The output location cannot be written as asked (an existing run, a file in the way).</summary>
public sealed class OutputException : DataPrepException
{
    /// <summary>Creates the exception.</summary>
    public OutputException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A store that cannot be reached or refuses the credentials: a network error, a time-out, no credentials, an unknown
/// key, a bad signature, an expired token, access denied (exit 6). The same for inputs and outputs, so a script can
/// tell "retry later or fix the credentials" from bad data (3) and bad options (2).
/// </summary>
public sealed class StorageException : DataPrepException
{
    /// <summary>Creates the exception.</summary>
    public StorageException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>All throws go through here so messages stay uniform and stack traces short.</summary>
[StackTraceHidden]
internal static class Throw
{
    /// <summary>
    /// Quotes user text for a message: truncated, and every character a terminal would not show made visible: \r, \n and
    /// \t, and as \uXXXX any other control character, format character (a byte-order mark, a zero-width space, a bidi
    /// mark) or space other than the ASCII one (a no-break space), so that a value refused for one of them does not look
    /// like a plain number in the message.
    /// </summary>
    public static string Quote(ReadOnlySpan<char> text, int max = 40)
    {
        var cut = text.Length > max ? text[..max] : text;
        var quoted = new System.Text.StringBuilder(cut.Length + 8).Append('\'');
        foreach (char ch in cut)
        {
            switch (ch)
            {
                case '\r': quoted.Append("\\r"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\t': quoted.Append("\\t"); break;
                default:
                    if (ch != ' ' && char.GetUnicodeCategory(ch) is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
                        or System.Globalization.UnicodeCategory.SpaceSeparator or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator)
                    {
                        quoted.Append("\\u").Append(((int)ch).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else quoted.Append(ch);
                    break;
            }
        }
        if (text.Length > max) quoted.Append('…');
        return quoted.Append('\'').ToString();
    }

    /// <summary>Quotes UTF-8 bytes for a message.</summary>
    public static string Quote(ReadOnlySpan<byte> utf8, int max = 40)
        => Quote(System.Text.Encoding.UTF8.GetString(utf8.Length > max * 4 ? utf8[..(max * 4)] : utf8), max);

    public static DataFormatException Format(string problem, string? file = null, long line = 0, long row = 0, string? column = null, Exception? inner = null, string? within = null)
        => new(problem, file, line, row, column, inner, within);

    public static OutputException Output(string message, Exception? inner = null) => new(message, inner);

    /// <summary>
    /// Whether a library's exception while decoding a file may be reported as bad data in it: not a DataPrep error
    /// (already worded), not a cancellation, and not the process running out of memory or stack, which says nothing
    /// about the file on its own (a sound 4,000,000-row Parquet column under a 24 MiB heap limit was reported as "the
    /// file may be corrupt").
    /// </summary>
    public static bool IsDecodeFailure(Exception e) => e is not (DataPrepException or OperationCanceledException or OutOfMemoryException or InsufficientExecutionStackException);
}

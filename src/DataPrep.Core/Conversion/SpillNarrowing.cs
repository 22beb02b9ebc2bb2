using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Conversion;

/// <summary>
/// Which columns a split spill may keep as float32 instead of double (<see cref="SplitStage.SpillFloat32"/>), and which it
/// need not write at all (<see cref="SplitStage.SpillUnread"/>): what the stages after the split read, in one place.
/// </summary>
internal static class SpillNarrowing
{
    /// <summary>
    /// The split input's columns a spill may store as float32: a Float64 column is narrowed only when nothing after the
    /// split reads its double. That is, all of:
    /// <list type="bullet">
    /// <item>the format reads every feature only as float32 (<see cref="OutputFormatDefinition.ReadsFeaturesOnlyAsFloat32"/>:
    /// RecordIO-protobuf with dense float32 features; never CSV, LibSVM, JSON Lines, Parquet, or sparse rows);</item>
    /// <item>the only stage after the split is the <see cref="EncodeStage"/>, and it hands the column on as it is: a
    /// feature without encoding, not fitted (no <c>--missing fill</c>: no mean over train, no fill), not the label (the
    /// report tallies labels; a label stays double);</item>
    /// <item>the split's assigner does not key on it and the lineage does not record it (group, time).</item>
    /// </list>
    /// Any other stage after the split, or no split stage: nothing is narrowed. Narrowing does not change the output
    /// (<see cref="Float32Rule"/>): a value the writer would refuse (finite, beyond float32) is spilled as a double with
    /// its block, so the same error names the same row.
    /// </summary>
    /// <param name="options">The run's options.</param>
    /// <param name="format">The output format.</param>
    /// <param name="stages">The run's stages, in order, bound.</param>
    /// <param name="splitInput">The schema the split stage reads.</param>
    /// <param name="output">The schema the sink gets.</param>
    /// <returns>By split input column, whether it may be spilled as float32; null when none.</returns>
    internal static bool[]? Float32Columns(ConvertOptions options, OutputFormatDefinition format, IReadOnlyList<IPipelineStage> stages, Schema splitInput, Schema output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(splitInput);
        ArgumentNullException.ThrowIfNull(output);
        if (SplitThenEncode(stages) is not var (split, encode)) return null;
        if (options.KeepsColumns || !format.ReadsFeaturesOnlyAsFloat32(options, output)) return null;
        var narrow = new bool[splitInput.Count];
        foreach (int c in encode.PassedThroughFloat64Features) if (splitInput[c].Kind == ColumnKind.Float64) narrow[c] = true;
        foreach (int c in split.Assigner.KeyColumns ?? []) if (c >= 0 && c < narrow.Length) narrow[c] = false;
        foreach (int c in split.LineageColumns) narrow[c] = false;
        return narrow.Any(x => x) ? narrow : null;
    }

    /// <summary>
    /// The split input's columns a spill need not write at all: nothing after the split reads them. The only stage after
    /// the split is the <see cref="EncodeStage"/>, which reads its features and label (<see cref="EncodeStage.UnreadColumns"/>),
    /// and the output does not keep every column as it is. A column the split keys on or the lineage records may still be
    /// left out: the spill takes what it needs of those (kept key columns, class numbers, times, group units, lineage
    /// values) from each batch before writing it. Any other stage after the split, or no split stage: every column is written.
    /// </summary>
    /// <returns>By split input column, whether the spill leaves it out; null when none.</returns>
    internal static bool[]? UnreadColumns(ConvertOptions options, IReadOnlyList<IPipelineStage> stages, Schema splitInput)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(splitInput);
        if (SplitThenEncode(stages) is not var (_, encode) || options.KeepsColumns) return null;
        var unread = encode.UnreadColumns();
        return unread.Length == splitInput.Count && unread.Any(x => x) ? unread : null;
    }

    /// <summary>
    /// The columns whose doubles nothing in the run reads, only their float32 (<see cref="Pipeline.Float32OnlyColumns"/>): the
    /// split's <see cref="SplitStage.SpillFloat32"/> columns (after <see cref="Apply"/>), since the stages before the split
    /// read a float feature's double only to find NaN (<see cref="MissingValuesStage"/>), which a float32 keeps. Null when
    /// none (no split stage, another format, or nothing narrowed).
    /// </summary>
    internal static IReadOnlySet<string>? Float32OnlyNames(IReadOnlyList<IPipelineStage> stages, Schema? splitInput)
    {
        ArgumentNullException.ThrowIfNull(stages);
        if (splitInput is null || stages.OfType<SplitStage>().LastOrDefault() is not { SpillFloat32: { } narrow }) return null;
        return Float32OnlyNames(stages.TakeWhile(s => s is not SplitStage), narrow, splitInput);
    }

    /// <summary>
    /// The names of the <paramref name="narrow"/> columns of <paramref name="splitInput"/> when the stages before the split
    /// (<paramref name="before"/>) read a float feature's double only to find NaN (missing-value stages); else null. A
    /// scaled-out scan task asks with its rows objects' float32 columns.
    /// </summary>
    internal static IReadOnlySet<string>? Float32OnlyNames(IEnumerable<IPipelineStage> before, bool[] narrow, Schema splitInput)
    {
        if (!before.All(s => s is MissingValuesStage)) return null;
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int c = 0; c < narrow.Length && c < splitInput.Count; c++) if (narrow[c]) names.Add(splitInput[c].Name);
        return names.Count > 0 ? names : null;
    }

    /// <summary>
    /// The split input's columns a spill may leave to the rows' text (<see cref="SplitStage.SpillText"/>), with the writer's
    /// records of rows without text (<see cref="RecordsOf"/>). All of:
    /// <list type="bullet">
    /// <item>the format copies a row's input text when it is exactly the record it would write (<see cref="FormatTraits.CopiesCsvText"/>:
    /// label-first CSV), and is the one the sink writes with;</item>
    /// <item>the only stage after the split is the <see cref="EncodeStage"/>, and it hands every column on as it is, in
    /// order (<see cref="EncodeStage.HandsOnEveryColumn"/>), so the text is each row's output record;</item>
    /// <item>a column is left to the text unless it is the label (the report tallies labels), the split keys on it, or the
    /// lineage records it: those are spilled as values; an assigner that may read any column (no key columns) leaves
    /// nothing to the text.</item>
    /// </list>
    /// Null when none. The output does not change: a row's text is what the writer copies in memory, and a row the source
    /// kept no text for is formatted by the same format when it is spilled.
    /// </summary>
    internal static (bool[] Columns, RowRecords Records)? TextColumns(ConvertOptions options, OutputFormatDefinition format, IReadOnlyList<IPipelineStage> stages, Schema splitInput, Schema output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(splitInput);
        ArgumentNullException.ThrowIfNull(output);
        if (SplitThenEncode(stages) is not var (split, encode) || options.KeepsColumns) return null;
        if (!format.Traits.CopiesCsvText || format is not RecordFormatDefinition records || !encode.HandsOnEveryColumn || !output.Equals(splitInput)) return null;
        if (split.Assigner.KeyColumns is not { } keys) return null;
        var text = new bool[splitInput.Count];
        Array.Fill(text, true);
        if (encode.LabelIndex is int label and >= 0) text[label] = false;
        foreach (int c in keys) if (c >= 0 && c < text.Length) text[c] = false;
        foreach (int c in split.LineageColumns) text[c] = false;
        return text.Any(x => x) ? (text, RecordsOf(records.CreateFormat(options, encode.LabelIndex >= 0))) : null;
    }

    /// <summary>The records <paramref name="format"/> writes for a batch's rows, each without its '\n', copied out of the chunk (whose buffer may go back to a pool).</summary>
    internal static RowRecords RecordsOf(Output.IRecordFormat format) => batch =>
    {
        int n = batch.RowCount;
        var chunk = format.Format(batch, 0, n);
        try
        {
            var bytes = new byte[chunk.Length - n];
            var records = new ReadOnlyMemory<byte>[n];
            for (int k = 0, start = 0, at = 0; k < n; start = chunk.RecordEnds[k], k++)
            {
                int length = chunk.RecordEnds[k] - 1 - start;
                chunk.Data.AsSpan(start, length).CopyTo(bytes.AsSpan(at));
                records[k] = bytes.AsMemory(at, length);
                at += length;
            }
            return records;
        }
        finally
        {
            chunk.Release();
        }
    };

    /// <summary>The run's (last) split stage and the encoder after it, when the encoder is the only stage after the split; else null.</summary>
    private static (SplitStage Split, EncodeStage Encode)? SplitThenEncode(IReadOnlyList<IPipelineStage> stages)
    {
        int at = -1;
        for (int i = 0; i < stages.Count; i++) if (stages[i] is SplitStage) at = i;
        return at >= 0 && at == stages.Count - 2 && stages[at + 1] is EncodeStage encode ? ((SplitStage)stages[at], encode) : null;
    }

    /// <summary>Sets <see cref="SplitStage.SpillFloat32"/>, <see cref="SplitStage.SpillUnread"/> and <see cref="SplitStage.SpillText"/> of the run's split stage, if any.</summary>
    internal static void Apply(ConvertOptions options, OutputFormatDefinition format, IReadOnlyList<IPipelineStage> stages, Schema splitInput, Schema output)
    {
        if (stages.OfType<SplitStage>().LastOrDefault() is not { } split) return;
        split.SpillFloat32 = Float32Columns(options, format, stages, splitInput, output);
        split.SpillUnread = UnreadColumns(options, stages, splitInput);
        split.SpillText = split.SpillFloat32 is null ? TextColumns(options, format, stages, splitInput, output) : null;
    }
}

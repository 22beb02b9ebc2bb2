using System.Globalization;
using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>
/// The class ids of a run, decided before any image is split: class names (folder names, or text labels of a
/// list) get ids 0…K−1 in ordinal order of the names over every input, as im2rec and ImageFolder number them;
/// numeric labels are ids as they are. With <c>--like</c> the earlier run's names keep their ids and new names
/// follow in ordinal order, so no id is ever renumbered.
/// </summary>
public sealed class ImageClasses
{
    private readonly float[]?[] _remap;

    private ImageClasses(IReadOnlyList<string>? names, bool multiLabel, string labelName, float[]?[] remap, IReadOnlyList<string> warnings)
    {
        Names = names;
        MultiLabel = multiLabel;
        LabelName = labelName;
        _remap = remap;
        Warnings = warnings;
    }

    /// <summary>Class names by id; null when the labels are numeric ids.</summary>
    public IReadOnlyList<string>? Names { get; }

    /// <summary>Whether any image has other than one label: every record is then written in the multi-label layout.</summary>
    public bool MultiLabel { get; }

    /// <summary>Where labels come from, for the run record: <c>class folder</c>, or the list's label column.</summary>
    public string LabelName { get; }

    /// <summary>What the run should be told (new classes under <c>--like</c>).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The run's class id of input <paramref name="source"/>'s own class id <paramref name="local"/>.</summary>
    public float Map(int source, float local) => _remap[source] is { } map ? map[(int)local] : local;

    /// <summary>Whether input <paramref name="source"/>'s own ids are the run's ids.</summary>
    public bool IsIdentity(int source) => _remap[source] is null;

    /// <summary>Decides the class ids of the inputs (in source-index order).</summary>
    /// <param name="inputs">The opened inputs.</param>
    /// <param name="labelColumn">The list's label column (named in the run record when an input is a list).</param>
    /// <param name="earlier">With <c>--like</c>: the earlier run's label (its class names, or none for numeric ids); else null.</param>
    /// <exception cref="PipelineValidationException">Inputs mix class names and numeric ids, or differ from the earlier run in that.</exception>
    public static ImageClasses Create(IReadOnlyList<ImageInput> inputs, string labelColumn, LabelRecord? earlier)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        var named = inputs.Where(i => i.Classes is not null).ToList();
        if (named.Count > 0 && named.Count < inputs.Count)
        {
            problems.Add($"The inputs mix class names ({string.Join(", ", named.Select(i => i.Description))}) and numeric class ids ({string.Join(", ", inputs.Where(i => i.Classes is null).Select(i => i.Description))}); expected one kind of label in every input.");
        }
        if (earlier is not null && inputs.Count > 0)
        {
            if (earlier.Classes is null && named.Count > 0) problems.Add("--like: the earlier run's labels were numeric class ids, but these inputs name their classes; expected numeric ids as before.");
            if (earlier.Classes is not null && named.Count == 0) problems.Add($"--like: the earlier run named its classes ({string.Join(", ", earlier.Classes.Take(5))}{(earlier.Classes.Count > 5 ? ", …" : "")}), but these inputs have numeric class ids; expected class names as before.");
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        bool multiLabel = inputs.Any(i => i.MultiLabel);
        string labelName = inputs.All(i => i.IsClassFolder) ? "class folder" : labelColumn;
        var remap = new float[]?[inputs.Count];
        if (named.Count == 0) return new ImageClasses(null, multiLabel, labelName, remap, []);

        // Earlier names keep their ids; names new to this run follow in ordinal order (all of them, without --like).
        var names = earlier?.Classes?.ToList() ?? [];
        var known = names.ToHashSet(StringComparer.Ordinal);
        var added = inputs.SelectMany(i => i.Classes!).Where(n => !known.Contains(n)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        names.AddRange(added);
        var warnings = new List<string>();
        if (earlier is not null && added.Count > 0)
        {
            warnings.Add($"--like: {added.Count} class(es) new since the earlier run get ids {known.Count}…{names.Count - 1} ({string.Join(", ", added.Take(5))}{(added.Count > 5 ? ", …" : "")}); a model trained on the earlier run has no output for them.");
        }
        var ids = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => (float)x.i, StringComparer.Ordinal);
        for (int s = 0; s < inputs.Count; s++)
        {
            var own = inputs[s].Classes!;
            var map = own.Select(n => ids[n]).ToArray();
            bool identity = true;
            for (int i = 0; i < map.Length; i++) identity &= map[i] == i;
            remap[s] = identity ? null : map;
        }
        return new ImageClasses(names, multiLabel, labelName, remap, warnings);
    }
}

/// <summary>
/// The first image stage: records the run's class map (<see cref="ImageClasses"/>) as the learned label encoding of
/// the run record, and rewrites each row's <see cref="ImageColumns.Label"/> from its input's own class ids to the
/// run's (only where they differ: several inputs, or <c>--like</c> with new classes). It runs before the split, so
/// stratification sees the run's ids.
/// </summary>
public sealed class ImageClassStage(ImageClasses classes) : IPipelineStage
{
    private int _label = -1;

    /// <summary>The run's class map.</summary>
    public ImageClasses Classes => classes;

    /// <inheritdoc />
    public string Describe() => classes.Names is { } names ? $"class ids 0…{names.Count - 1} by class name" : "class ids as given";

    /// <inheritdoc />
    public Schema Bind(Schema input)
    {
        _label = input.IndexOf(ImageColumns.Label);
        if (_label < 0 || input[_label].Kind != ColumnKind.String)
        {
            throw new PipelineValidationException($"The image stages need a text column '{ImageColumns.Label}' of class ids; the input has {input}.");
        }
        return input;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        context.Report.Encoding = new EncodingRecord
        {
            Label = new LabelRecord { Name = classes.LabelName, Kind = ColumnKind.String, Classes = classes.Names?.ToList() },
        };
        context.Report.Warnings.AddRange(classes.Warnings);
        await foreach (var batch in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var sources = batch.Rows.Sources;
            bool same = true;
            for (int r = 0; r < batch.RowCount && same; r++) same = classes.IsIdentity(sources[r]);
            if (same)
            {
                yield return batch;
                continue;
            }
            var text = (StringColumn)batch.Columns[_label];
            var mapped = new string?[batch.RowCount];
            for (int r = 0; r < mapped.Length; r++)
            {
                var t = text.Values[r];
                mapped[r] = t is null || classes.IsIdentity(sources[r]) ? t : ImageInputs.LabelText(ParseLabels(t).Select(l => classes.Map(sources[r], l)).ToArray());
            }
            var columns = batch.Columns.ToArray();
            columns[_label] = new StringColumn(mapped);
            yield return new RecordBatch(batch.Schema, columns, batch.RowCount, batch.Rows);
        }
    }

    /// <summary>The class ids of a label text (<see cref="ImageInputs.LabelText"/>).</summary>
    public static float[] ParseLabels(string text)
        => text.Split(';').Select(t => float.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
}

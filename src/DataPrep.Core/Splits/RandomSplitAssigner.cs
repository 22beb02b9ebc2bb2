using System.Globalization;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Exact random split by hash(seed, "split", row id), optionally stratified: each class is cut at its own
/// exact counts, so every class is within one row of its share in every split.
/// </summary>
public sealed class RandomSplitAssigner(IReadOnlyList<double> fractions, ulong seed, string? stratify) : IRowIdAssigner
{
    private int _stratifyIndex = -1;

    /// <inheritdoc />
    public string Describe()
        => $"split random {string.Join("/", fractions.Select(f => (f * 100).ToString("0.##", CultureInfo.InvariantCulture)))}"
           + (stratify is null ? "" : $" stratified by {stratify}") + $", seed {seed}";

    /// <summary>The split fractions.</summary>
    internal IReadOnlyList<double> Fractions => fractions;

    /// <summary>Whether the split is stratified (cut per class).</summary>
    internal bool Stratified => stratify is not null;

    /// <inheritdoc />
    public IReadOnlyCollection<int>? KeyColumns => _stratifyIndex >= 0 ? [_stratifyIndex] : [];

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        if (stratify is null) return;
        _stratifyIndex = input.IndexOf(stratify);
        if (_stratifyIndex < 0) throw new PipelineValidationException($"--stratify names column '{stratify}', which the input does not have (its columns: {string.Join(", ", input.Fields.Select(f => f.Name))}).");
        if (input[_stratifyIndex].Kind is ColumnKind.Sparse or ColumnKind.Binary) throw new PipelineValidationException($"--stratify column '{stratify}' is {input[_stratifyIndex].Kind}; expected a label-like column (text, integer or boolean).");
    }

    /// <summary>Each row's split follows from its id (and its class, stratified) once the cuts are found.</summary>
    bool IRowIdAssigner.TagsFromRowIds => true;

    /// <summary>Stratified: the class column.</summary>
    int IRowIdAssigner.ClassColumn => _stratifyIndex;

    /// <summary>
    /// The cuts of <see cref="RandomSplitter.Assign"/> over the streamed ids (stratified: each class's cuts of
    /// <see cref="RandomSplitter.AssignStratified"/>, by <see cref="RandomSplitCuts.FindStratified"/>), then each row's tag
    /// from its hash and id.
    /// </summary>
    IRowIdTagger IRowIdAssigner.ForRowIds(Func<IEnumerable<RowIdChunk>> pass, long rows, IReadOnlyList<long>? classRows, IReadOnlyList<string>? classKeys, long maxBytes, RunContext context)
    {
        if (_stratifyIndex < 0) return new RandomCutTagger(RandomSplitter.CutsOf(pass, rows, fractions, seed), null, seed);
        if (classRows is null) throw new ArgumentNullException(nameof(classRows), "A stratified split needs the rows of each class.");
        var hashed = new HashedRowIds(pass, new KeyedHash(seed, "split"), strata: true);
        return new StratifiedCutTagger(RandomSplitCuts.FindStratified(classRows, fractions, hashed.Pass, maxHeld: HashedRowIds.Chunk, maxBytes), seed);
    }

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
        => new(_stratifyIndex < 0
            ? (input.RowIds.Length >= RandomSplitter.CutsFromRows ? RandomSplitter.AssignByCuts(input.RowIds, fractions, seed) : RandomSplitter.Assign(input.RowIds, fractions, seed))
            : RandomSplitter.AssignStratified(input.RowIds, StratumIds(input.Column(_stratifyIndex)), fractions, seed));

    /// <summary>Stratum numbers per row, numbered in sorted key order so they do not depend on input order.</summary>
    public static int[] StratumIds(Column column)
    {
        var keys = new string[column.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = KeyOf(column, i);
        var numbers = keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select((k, n) => (k, n)).ToDictionary(x => x.k, x => x.n, StringComparer.Ordinal);
        var ids = new int[keys.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = numbers[keys[i]];
        return ids;
    }

    /// <summary>The text key of a value (stratum, group): invariant, missing values share one key.</summary>
    public static string KeyOf(Column column, int row) => column.IsNull(row) ? "\0missing" : column switch
    {
        StringColumn s => s.Values[row]!,
        Int64Column l => l.Values[row].ToString(CultureInfo.InvariantCulture),
        Float64Column d => d.Values[row].ToString("R", CultureInfo.InvariantCulture),
        BooleanColumn b => b.Values[row] ? "1" : "0",
        TimestampColumn t => t.Values[row].ToString(CultureInfo.InvariantCulture),
        _ => "",
    };
}

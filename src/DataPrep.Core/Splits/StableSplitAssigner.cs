using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Stable assignment for incremental training (DESIGN §2): a row — or, with a key column, a whole group —
/// goes to the split whose cumulative-fraction interval holds hash(seed, "split", key) mapped to [0, 1).
/// A key's split depends on nothing but the seed, the fractions and the key itself, so adding rows or
/// groups later never moves an existing one. Fractions are then met only approximately (binomially); the
/// achieved ones are in the report. A row's split follows from that row alone, so a spilling split tags each batch as it
/// spills it (<see cref="IRowLocalAssigner"/>) and keeps no key column.
/// </summary>
/// <param name="fractions">Train, validation, test fractions.</param>
/// <param name="seed">The seed.</param>
/// <param name="keyColumn">A group or id column whose value is the key; null keys rows by their stable row id.</param>
public sealed class StableSplitAssigner(IReadOnlyList<double> fractions, ulong seed, string? keyColumn = null) : IRowLocalAssigner
{
    private int _keyIndex = -1;

    /// <inheritdoc />
    public string Describe() => $"split stable {string.Join("/", fractions)} by {(keyColumn ?? "row id")}, seed {seed}";

    /// <inheritdoc />
    public IReadOnlyCollection<int>? KeyColumns => _keyIndex >= 0 ? [_keyIndex] : [];

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        if (keyColumn is null) return;
        _keyIndex = input.IndexOf(keyColumn);
        if (_keyIndex < 0) throw new PipelineValidationException($"The stable assignment key '{keyColumn}' is not a column of the input (its columns: {string.Join(", ", input.Fields.Select(f => f.Name))}).");
    }

    /// <summary>The split of a unit hash value under the cumulative thresholds.</summary>
    public static SplitTag Pick(double unit, IReadOnlyList<double> fractions)
    {
        double cumulative = 0;
        for (int s = 0; s < fractions.Count; s++)
        {
            cumulative += fractions[s];
            if (unit < cumulative && fractions[s] > 0) return (SplitTag)s;
        }
        // Rounding can leave the top sliver unassigned: it belongs to the last non-empty split.
        for (int s = fractions.Count - 1; s >= 0; s--) if (fractions[s] > 0) return (SplitTag)s;
        return SplitTag.Train;
    }

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var hash = new KeyedHash(seed, "split");
        var tags = new SplitTag[input.Count];
        var keys = _keyIndex >= 0 ? input.Column(_keyIndex) : null;
        for (int i = 0; i < tags.Length; i++)
        {
            ulong h;
            if (keys is null)
            {
                h = hash.Hash(input.RowIds[i]);
            }
            else if (keys.IsNull(i))
            {
                var (source, row) = input.Origin(i);
                throw Refused(source < context.Inputs.Count ? context.Inputs[source] : null, row);
            }
            else
            {
                h = hash.Hash(RandomSplitAssigner.KeyOf(keys, i));
            }
            tags[i] = Pick(KeyedHash.ToUnit(h), fractions);
        }
        return new SplitAssignment(tags);
    }

    /// <inheritdoc />
    int IRowLocalAssigner.FirstRefused(RecordBatch batch)
    {
        if (_keyIndex < 0) return -1;
        var keys = batch.Columns[_keyIndex];
        for (int i = 0; i < batch.RowCount; i++) if (keys.IsNull(i)) return i;
        return -1;
    }

    /// <summary>The error for a row without a key.</summary>
    private DataFormatException Refused(string? file, long row)
        => Throw.Format("found no value in the stable assignment key column; expected a key in every row (use --missing drop to drop such rows)", file, row: row, column: keyColumn);

    /// <inheritdoc />
    DataFormatException IRowLocalAssigner.Refused(string? file, long row) => Refused(file, row);
}

namespace DataPrep.Data;

/// <summary>The physical kind of a column.</summary>
public enum ColumnKind
{
    /// <summary>Dense 64-bit floating point values.</summary>
    Float64,
    /// <summary>Dense 64-bit integers.</summary>
    Int64,
    /// <summary>Booleans (written as 0/1).</summary>
    Boolean,
    /// <summary>Strings (categorical values, keys, paths).</summary>
    String,
    /// <summary>Instants, stored as UTC ticks.</summary>
    Timestamp,
    /// <summary>Sparse rows in compressed sparse row form; one logical column of a fixed width.</summary>
    Sparse,
    /// <summary>Binary values (image bytes) or lazily resolved paths.</summary>
    Binary,
}

/// <summary>A named, typed column of a <see cref="Schema"/>.</summary>
/// <param name="Name">The column name.</param>
/// <param name="Kind">The physical kind.</param>
/// <param name="Width">The logical width: 1 for dense columns, the number of sparse columns for <see cref="ColumnKind.Sparse"/>.</param>
public sealed record Field(string Name, ColumnKind Kind, int Width = 1)
{
    /// <summary>Whether this column is numeric once written (numbers, booleans, sparse).</summary>
    public bool IsNumeric => Kind is ColumnKind.Float64 or ColumnKind.Int64 or ColumnKind.Boolean or ColumnKind.Sparse;

    /// <summary>
    /// Why the source inferred this column as text, for messages ("data.csv, line 52, row 51 holds 'N/A', though 50 of
    /// …"), or null. Not part of the field's identity: two fields of the same name, kind and width are equal.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? KindEvidence { get; init; }

    /// <summary>Name, kind and width (not <see cref="KindEvidence"/>).</summary>
    public bool Equals(Field? other) => other is not null && Name == other.Name && Kind == other.Kind && Width == other.Width;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Kind, Width);

    /// <inheritdoc />
    public override string ToString() => Width == 1 ? $"{Name}:{Kind}" : $"{Name}:{Kind}[{Width}]";
}

/// <summary>An ordered list of fields with unique names.</summary>
public sealed class Schema : IEquatable<Schema>
{
    private readonly Field[] _fields;
    private readonly Dictionary<string, int> _index;

    /// <summary>Creates a schema; names must be unique.</summary>
    /// <exception cref="PipelineValidationException">Two fields share a name.</exception>
    public Schema(IEnumerable<Field> fields)
    {
        _fields = fields.ToArray();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _fields.Length; i++)
        {
            if (!_index.TryAdd(_fields[i].Name, i))
            {
                throw new PipelineValidationException($"Column name '{_fields[i].Name}' occurs twice (columns {_index[_fields[i].Name]} and {i}, 0-based); column names must be unique.");
            }
        }
    }

    /// <summary>The fields in order.</summary>
    public IReadOnlyList<Field> Fields => _fields;

    /// <summary>The number of fields.</summary>
    public int Count => _fields.Length;

    /// <summary>The field at <paramref name="index"/>.</summary>
    public Field this[int index] => _fields[index];

    /// <summary>The index of the named field, or -1.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out int i) ? i : -1;

    /// <summary>
    /// The column a spec names, as the label and column options take it: a name, else "first", "last" or a 0-based
    /// index in range; -1 when it names none.
    /// </summary>
    public int IndexOfSpec(string spec)
    {
        int i = IndexOf(spec);
        if (i >= 0) return i;
        if (spec.Equals("first", StringComparison.OrdinalIgnoreCase)) return Count > 0 ? 0 : -1;
        if (spec.Equals("last", StringComparison.OrdinalIgnoreCase)) return Count - 1;
        return int.TryParse(spec, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ix) && ix < Count ? ix : -1;
    }

    /// <inheritdoc />
    public bool Equals(Schema? other) => other is not null && _fields.AsSpan().SequenceEqual(other._fields);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Schema);

    /// <inheritdoc />
    public override int GetHashCode() => _fields.Length == 0 ? 0 : HashCode.Combine(_fields.Length, _fields[0]);

    /// <inheritdoc />
    public override string ToString() => string.Join(", ", _fields.Select(f => f.ToString()));
}

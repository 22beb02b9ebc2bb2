using DataPrep.Data;
using DataPrep.Encoders;
using Parquet.Schema;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>One column of a Parquet shard and where its values come from in an encoded batch.</summary>
/// <param name="Name">The Parquet column name.</param>
/// <param name="IsDouble">DOUBLE (true) or INT64 (false).</param>
/// <param name="Source">The batch column the values come from.</param>
/// <param name="Offset">The position inside a sparse (one-hot) batch column; −1 for a dense one.</param>
internal readonly record struct ParquetOutputColumn(string Name, bool IsDouble, int Source, int Offset);

/// <summary>
/// The columns of a run's Parquet shards, fixed by the first encoded batch: the label first (named as the label
/// column), then every feature with the name the encoder gave it, sparse (one-hot) features expanded into one
/// dense column per position, as label-first CSV writes them.
/// </summary>
/// <remarks>
/// Types: Int64 stays INT64, Float64 is DOUBLE, sparse positions are DOUBLE (the encoder's values), and a boolean
/// that reaches the sink is INT64 0/1 like the encoder makes it. No BOOLEAN columns: SageMaker XGBoost reads a
/// Parquet channel with <c>pyarrow.parquet.read_table(…).to_pandas().to_numpy()</c>, and a frame mixing bool with
/// numeric columns becomes an <c>object</c> array (a Python object per cell) before it is cast to float; INT64 and
/// DOUBLE together make a plain float64 array. Every column is REQUIRED: no missing value reaches the sink.
/// </remarks>
internal sealed class ParquetColumns
{
    private ParquetColumns(Schema batchSchema, IReadOnlyList<ParquetOutputColumn> columns)
    {
        BatchSchema = batchSchema;
        Columns = columns;
        Parquet = new ParquetSchema(columns.Select(c => new DataField(c.Name, c.IsDouble ? typeof(double) : typeof(long), isNullable: false)));
        Fields = Parquet.DataFields;
    }

    /// <summary>The encoded batches' schema these columns were made from (every batch of a run has it).</summary>
    public Schema BatchSchema { get; }

    /// <summary>The output columns in file order.</summary>
    public IReadOnlyList<ParquetOutputColumn> Columns { get; }

    /// <summary>The Parquet schema of every shard.</summary>
    public ParquetSchema Parquet { get; }

    /// <summary>The Parquet fields, in the order of <see cref="Columns"/>.</summary>
    public DataField[] Fields { get; }

    /// <summary>Bytes one buffered row takes: 8 per value.</summary>
    public int RowBytes => 8 * Columns.Count;

    /// <summary>The columns as bytes (a count, then each column's type and name), for the write step of a scaled-out run.</summary>
    public byte[] ToHeader()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Columns.Count);
            foreach (var c in Columns)
            {
                w.Write(c.IsDouble);
                w.Write(c.Name);
            }
        }
        return stream.ToArray();
    }

    /// <summary>The columns <see cref="ToHeader"/> wrote (without the batch schema, which the write step does not need).</summary>
    public static ParquetColumns FromHeader(byte[] header)
    {
        ArgumentNullException.ThrowIfNull(header);
        using var r = new BinaryReader(new MemoryStream(header), System.Text.Encoding.UTF8);
        int n = r.ReadInt32();
        var columns = new List<ParquetOutputColumn>(n);
        for (int c = 0; c < n; c++)
        {
            bool isDouble = r.ReadBoolean();
            columns.Add(new ParquetOutputColumn(r.ReadString(), isDouble, c, -1));
        }
        return new ParquetColumns(new Schema([]), columns);
    }

    /// <summary>Checks that a batch schema holds only what Parquet output writes (numbers, booleans, sparse numbers).</summary>
    /// <exception cref="PipelineValidationException">A column is text, a timestamp or binary.</exception>
    public static void Validate(Schema schema)
    {
        var problems = new List<string>();
        foreach (var f in schema.Fields)
        {
            if (!f.IsNumeric)
            {
                problems.Add($"Parquet output needs numeric columns, but '{f.Name}' is {f.Kind}; encode it (--encode {f.Name}=onehot|ordinal|epoch) or drop it (--drop {f.Name}).");
            }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
    }

    /// <summary>The columns of an encoded batch schema; one-hot positions are named from the run's learned vocabularies.</summary>
    /// <param name="schema">The encoded batch's schema (its sparse widths are the fitted ones).</param>
    /// <param name="encoding">The learned encoding (vocabularies), when the run has one.</param>
    /// <exception cref="PipelineValidationException">Two output columns would get the same name.</exception>
    public static ParquetColumns Create(Schema schema, EncodingRecord? encoding)
    {
        Validate(schema);
        var columns = new List<ParquetOutputColumn>();
        for (int c = 0; c < schema.Count; c++)
        {
            var f = schema[c];
            if (f.Kind != ColumnKind.Sparse)
            {
                columns.Add(new ParquetOutputColumn(f.Name, f.Kind == ColumnKind.Float64, c, -1));
                continue;
            }
            var names = SparseNames(f, encoding);
            for (int j = 0; j < f.Width; j++) columns.Add(new ParquetOutputColumn(names[j], true, c, j));
        }
        var twice = columns.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count > 0)
        {
            throw new PipelineValidationException(
                $"Parquet output would have two columns named {string.Join(", ", twice.Take(5).Select(n => $"'{n}'"))}; one-hot columns are named COLUMN=CATEGORY (and COLUMN=<unseen>), so rename the input column that clashes or drop it.");
        }
        return new ParquetColumns(schema, columns);
    }

    /// <summary>
    /// One-hot positions are <c>COLUMN=CATEGORY</c> in code order and <c>COLUMN=&lt;unseen&gt;</c> for the reserved last
    /// one; other sparse columns (LibSVM features) are <c>COLUMN[j]</c>, 0-based.
    /// </summary>
    private static string[] SparseNames(Data.Field field, EncodingRecord? encoding)
    {
        var feature = encoding?.Features.FirstOrDefault(f => f.Name == field.Name && f.Encoding == "onehot");
        if (feature?.Vocabulary is { } vocabulary && vocabulary.Count + 1 == field.Width)
        {
            return [.. vocabulary.Select(v => $"{field.Name}={v}"), $"{field.Name}=<unseen>"];
        }
        return [.. Enumerable.Range(0, field.Width).Select(j => $"{field.Name}[{j}]")];
    }
}

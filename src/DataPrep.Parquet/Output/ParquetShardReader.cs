using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Inspect;
using DataPrep.Sources;
using DataPrep.Pipeline;
using ShardRecord = DataPrep.Inspect.ShardRecord;

namespace DataPrep.Formats;

/// <summary>
/// Reads a Parquet shard back as training records, for <c>dataprep inspect</c> and the format contract tests: the first
/// column is the label (none with <see cref="InspectOptions.NoLabel"/>), the others dense features, every value as a
/// double (an INT64 beyond ±2^53 rounds, as it does for any trainer reading the channel as float64).
/// </summary>
/// <remarks>
/// The dtypes are the column types as stored: <c>int64</c> (INT64) or <c>float64</c> (DOUBLE), the features'
/// <see cref="ShardRecord.MixedDType"/> when they have both. Only INT64 and DOUBLE columns are read, as
/// <c>--format parquet</c> writes them; a file with other columns is not a training shard.
/// </remarks>
internal sealed class ParquetShardReader : IShardReader
{
    /// <summary>The dtype of INT64 columns.</summary>
    public const string Int64DType = "int64";

    /// <inheritdoc />
    public async IAsyncEnumerable<ShardRecord> ReadAsync(string path, InspectOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var source = new ParquetSource(path, new SourceOptions { Files = options.Files });
        var schema = await source.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var f in schema.Fields)
        {
            if (f.Kind is not (ColumnKind.Int64 or ColumnKind.Float64))
            {
                throw Throw.Format($"is a {f.Kind} column; expected the INT64 and DOUBLE columns of a label-first Parquet shard (as --format parquet writes them)", path, column: f.Name);
            }
        }
        int first = options.NoLabel ? 0 : 1;
        string? labelDType = first == 0 ? null : DType(schema[0].Kind);
        var kinds = schema.Fields.Skip(first).Select(f => f.Kind).Distinct().ToList();
        string dtype = kinds.Count switch
        {
            0 => RecordIO.TensorDTypes.None,
            1 => DType(kinds[0]),
            _ => ShardRecord.MixedDType,
        };
        long index = 0;
        await foreach (var batch in source.ReadAsync(0, cancellationToken).ConfigureAwait(false))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                var values = new double[schema.Count - first];
                for (int c = first; c < schema.Count; c++) values[c - first] = Value(batch.Columns[c], r);
                yield return new ShardRecord
                {
                    Index = index++,
                    DType = dtype,
                    Values = values,
                    Label = first == 0 ? null : [Value(batch.Columns[0], r)],
                    LabelDType = labelDType,
                };
            }
        }
    }

    private static string DType(ColumnKind kind) => kind == ColumnKind.Int64 ? Int64DType : RecordIO.TensorDTypes.Float64;

    private static double Value(Column column, int row) => column switch
    {
        Int64Column l => l.Values[row],
        Float64Column d => d.Values[row],
        _ => throw new InvalidOperationException($"A {column.Kind} column reached the Parquet shard reader."),
    };
}

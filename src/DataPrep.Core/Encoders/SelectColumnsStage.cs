using DataPrep.Pipeline;
using System.Runtime.CompilerServices;
using DataPrep.Data;

namespace DataPrep.Encoders;

/// <summary>Keeps the columns of <see cref="ConvertOptions.Features"/> (in that order) or all but <see cref="ConvertOptions.Drop"/>, values untouched.</summary>
public sealed class SelectColumnsStage(ConvertOptions options) : IPipelineStage
{
    private int[] _keep = [];
    private Schema? _output;

    /// <inheritdoc />
    public string Describe() => "keep columns as they are";

    /// <inheritdoc />
    public Schema Bind(Schema input)
    {
        var problems = new List<string>();
        var names = input.Fields.Select(f => f.Name).ToList();
        foreach (var n in options.Drop.Concat(options.Features))
        {
            if (input.IndexOf(n) < 0) problems.Add($"Column '{n}' is not in the input (its columns: {string.Join(", ", names)}).");
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        _keep = options.Features.Count > 0
            ? options.Features.Select(input.IndexOf).ToArray()
            : Enumerable.Range(0, input.Count).Where(i => !options.Drop.Contains(input[i].Name)).ToArray();
        _output = new Schema(_keep.Select(i => input[i]));
        return _output;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var b in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return new RecordBatch(_output!, _keep.Select(i => b.Columns[i]).ToArray(), b.RowCount, b.Rows);
        }
    }
}

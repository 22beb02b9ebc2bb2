using System.Runtime.CompilerServices;
using DataPrep.Data;

namespace DataPrep.Sources;

/// <summary>JSON Lines: one JSON object per line (placeholder being implemented).</summary>
public sealed class JsonLinesSource(string path, SourceOptions options) : IRecordSource
{
    /// <inheritdoc />
    public string Description => path;

    /// <summary>The options.</summary>
    public SourceOptions Options => options;

    /// <inheritdoc />
    public ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        yield break;
    }
}

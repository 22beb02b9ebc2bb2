namespace DataPrep.Output;

/// <summary>
/// Where a run's files go: a local folder now, an S3 prefix later. Files are created staged (invisible
/// under their final names) and published together by <see cref="CommitAsync"/>; <see cref="AbortAsync"/>
/// removes what was staged. Paths are relative, with '/' separators.
/// </summary>
public interface IOutputStore : IAsyncDisposable
{
    /// <summary>The location as the user named it.</summary>
    string Location { get; }

    /// <summary>
    /// The absolute URI a file will have once committed (<c>file:///…</c> locally, <c>s3://bucket/key</c> on S3):
    /// used for ManifestFile prefixes and augmented-manifest <c>source-ref</c>s.
    /// </summary>
    string UriOf(string relativePath);

    /// <summary>Checks the destination before any work: an earlier run or other files are refused unless overwriting.</summary>
    /// <exception cref="OutputException">The destination holds a run or other files and overwriting was not asked for.</exception>
    ValueTask PrepareAsync(bool overwrite, CancellationToken cancellationToken);

    /// <summary>Creates a staged file for writing.</summary>
    ValueTask<Stream> CreateAsync(string relativePath, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes every staged file (replacing an earlier run's data when overwriting) and then writes the
    /// run record, so a run record only ever describes complete data.
    /// </summary>
    ValueTask CommitAsync(string runRecordPath, ReadOnlyMemory<byte> runRecord, CancellationToken cancellationToken);

    /// <summary>Removes everything staged; leaves an earlier run untouched.</summary>
    ValueTask AbortAsync();
}

using DataPrep.Pipeline;

namespace DataPrep.Pipeline;

/// <summary>
/// A remote file system for inputs named by URI (<c>s3://bucket/key</c>), registered by a plug-in with
/// <see cref="Output.StoreRegistry.AddInput"/> so the core never references a cloud SDK.
/// </summary>
public interface IInputFileSystem
{
    /// <summary>
    /// The objects an input names: an object itself, every object under a prefix ending in '/', or the
    /// objects matching a pattern with * or ? in its last segment; sorted, ordinal.
    /// </summary>
    /// <exception cref="PipelineValidationException">Nothing matches, or the location cannot be read.</exception>
    IReadOnlyList<string> Expand(string uri);

    /// <summary>Whether an object exists at exactly this key (a prefix with objects under it is not one).</summary>
    /// <exception cref="PipelineValidationException">The location cannot be read (access denied, no connection).</exception>
    bool Exists(string uri);

    /// <summary>Opens an object for reading: seekable (ranged reads), so Parquet reads only its footer and row groups.</summary>
    Stream Open(string uri);

    /// <summary>Identifies an object's content for the run record (size, last-modified, ETag).</summary>
    InputFingerprint Fingerprint(string uri);

    /// <summary>An object's size in bytes. The default asks for its fingerprint; a store that already knows the size (S3: from the listing or an earlier HEAD of this run) answers without a request.</summary>
    long SizeOf(string uri) => Fingerprint(uri).Bytes;

    /// <summary>
    /// Every object under a prefix ending in '/' (as <see cref="Expand"/> names them, sorted, ordinal) with its
    /// fingerprint. The default asks for each object's fingerprint; a store whose listing carries sizes and versions
    /// (S3: size, ETag, last-modified) answers from the listing alone.
    /// </summary>
    IReadOnlyList<InputFingerprint> ListFingerprints(string prefixUri) => [.. Expand(prefixUri).Select(Fingerprint)];
}

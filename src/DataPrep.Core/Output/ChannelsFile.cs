using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>One SageMaker training channel of a run, as written to <c>_dataprep/channels.json</c>.</summary>
/// <param name="Name">The channel name (train, validation, test, data, fold-N).</param>
/// <param name="S3Uri">What the channel's S3DataSource points at: the ManifestFile by default (the atomic switch).</param>
/// <param name="S3DataType"><c>ManifestFile</c>, <c>S3Prefix</c> or <c>AugmentedManifestFile</c>.</param>
/// <param name="Prefix">The folder holding the channel's data objects.</param>
/// <param name="ContentType">The channel's content type.</param>
/// <param name="Distribution"><c>ShardedByS3Key</c> or <c>FullyReplicated</c>.</param>
/// <param name="InputMode"><c>File</c>, <c>Pipe</c> or <c>FastFile</c>.</param>
/// <param name="CompressionType"><c>None</c> or <c>Gzip</c>.</param>
/// <param name="RecordWrapperType"><c>None</c> or <c>RecordIO</c>.</param>
/// <param name="AttributeNames">Augmented manifests: the attributes passed on; null otherwise.</param>
/// <param name="Shards">Data objects in the channel.</param>
/// <param name="Rows">Records in the channel.</param>
/// <param name="Bytes">Bytes of the channel's data objects (to size a File-mode EBS volume).</param>
public sealed record ChannelInfo(string Name, string S3Uri, string S3DataType, string Prefix, string? ContentType, string Distribution,
    string InputMode, string CompressionType, string RecordWrapperType, IReadOnlyList<string>? AttributeNames, int Shards, long Rows, long Bytes);

/// <summary>
/// Per-split SageMaker ManifestFiles (<c>_dataprep/&lt;split&gt;.manifest</c>) and <c>_dataprep/channels.json</c>
/// (what a training job needs per channel), built from the <see cref="RunReport"/>. Every sink writes them
/// just before the run record, so they exist only for committed runs. Also prints the same as a
/// ready-to-paste SageMaker Python SDK / boto3 snippet.
/// </summary>
public static class ChannelsFile
{
    /// <summary>The channels of a run whose output root has the URI <paramref name="rootUri"/> (ends with '/').</summary>
    public static IReadOnlyList<ChannelInfo> Build(RunReport report, string rootUri)
    {
        if (!rootUri.EndsWith('/')) rootUri += "/";
        var hints = report.Channel;
        var result = new List<ChannelInfo>();
        foreach (var (name, split) in report.Splits.OrderBy(kv => kv.Key, RunLayout.ChannelOrder))
        {
            if (split.Shards.Count == 0) continue;
            string prefix = rootUri + name + "/";
            string uri = hints.S3DataType switch
            {
                "S3Prefix" => prefix,
                // An augmented manifest is itself the channel's data source: point at the split's JSON Lines object.
                "AugmentedManifestFile" => rootUri + split.Shards[0].Path,
                _ => rootUri + RunLayout.ManifestPath(name),
            };
            bool gzip = split.Shards.All(s => s.Path.EndsWith(".gz", StringComparison.Ordinal));
            result.Add(new ChannelInfo(name, uri, hints.S3DataType, prefix, split.Format?.ContentType ?? report.ContentType, hints.Distribution,
                hints.InputMode ?? "File", gzip ? "Gzip" : "None", hints.RecordWrapperType ?? "None", hints.AttributeNames,
                split.Shards.Count, split.Rows, split.Bytes));
        }
        return result;
    }

    /// <summary>channels.json for the channels.</summary>
    public static string Json(IReadOnlyList<ChannelInfo> channels)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("channels");
            foreach (var c in channels)
            {
                w.WriteStartObject(c.Name);
                w.WriteString("s3Uri", c.S3Uri);
                w.WriteString("s3DataType", c.S3DataType);
                w.WriteString("prefix", c.Prefix);
                if (c.ContentType is not null) w.WriteString("contentType", c.ContentType);
                w.WriteString("distribution", c.Distribution);
                w.WriteString("inputMode", c.InputMode);
                w.WriteString("compressionType", c.CompressionType);
                w.WriteString("recordWrapperType", c.RecordWrapperType);
                if (c.AttributeNames is { } names)
                {
                    w.WriteStartArray("attributeNames");
                    foreach (var n in names) w.WriteStringValue(n);
                    w.WriteEndArray();
                }
                w.WriteNumber("shards", c.Shards);
                w.WriteNumber("rows", c.Rows);
                w.WriteNumber("bytes", c.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Writes every split's ManifestFile and channels.json into the store (before the run record).</summary>
    public static async Task WriteAsync(IOutputStore store, RunReport report, CancellationToken cancellationToken)
    {
        string root = store.UriOf("");
        if (!root.EndsWith('/')) root += "/";
        // Augmented manifests are their own channel source (no ManifestFile, which would list only the .jsonl).
        if (report.Channel.S3DataType != "AugmentedManifestFile")
        {
            foreach (var (name, split) in report.Splits)
            {
                if (split.Shards.Count == 0) continue;
                string manifest = report.Channel.ManifestRelativeToSplit
                    ? RunLayout.Manifest(root + name + "/", split.Shards.Select(s => s.Path.StartsWith(name + "/", StringComparison.Ordinal) ? s.Path[(name.Length + 1)..] : s.Path))
                    : RunLayout.Manifest(root, split.Shards.Select(s => s.Path));
                await WriteTextAsync(store, RunLayout.ManifestPath(name), manifest, cancellationToken).ConfigureAwait(false);
            }
        }
        await WriteTextAsync(store, RunLayout.ChannelsPath, Json(Build(report, root)), cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteTextAsync(IOutputStore store, string path, string text, CancellationToken cancellationToken)
    {
        await using var stream = await store.CreateAsync(path, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A ready-to-paste SageMaker Python SDK (TrainingInput) and boto3 (InputDataConfig) snippet.</summary>
    public static string Snippet(IReadOnlyList<ChannelInfo> channels)
    {
        var py = new StringBuilder("# SageMaker Python SDK\nfrom sagemaker.inputs import TrainingInput\ninputs = {\n");
        foreach (var c in channels)
        {
            py.Append(CultureInfo.InvariantCulture, $"    \"{c.Name}\": TrainingInput(\"{c.S3Uri}\", s3_data_type=\"{c.S3DataType}\", distribution=\"{c.Distribution}\"");
            if (c.ContentType is not null) py.Append(CultureInfo.InvariantCulture, $", content_type=\"{c.ContentType}\"");
            if (c.CompressionType != "None") py.Append(CultureInfo.InvariantCulture, $", compression=\"{c.CompressionType}\"");
            if (c.RecordWrapperType != "None") py.Append(CultureInfo.InvariantCulture, $", record_wrapping=\"{c.RecordWrapperType}\"");
            if (c.AttributeNames is { } names) py.Append(CultureInfo.InvariantCulture, $", attribute_names={JsonSerializer.Serialize(names, SnippetInlineJson.Default.IReadOnlyListString)}");
            py.Append(CultureInfo.InvariantCulture, $", input_mode=\"{c.InputMode}\"),  # {c.Shards} objects, {c.Bytes:N0} bytes\n");
        }
        py.Append("}\n# estimator.fit(inputs)\n\n# boto3 create_training_job(InputDataConfig=...)\n");
        var config = channels.Select(c => new InputChannel(c.Name,
            new InputDataSource(new InputS3DataSource(c.S3DataType, c.S3Uri, c.Distribution, c.AttributeNames)),
            c.ContentType, c.CompressionType, c.RecordWrapperType, c.InputMode)).ToList();
        py.Append("InputDataConfig = ").Append(JsonSerializer.Serialize(config, SnippetJson.Default.ListInputChannel)).Append('\n');
        return py.ToString();
    }
}

// boto3's InputDataConfig entries, in the order and spelling of the CreateTrainingJob API; null members are left out.
internal sealed record InputChannel(string ChannelName, InputDataSource DataSource, string? ContentType, string CompressionType,
    string RecordWrapperType, string InputMode);

internal sealed record InputDataSource(InputS3DataSource S3DataSource);

internal sealed record InputS3DataSource(string S3DataType, string S3Uri, string S3DataDistributionType, IReadOnlyList<string>? AttributeNames);

/// <summary>Source-generated JSON of the snippet (no reflection: the CLI is compiled with Native AOT).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<InputChannel>))]
internal sealed partial class SnippetJson : JsonSerializerContext;

/// <summary>Source-generated JSON on one line (a Python list literal in the snippet).</summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class SnippetInlineJson : JsonSerializerContext;

/// <summary>The warnings of <c>--instances N</c>.</summary>
public static class InstanceWarnings
{
    /// <summary>Warns when a split has fewer shards than instances, or the data must be fully replicated.</summary>
    public static void Add(RunReport report, int instances)
    {
        if (instances <= 1) return;
        if (report.Channel.Distribution == "FullyReplicated")
        {
            report.Warnings.Add($"--instances {instances}: this format needs S3DataDistributionType FullyReplicated, so every instance reads all of the data; shard counts do not split work between instances.");
            return;
        }
        foreach (var (name, split) in report.Splits)
        {
            if (split.Shards.Count > 0 && split.Shards.Count < instances)
            {
                report.Warnings.Add($"--instances {instances}: split '{name}' has only {split.Shards.Count} shard(s) ({split.Rows:N0} rows), so with ShardedByS3Key {instances - split.Shards.Count} instance(s) would get no data; use FullyReplicated for it or fewer instances.");
            }
        }
    }
}

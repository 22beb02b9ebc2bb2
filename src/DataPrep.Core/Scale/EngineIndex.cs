using System.Text.Json;

namespace DataPrep.Scale;

/// <summary>
/// The task index an engine gives a worker when <c>--worker</c> is not passed: AWS Batch array jobs set
/// <c>AWS_BATCH_JOB_ARRAY_INDEX</c>, Kubernetes Indexed Jobs <c>JOB_COMPLETION_INDEX</c>, and a SageMaker Processing
/// job's instance is the position of <c>current_host</c> in the sorted <c>hosts</c> of
/// <c>/opt/ml/config/resourceconfig.json</c>.
/// </summary>
public static class EngineIndex
{
    /// <summary>AWS Batch: the index of a child of an array job.</summary>
    public const string BatchVariable = "AWS_BATCH_JOB_ARRAY_INDEX";

    /// <summary>Kubernetes: the completion index of a pod of an Indexed Job.</summary>
    public const string KubernetesVariable = "JOB_COMPLETION_INDEX";

    /// <summary>SageMaker Processing: the instance's resource configuration.</summary>
    public const string SageMakerResourceConfig = "/opt/ml/config/resourceconfig.json";

    /// <summary>The index and where it came from, or null when no engine gives one.</summary>
    /// <param name="variable">Reads an environment variable (normally <see cref="Environment.GetEnvironmentVariable(string)"/>).</param>
    /// <param name="resourceConfig">The SageMaker resource configuration file to look at.</param>
    /// <exception cref="PipelineValidationException">An engine's value is not a valid index.</exception>
    public static (int Index, string Source)? Find(Func<string, string?> variable, string resourceConfig = SageMakerResourceConfig)
    {
        ArgumentNullException.ThrowIfNull(variable);
        foreach (var name in new[] { BatchVariable, KubernetesVariable })
        {
            if (variable(name) is not { Length: > 0 } text) continue;
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
            {
                throw new PipelineValidationException($"{name}={text} is not a task index (expected 0, 1, 2, …).");
            }
            return (index, name);
        }
        if (!File.Exists(resourceConfig)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(resourceConfig));
            var current = doc.RootElement.GetProperty("current_host").GetString();
            var hosts = doc.RootElement.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!).Order(StringComparer.Ordinal).ToList();
            int at = hosts.IndexOf(current!);
            if (at < 0) throw new PipelineValidationException($"{resourceConfig}: current_host '{current}' is not among its hosts ({string.Join(", ", hosts)}).");
            return (at, resourceConfig);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new PipelineValidationException($"{resourceConfig} is not a SageMaker resource configuration ({e.Message}); expected {{\"current_host\": \"algo-1\", \"hosts\": [\"algo-1\", …]}}.");
        }
    }
}

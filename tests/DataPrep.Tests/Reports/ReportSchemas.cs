using System.Text.Json;
using Json.Schema;

namespace DataPrep.Tests.Reports;

/// <summary>The JSON Schemas of the --json outputs (schemas/*.schema.json), evaluated with JsonSchema.Net.</summary>
public static class ReportSchemas
{
    // Built once: a schema registers its $id with the library's registry.
    private static readonly Lazy<JsonSchema> s_run = new(() => Load("run-report.schema.json"));
    private static readonly Lazy<JsonSchema> s_audit = new(() => Load("audit-report.schema.json"));

    public static JsonSchema Run => s_run.Value;

    public static JsonSchema Audit => s_audit.Value;

    private static JsonSchema Load(string name) => JsonSchema.FromText(File.ReadAllText(Path.Combine(Paths.Repo, "schemas", name)));

    /// <summary>The schema's verdict on <paramref name="json"/>, with every error when it is invalid.</summary>
    public static (bool Valid, string Errors) Evaluate(JsonSchema schema, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return (result.IsValid, result.IsValid ? "" : JsonSerializer.Serialize(result));
    }

    /// <summary>Asserts that <paramref name="json"/> is valid against <paramref name="schema"/>, showing the errors otherwise.</summary>
    public static void AssertValid(JsonSchema schema, string json)
    {
        var (valid, errors) = Evaluate(schema, json);
        Assert.True(valid, $"{errors}\n--- document ---\n{(json.Length > 4000 ? json[..4000] + "…" : json)}");
    }
}

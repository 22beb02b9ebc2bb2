using System.Globalization;
using DataPrep.Fuzz;
using DataPrep.Pipeline;

// dataprep-fuzz [--reader all|csv,jsonl,…] [--cases 100000] [--seed 1] [--first 0] [--timeout 10] [--memory 64MB]
//               [--findings DIR] [--repo DIR]
// dataprep-fuzz --reader R --replay FILE          reads one saved input and prints the outcome with inner exceptions
// dataprep-fuzz --reader R --first N --cases K --emit DIR   writes the inputs of cases N…N+K-1
// Exit 0: no finding; 1: findings (saved under --findings); 2: bad arguments.
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"error: unexpected argument '{args[i]}'; expected --name value pairs (--reader, --cases, --seed, --first, --timeout, --memory, --findings, --repo, --replay, --emit).");
        return 2;
    }
    options[args[i][2..]] = args[++i];
}
string Get(string name, string fallback) => options.TryGetValue(name, out var v) ? v : fallback;

string repo = Get("repo", FindRepo());
var readers = Get("reader", "all") is "all" ? FuzzTargets.Names : Get("reader", "all").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var unknown = readers.Where(r => !FuzzTargets.Names.Contains(r)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"error: --reader {string.Join(",", unknown)}: expected all or some of {string.Join(", ", FuzzTargets.Names)}.");
    return 2;
}
var settings = new FuzzSettings(
    long.Parse(Get("cases", "100000"), CultureInfo.InvariantCulture),
    ulong.Parse(Get("seed", "1"), CultureInfo.InvariantCulture),
    long.Parse(Get("first", "0"), CultureInfo.InvariantCulture),
    TimeSpan.FromSeconds(double.Parse(Get("timeout", "10"), CultureInfo.InvariantCulture)),
    MemoryOptions.ParseSize(Get("memory", "64MB")));
string findings = Get("findings", Path.Combine(repo, "artifacts", "fuzz-findings"));

if (options.TryGetValue("emit", out var emit))
{
    // Writes the inputs of cases [first, first + cases) without reading them (to keep one as a test fixture).
    var target = FuzzTargets.Create(readers[0], repo, settings.Budget);
    var mutator = new Mutator(target.Seeds, target.Tokens, target.Gzip);
    Directory.CreateDirectory(emit);
    for (long i = settings.First; i < settings.First + settings.Cases; i++)
    {
        var (bytes, ops) = mutator.Mutate(CaseRandom.For(settings.Seed, target.Name, i));
        File.WriteAllBytes(Path.Combine(emit, $"{target.Name}-seed{settings.Seed}-case{i}{target.Extension}"), bytes);
        Console.WriteLine($"case {i}: {ops}");
    }
    return 0;
}

if (options.TryGetValue("replay", out var replay))
{
    // Reads one saved input (e.g. a finding's .bin) with one reader and prints the outcome with every inner exception.
    var target = FuzzTargets.Create(readers[0], repo, settings.Budget);
    var dir = Directory.CreateTempSubdirectory("dataprep-fuzz-replay-");
    try
    {
        var path = Path.Combine(dir.FullName, "case" + target.Extension);
        File.Copy(replay, path);
        var (outcome, detail, elapsed, allocated) = FuzzRunner.RunCase(target, path, settings.First, settings);
        Console.WriteLine($"{outcome} in {elapsed.TotalMilliseconds:F0} ms, {allocated:N0} bytes allocated\n{detail}");
        try { target.Run(path, settings.First, CancellationToken.None).GetAwaiter().GetResult(); }
        catch (Exception e) { Console.WriteLine(FuzzRunner.Describe(e)); }
        return outcome is FuzzOutcome.Ok or FuzzOutcome.OwnError ? 0 : 1;
    }
    finally
    {
        dir.Delete(recursive: true);
    }
}

int code = 0;
foreach (var name in readers)
{
    var target = FuzzTargets.Create(name, repo, settings.Budget);
    Console.WriteLine($"{name}: {target.Seeds.Count} seeds ({target.Seeds.Sum(s => (long)s.Length):N0} bytes), cases {settings.First:N0}…{settings.First + settings.Cases - 1:N0}, seed {settings.Seed}, timeout {settings.EffectiveTimeout.TotalSeconds:F0} s, budget {settings.Budget:N0} bytes");
    var result = FuzzRunner.Run(target, settings, r => Console.WriteLine($"  … {r.Cases:N0} cases, {r.Findings.Count} findings"));
    Console.WriteLine(result);
    foreach (var f in result.Findings)
    {
        var stem = FuzzRunner.Save(f, settings.Seed, findings);
        Console.WriteLine($"  FINDING {f.Outcome} case {f.Case} ({f.Operations}) → {stem}.bin\n    {f.Detail.Split('\n')[0]}");
        code = 1;
    }
}
return code;

static string FindRepo()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DataPrep.sln"))) return dir.FullName;
        }
    }
    throw new InvalidOperationException("DataPrep.sln not found above the current folder; pass --repo DIR.");
}

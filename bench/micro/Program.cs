using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Running;
using DataPrep.Micro;

// bash bench/micro.sh makes the input and runs this; arguments go to BenchmarkDotNet (--filter, --job, --inProcess, …).
var (rows, bytes) = MicroInput.Shape(MicroInput.PathFromEnvironment());
var config = DefaultConfig.Instance
    .AddColumn(new PerRowColumn(rows), new ThroughputColumn(bytes))
    .WithOptions(ConfigOptions.JoinSummary)
    .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared));
var summaries = BenchmarkSwitcher.FromAssembly(typeof(MicroInput).Assembly).Run(args, config);
// Non-zero when a benchmark failed (threw, or gave no result), so the script's caller sees it.
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;

using DataPrep.Cli;

// The default registry only stores delegates for s3://: the AWS SDK loads when an s3:// location is actually used.
using var signals = new CliSignals();
int code = signals.ExitCode(await DataPrepCli.RunAsync(args, cancellationToken: signals.Token));
if (Environment.GetEnvironmentVariable("DATAPREP_TRACE_ASSEMBLIES") == "1")
{
    foreach (var a in AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Order(StringComparer.Ordinal)) Console.Error.WriteLine($"assembly: {a}");
}
return code;

using System.Diagnostics;

namespace DataPrep.Pipeline;

/// <summary>
/// The stage timeline printed to stderr when <c>DATAPREP_TRACE=1</c> (for profiling): seconds since the process
/// started, and how many methods the JIT has compiled so far and in how long (code ReadyToRun does not cover).
/// </summary>
internal static class RunTrace
{
    /// <summary>Whether tracing is on.</summary>
    public static bool On { get; } = Environment.GetEnvironmentVariable("DATAPREP_TRACE") == "1";

    /// <summary>Seconds since the process started.</summary>
    public static double Seconds => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;

    /// <summary>Prints one timeline line.</summary>
    public static void Line(string what)
    {
        if (!On) return;
        Console.Error.WriteLine($"trace: {what} at {Seconds:0.000} s (JIT so far: {System.Runtime.JitInfo.GetCompiledMethodCount()} methods, {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:0.000} s)");
    }
}

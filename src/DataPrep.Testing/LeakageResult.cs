using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Testing;

/// <summary>
/// The outcome of a <see cref="Leakage.Check"/>: passed, or the violation in words. Converts to
/// <see langword="bool"/>, so it can be returned from an FsCheck property or combined with <c>&amp;&amp;</c>;
/// <see cref="ToProperty"/> keeps the message as the property's label.
/// </summary>
/// <param name="Check">The check's name (<see cref="Leakage.PartitionCheck"/>, …).</param>
/// <param name="Violation">What is wrong, naming the first offending keys and rows; <see langword="null"/> when the check passed.</param>
public readonly record struct LeakageResult(string Check, string? Violation)
{
    /// <summary>Whether the check passed.</summary>
    public bool Passed => Violation is null;

    /// <summary>Whether the check passed.</summary>
    public static implicit operator bool(LeakageResult result) => result.Passed;

    /// <summary>Whether the check passed (for languages without implicit conversions).</summary>
    public bool ToBoolean() => Passed;

    /// <summary>An FsCheck property that fails with the violation as its label.</summary>
    public Property ToProperty() => Passed.Label(Violation ?? Check);

    /// <summary>Throws if the check failed.</summary>
    /// <exception cref="LeakageException">The check found leakage; the message says where.</exception>
    public void ThrowIfLeaked()
    {
        if (Violation is not null) throw new LeakageException(Check, Violation);
    }

    /// <inheritdoc />
    public override string ToString() => Violation ?? $"{Check}: no leakage";
}

/// <summary>Leakage found by a <see cref="Leakage"/> assertion. The message names the first offending keys and rows.</summary>
public sealed class LeakageException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="check">The check that failed (<see cref="Leakage.PartitionCheck"/>, …).</param>
    /// <param name="message">What is wrong.</param>
    public LeakageException(string check, string message) : base(message) => Check = check;

    /// <summary>The check that failed.</summary>
    public string Check { get; }
}

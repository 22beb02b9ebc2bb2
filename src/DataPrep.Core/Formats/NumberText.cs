using System.Globalization;
using CsvHelper;

namespace DataPrep.Formats;

/// <summary>
/// How the label-first CSV writer prints numbers: through CsvHelper's public <see cref="CsvWriter"/>, whose
/// <c>WriteField&lt;double&gt;</c> writes exactly the bytes of <c>double.TryFormat(…, CultureInfo.InvariantCulture)</c>
/// (shortest round-trip; its Dragonbox formatter) and integers as invariant <c>long.ToString()</c>.
/// </summary>
/// <remarks>
/// The writer is about 4× faster per double than the BCL (≈ 50 vs ≈ 215 ns); a job whose floats all need formatting
/// runs about 1.4× longer on the BCL (docs/decisions.md, "NumberText without reflection"). Records are numbers only,
/// so they are written as they are (<see cref="CsvMode.NoEscape"/>): fields joined by ',' and ended by '\n'.
/// </remarks>
internal static class NumberText
{
    /// <summary>Records of numbers, written as they are: ',' between fields, '\n' after each record, invariant culture.</summary>
    public static CsvWriterOptions CsvOptions { get; } = CsvWriterOptions.Default with
    {
        Mode = CsvMode.NoEscape,
        NewLine = "\n",
        ValidateFieldCount = false,
        FormatProvider = CultureInfo.InvariantCulture,
    };

    /// <summary>A writer of number records into <paramref name="destination"/>, which stays open when the writer is disposed.</summary>
    public static CsvWriter CreateWriter(Stream destination) => CsvWriter.Create(destination, CsvOptions, leaveOpen: true);
}

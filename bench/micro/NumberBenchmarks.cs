using System.Globalization;
using BenchmarkDotNet.Attributes;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Sources;

namespace DataPrep.Micro;

/// <summary>
/// Float text ↔ double for every feature value of the input (50 a row): the parsers the CSV source uses, and the
/// formatter of label-first CSV output, with the BCL's formatter as the reference.
/// </summary>
[MemoryDiagnoser]
public class NumberBenchmarks
{
    private MicroInput _input = null!;
    private MemoryStream _output = null!;
    private byte[] _bclBuffer = [];

    /// <summary>The input CSV; null: the one <see cref="MicroInput.EnvironmentVariable"/> names.</summary>
    public string? InputPath { get; set; }

    /// <summary>The bytes the last format benchmark wrote (records of 50 numbers, ',' between, '\n' after).</summary>
    public ReadOnlyMemory<byte> LastOutput { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = MicroInput.Load(InputPath ?? MicroInput.PathFromEnvironment());
        _output = new MemoryStream(_input.FloatText.Length * 2);
        _bclBuffer = new byte[_input.FloatText.Length * 2];
    }

    /// <summary>
    /// CsvSource's path for a W1 number: <see cref="CanonicalNumber.TryParseCopyableDouble"/> (parse, and check that the
    /// text can be copied to the output as it is), and the general parser for the few it refuses (such as 0.0000388212,
    /// which is written 3.88212E-05). Returns the sum of the values.
    /// </summary>
    [Benchmark]
    public double ParseCopyable()
    {
        var text = _input.FloatText;
        var ends = _input.FloatEnds;
        double sum = 0;
        int start = 0;
        for (int i = 0; i < ends.Length; i++)
        {
            var field = text.AsSpan(start, ends[i] - start);
            if (!CanonicalNumber.TryParseCopyableDouble(field, out double v, out _) && !ValueParser.TryParseDouble(field, out v)) v = double.NaN;
            sum += v;
            start = ends[i];
        }
        return sum;
    }

    /// <summary><see cref="ValueParser.TryParseDouble"/>: the general parser (other sources, numbers that are not copyable). Returns the sum.</summary>
    [Benchmark]
    public double ParseValueParser()
    {
        var text = _input.FloatText;
        var ends = _input.FloatEnds;
        double sum = 0;
        int start = 0;
        for (int i = 0; i < ends.Length; i++)
        {
            if (!ValueParser.TryParseDouble(text.AsSpan(start, ends[i] - start), out double v)) v = double.NaN;
            sum += v;
            start = ends[i];
        }
        return sum;
    }

    /// <summary>
    /// <see cref="NumberText"/>'s writer (CsvHelper's shortest round-trip formatter), as label-first CSV output formats
    /// a row that kept no text: 50 doubles a record. Returns the bytes written.
    /// </summary>
    [Benchmark]
    public long FormatNumberText()
    {
        var floats = _input.Floats;
        _output.SetLength(0);
        using (var writer = NumberText.CreateWriter(_output))
        {
            for (int i = 0; i < floats.Length; i++)
            {
                writer.WriteField(floats[i]);
                if (i % 50 == 49) writer.EndRecord();
            }
        }
        LastOutput = _output.GetBuffer().AsMemory(0, (int)_output.Length);
        return _output.Length;
    }

    /// <summary>The BCL's <c>double.TryFormat</c> to UTF-8 (shortest round-trip, invariant): the reference NumberText is measured against.</summary>
    [Benchmark]
    public long FormatBcl()
    {
        var floats = _input.Floats;
        var buffer = _bclBuffer;
        int at = 0;
        for (int i = 0; i < floats.Length; i++)
        {
            floats[i].TryFormat(buffer.AsSpan(at), out int n, default, CultureInfo.InvariantCulture);
            at += n;
            buffer[at++] = i % 50 == 49 ? (byte)'\n' : (byte)',';
        }
        LastOutput = buffer.AsMemory(0, at);
        return at;
    }
}

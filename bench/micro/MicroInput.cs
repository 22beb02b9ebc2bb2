using System.Text;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Micro;

/// <summary>
/// The benchmarks' input: a W1-shaped CSV (label 0..9, f0..f49 floats) written by bench/gen-numeric.mjs, named by
/// <see cref="EnvironmentVariable"/> (bench/micro.sh sets it), read once per benchmark class in its global setup.
/// </summary>
/// <remarks>
/// Every benchmark's operation is the whole file: all its rows scanned, parsed, formatted, encoded, shuffled or decoded,
/// so ns/op, ns/row and the file's CSV MB/s compare across stages and with the end-to-end runs of bench/run.sh.
/// </remarks>
public sealed class MicroInput
{
    /// <summary>Names the input CSV; set by bench/micro.sh (and by the tests, to their own small file).</summary>
    public const string EnvironmentVariable = "DATAPREP_MICRO_INPUT";

    /// <summary>The rows bench/micro.sh generates: one batch of the CSV source's default size (65,536 rows, about 29.7 MB).</summary>
    public const int DefaultRows = 65_536;

    private MicroInput(string path, byte[] bytes, RecordBatch batch, byte[] floatText, int[] floatEnds, double[] floats)
    {
        Path = path;
        Bytes = bytes;
        Batch = batch;
        FloatText = floatText;
        FloatEnds = floatEnds;
        Floats = floats;
    }

    /// <summary>The CSV file.</summary>
    public string Path { get; }

    /// <summary>The whole file.</summary>
    public byte[] Bytes { get; }

    /// <summary>The file as the pipeline reads it for label-first CSV output: one batch, each row's kept text attached.</summary>
    public RecordBatch Batch { get; }

    /// <summary>The same batch without kept text, so every number must be formatted.</summary>
    public RecordBatch BatchWithoutText => new(Batch.Schema, Batch.Columns, Batch.RowCount, Batch.Rows);

    /// <summary>The feature fields' text, one after another (no separators); field i ends at <see cref="FloatEnds"/>[i].</summary>
    public byte[] FloatText { get; }

    /// <summary>Where each feature field of <see cref="FloatText"/> ends.</summary>
    public int[] FloatEnds { get; }

    /// <summary>The feature values, row by row, as <see cref="double.Parse(string)"/> reads them.</summary>
    public double[] Floats { get; }

    /// <summary>The file named by <see cref="EnvironmentVariable"/>.</summary>
    /// <exception cref="InvalidOperationException">The variable is not set or the file does not exist.</exception>
    public static string PathFromEnvironment()
    {
        string? path = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable} must name a CSV written by bench/gen-numeric.mjs (found '{path}'); run the benchmarks with bash bench/micro.sh, which makes one.");
        }
        return path;
    }

    /// <summary>Reads the file named by <see cref="EnvironmentVariable"/>.</summary>
    public static MicroInput Load() => Load(PathFromEnvironment());

    /// <summary>Reads <paramref name="path"/>: its bytes, its batch (through <see cref="CsvSource"/>) and its float fields.</summary>
    public static MicroInput Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var batch = ReadBatch(path);
        var text = new MemoryStream();
        var ends = new List<int>();
        var floats = new List<double>();
        using (var reader = CreateReader(new MemoryStream(bytes)))
        {
            reader.ReadHeader();
            while (reader.Read())
            {
                for (int c = 1; c < reader.FieldCount; c++)
                {
                    var span = reader.GetSpan(c);
                    text.Write(span);
                    ends.Add((int)text.Length);
                    floats.Add(double.Parse(Encoding.ASCII.GetString(span), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        return new MicroInput(path, bytes, batch, text.ToArray(), [.. ends], [.. floats]);
    }

    /// <summary>
    /// The rows of <paramref name="path"/> in one batch, read as convert reads them for CSV output (kept text on), with
    /// the batch size set to the file's rows (the column buffers are allocated at the batch size).
    /// </summary>
    public static RecordBatch ReadBatch(string path, int threads = 1)
    {
        int rows = (int)Math.Max(1, Shape(path).Rows);
        var source = new CsvSource(path, new SourceOptions { Threads = threads, KeepRawRecords = true, BatchRows = rows });
        RecordBatch? batch = null;
        var reading = source.ReadAsync(0).GetAsyncEnumerator();
        try
        {
            while (reading.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                if (batch is not null) throw new InvalidOperationException($"{path}: expected one batch.");
                batch = reading.Current;
            }
        }
        finally
        {
            reading.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return batch ?? throw new InvalidOperationException($"{path}: no rows.");
    }

    /// <summary>A CsvHelper reader with the options <see cref="CsvSource"/> gives its own (comma, '"', header, line numbers).</summary>
    public static CsvReader CreateReader(Stream stream) => CsvReader.Create(stream, CsvReaderOptions.Default with
    {
        Separator = ',',
        Quote = '"',
        HasHeader = true,
        MalformedData = CsvMalformedDataHandling.Throw,
        FieldCountMismatch = CsvFieldCountHandling.Allow,
        TrackLineNumbers = true,
        DetectSeparatorHint = false,
    }, leaveOpen: false);

    /// <summary>Rows and bytes of a CSV (data lines: lines after the header), for the ns/row and MB/s columns.</summary>
    public static (long Rows, long Bytes) Shape(string path)
    {
        long lines = 0;
        var buffer = new byte[1 << 16];
        using var stream = File.OpenRead(path);
        int n;
        while ((n = stream.Read(buffer)) > 0) lines += buffer.AsSpan(0, n).Count((byte)'\n');
        return (Math.Max(0, lines - 1), stream.Length);
    }
}

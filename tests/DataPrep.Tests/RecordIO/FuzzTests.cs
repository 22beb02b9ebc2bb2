using System.Buffers.Binary;
using System.Diagnostics;
using DataPrep.Data;
using DataPrep.Inspect;
using DataPrep.RecordIO;
using DataPrep.Pipeline;

namespace DataPrep.Tests.RecordIO;

/// <summary>
/// Corrupted RecordIO-protobuf files (flipped bytes, truncations, huge lengths, stray magic words) either decode
/// or fail with a <see cref="DataFormatException"/>: never another exception, never a hang, never a huge allocation.
/// </summary>
public class FuzzTests
{
    private const int Seed = 20240611;

    private static readonly float Magic32 = BitConverter.Int32BitsToSingle(unchecked((int)RecordIOFraming.Magic));

    /// <summary>Valid files to corrupt: dense, sparse with uid/metadata, escaped (payloads in parts), float64/int32.</summary>
    private static readonly byte[][] Seeds = BuildSeeds();

    private static byte[][] BuildSeeds()
    {
        byte[] Encode(RecordBatch batch, bool hasLabel, RecordIOOptions options)
        {
            var chunk = new RecordIOProtobufFormat(hasLabel, options).Format(batch, 0, batch.RowCount);
            return chunk.Data.AsSpan(0, chunk.Length).ToArray();
        }

        RecordBatch Dense(double[][] rows, double[] labels)
        {
            int n = rows.Length, width = rows[0].Length;
            var fields = new List<Field> { new("y", ColumnKind.Float64) };
            var cols = new List<Column> { new Float64Column(labels) };
            for (int c = 0; c < width; c++)
            {
                fields.Add(new Field($"f{c}", ColumnKind.Float64));
                cols.Add(new Float64Column(rows.Select(r => r[c]).ToArray()));
            }
            var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
            return new RecordBatch(new Schema(fields), cols, n, new RowInfo(ids, new int[n], ids));
        }

        var random = new Random(Seed);
        double[][] Rows(int n, int width, double zeroShare) => Enumerable.Range(0, n)
            .Select(_ => Enumerable.Range(0, width).Select(_ => random.NextDouble() < zeroShare ? 0 : Math.Round(random.NextDouble() * 200 - 100, 2)).ToArray())
            .ToArray();
        double[] Labels(int n) => Enumerable.Range(0, n).Select(i => (double)(i % 3)).ToArray();

        var dense = Encode(Dense(Rows(6, 5, 0.1), Labels(6)), true, new RecordIOOptions());
        var sparse = Encode(Dense(Rows(5, 30, 0.8), Labels(5)), true, new RecordIOOptions(TensorType.Float64, TensorType.Int32, Sparse: true, Uid: true, Metadata: true));
        var magicRows = Rows(5, 4, 0.0);
        foreach (var row in magicRows) row[random.Next(4)] = Magic32;
        magicRows[0] = [Magic32, Magic32, 1, Magic32];
        var escaped = Encode(Dense(magicRows, Labels(5)), true, new RecordIOOptions(Escape: true));
        var ints = Encode(Dense(Rows(4, 6, 0.3).Select(r => r.Select(v => Math.Round(v)).ToArray()).ToArray(), Labels(4)), true, new RecordIOOptions(TensorType.Int32, TensorType.Float64));
        return [dense, sparse, escaped, ints];
    }

    [Fact]
    public void The_seed_files_are_valid_and_one_is_escaped()
    {
        foreach (var seed in Seeds) Assert.NotEmpty(ReadAndDecode(seed, seekable: true));
        Assert.Contains(Seeds, s => HasParts(s));
    }

    private static bool HasParts(byte[] data)
    {
        for (int at = 0; at + 8 <= data.Length;)
        {
            uint lrec = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 4));
            if (lrec >> 29 != 0) return true;
            at += 8 + RecordIOFraming.Padded((int)(lrec & RecordIOFraming.MaxPayload));
        }
        return false;
    }

    private static List<DecodedRecord> ReadAndDecode(byte[] data, bool seekable)
    {
        using var reader = new RecordIOReader(seekable ? new MemoryStream(data, writable: false) : new TrickleStream(data, 13), "fuzz.rec");
        return reader.ReadAll().Select(r => RecordDecoder.Decode(r, "fuzz.rec")).ToList();
    }

    /// <summary>One corruption of a seed file, described for the failure message.</summary>
    private static (byte[] Data, string What) Mutate(Random random)
    {
        int which = random.Next(Seeds.Length);
        var data = (byte[])Seeds[which].Clone();
        string what;
        switch (random.Next(7))
        {
            case 0:
            {
                int flips = random.Next(1, 5);
                var at = new List<int>();
                for (int i = 0; i < flips; i++)
                {
                    int p = random.Next(data.Length);
                    data[p] ^= (byte)(1 << random.Next(8));
                    at.Add(p);
                }
                what = $"bit flips at {string.Join(",", at)}";
                break;
            }
            case 1:
            {
                int p = random.Next(data.Length);
                data[p] = (byte)random.Next(256);
                what = $"random byte at {p}";
                break;
            }
            case 2:
            {
                int keep = random.Next(data.Length);
                data = data[..keep];
                what = $"truncated to {keep}";
                break;
            }
            case 3:
            {
                // A header's length field (aligned words after a magic word) set to a huge or random value.
                var headers = Headers(data);
                int h = headers[random.Next(headers.Count)];
                uint value = random.Next(4) switch
                {
                    0 => RecordIOFraming.EncodeLRec(0, RecordIOFraming.MaxPayload),
                    1 => 0xFFFFFFFF,
                    2 => (uint)random.Next() | ((uint)random.Next(8) << 29),
                    _ => RecordIOFraming.EncodeLRec((uint)random.Next(4), random.Next(1, 64)),
                };
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(h + 4), value);
                what = $"length field at {h + 4} = 0x{value:X8}";
                break;
            }
            case 4:
            {
                // A stray magic word (or a header) dropped at a random aligned offset.
                int p = random.Next(data.Length / 4) * 4;
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(p), RecordIOFraming.Magic);
                what = $"magic word at {p}";
                break;
            }
            case 5:
            {
                // A payload byte inside a protobuf varint or length made large.
                int p = random.Next(data.Length);
                data[p] = (byte)(0x80 | random.Next(128));
                what = $"continuation byte at {p}";
                break;
            }
            default:
            {
                // Several kinds at once.
                var (d1, w1) = (data, "");
                for (int k = 0; k < 3; k++)
                {
                    int p = random.Next(d1.Length);
                    d1[p] = (byte)random.Next(256);
                    w1 += $"{p} ";
                }
                int keep = random.Next(d1.Length / 2, d1.Length + 1);
                data = d1[..keep];
                what = $"bytes at {w1}then truncated to {keep}";
                break;
            }
        }
        return (data, $"seed {which}: {what}");
    }

    private static List<int> Headers(byte[] data)
    {
        var result = new List<int>();
        for (int at = 0; at + 8 <= data.Length;)
        {
            result.Add(at);
            uint lrec = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 4));
            at += 8 + RecordIOFraming.Padded((int)(lrec & RecordIOFraming.MaxPayload));
        }
        return result;
    }

    [Fact]
    public async Task Corrupt_files_decode_or_fail_with_a_DataFormatException()
    {
        var task = Task.Run(() =>
        {
            var random = new Random(Seed);
            int decoded = 0, rejected = 0;
            for (int i = 0; i < 4000; i++)
            {
                var (data, what) = Mutate(random);
                bool seekable = i % 2 == 0;
                long before = GC.GetAllocatedBytesForCurrentThread();
                var watch = Stopwatch.StartNew();
                try
                {
                    ReadAndDecode(data, seekable);
                    decoded++;
                }
                catch (DataFormatException e)
                {
                    Assert.Equal("fuzz.rec", e.File);
                    Assert.Contains("byte offset", e.Message);
                    rejected++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"case {i} ({what}, seekable={seekable}) threw {e.GetType().Name}: {e.Message}");
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(watch.ElapsedMilliseconds < 2000, $"case {i} ({what}) took {watch.ElapsedMilliseconds} ms");
                // The stream-without-length path may read ahead in 64 KiB chunks; decoding allocates a few times the payload.
                Assert.True(allocated < 64 * data.Length + 512 * 1024, $"case {i} ({what}, seekable={seekable}) allocated {allocated:N0} bytes for a {data.Length}-byte file");
            }
            return (decoded, rejected);
        });
        // A hang fails the test with a TimeoutException instead of blocking the run.
        var (ok, bad) = await task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(bad > 1000, $"most corruptions are caught ({bad} rejected, {ok} decoded)");
    }

    /// <summary>The inspector (format detection, text fallbacks) holds to the same rule on corrupted files.</summary>
    [Fact]
    public async Task Corrupt_shards_inspect_or_fail_with_a_DataFormatException()
    {
        using var tmp = new TempDir();
        var random = new Random(Seed + 1);
        for (int i = 0; i < 300; i++)
        {
            var (data, what) = Mutate(random);
            var path = tmp.Combine($"case{i}.rec");
            await File.WriteAllBytesAsync(path, data);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await ShardInspector.SummarizeAsync(path, cancellationToken: cts.Token);
            }
            catch (DataFormatException e)
            {
                Assert.Equal(path, e.File);
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i} ({what}) threw {e.GetType().Name}: {e.Message}");
            }
        }
    }
}

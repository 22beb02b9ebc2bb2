using System.Text;

namespace DataPrep.Sources;

/// <summary>
/// The framing of an <see cref="ISharedOpen"/> state, shared by the sources that have one (CSV, JSON Lines, LibSVM): a
/// tag naming the kind and its version, then what the source writes with a <see cref="BinaryWriter"/>. A state is taken
/// only whole: of its kind, not cut short, nothing left over.
/// </summary>
internal static class OpenedStates
{
    /// <summary>The state: <paramref name="tag"/>, then what <paramref name="write"/> writes.</summary>
    public static byte[] Write(ReadOnlySpan<byte> tag, Action<BinaryWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(tag);
            write(w);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Reads a state <see cref="Write"/> wrote with <paramref name="tag"/>: <paramref name="read"/> reads and checks what
    /// follows the tag and returns how to take it (null: not such a state), which runs only once every byte was read.
    /// </summary>
    /// <returns>Whether the state was taken.</returns>
    public static bool TryRead(ReadOnlySpan<byte> state, ReadOnlySpan<byte> tag, Func<BinaryReader, Action?> read)
    {
        if (!state.StartsWith(tag)) return false;
        try
        {
            using var r = new BinaryReader(new MemoryStream(state[tag.Length..].ToArray()), Encoding.UTF8);
            if (read(r) is not { } take || r.BaseStream.Position != r.BaseStream.Length) return false;
            take();
            return true;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException)
        {
            return false;
        }
    }
}

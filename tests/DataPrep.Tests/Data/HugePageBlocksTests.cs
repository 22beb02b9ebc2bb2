using DataPrep.Data;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Data;

/// <summary>
/// Kept-text blocks advised as huge pages: the advised range is exactly the whole 2 MiB pages inside the block, and a
/// block behaves as an ordinary array of its length whether or not the advice is taken.
/// </summary>
public class HugePageBlocksTests
{
    private const int Huge = HugePageBlocks.HugePage;

    [Property(MaxTest = 2000)]
    public Property Advised_range_is_the_whole_huge_pages_inside_the_block()
        => Prop.ForAll(Gen.Choose(0, 1 << 20).ToArbitrary(), Gen.Choose(0, 5 * Huge).ToArbitrary(), (pages4k, length) =>
        {
            // Addresses of arrays are at least 8-byte aligned; any 4 KiB multiple plus a small header offset.
            nuint address = unchecked((nuint)0x7f00_0000_0000) + (nuint)pages4k * 4096 + 16;
            var (offset, advised) = HugePageBlocks.AlignedRange(address, length);
            if (advised == 0) return length < Huge || NoWholePageInside(address, length);
            nuint start = address + (nuint)offset;
            return start % Huge == 0 && advised % Huge == 0 && offset >= 0 && offset + advised <= length
                && offset < Huge && length - (offset + advised) < Huge;
        });

    private static bool NoWholePageInside(nuint address, int length)
    {
        nuint first = (address + Huge - 1) / Huge * Huge;
        return first + Huge > address + (nuint)length;
    }

    [Fact]
    public void Range_of_an_aligned_block_is_all_of_it()
    {
        Assert.Equal((0, 4 * Huge), HugePageBlocks.AlignedRange(0x4000_0000, 4 * Huge));
        Assert.Equal((Huge - 4096, 3 * Huge), HugePageBlocks.AlignedRange(0x4000_0000 + 4096, 4 * Huge - 4096));
        Assert.Equal((Huge - 4096, 2 * Huge), HugePageBlocks.AlignedRange(0x4000_0000 + 4096, 4 * Huge - 8192));
        Assert.Equal((0, 0), HugePageBlocks.AlignedRange(0x4000_0000 + 4096, 2 * Huge - 4096 - 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1 << 20)]
    [InlineData(8 << 20)]
    [InlineData((8 << 20) + 12345)]
    public void Blocks_hold_what_is_written(int length)
    {
        var block = HugePageBlocks.Allocate(length);
        Assert.Equal(length, block.Length);
        var rng = new Random(length);
        var expected = new byte[length];
        rng.NextBytes(expected);
        expected.CopyTo(block, 0);
        Assert.True(expected.AsSpan().SequenceEqual(block));
    }
}

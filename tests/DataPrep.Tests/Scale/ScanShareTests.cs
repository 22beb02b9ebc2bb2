using DataPrep.Scale;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Scale;

/// <summary>How the scan step divides the inputs among N tasks: whole files, in input order, balanced by bytes.</summary>
public sealed class ScanShareTests
{
    private static Gen<(long[] Sizes, int Workers)> Cases() =>
        from n in Gen.Choose(0, 40)
        from sizes in Gen.ArrayOf(Gen.Choose(0, 1_000_000).Select(x => (long)x * (x % 7 == 0 ? 1000 : 1)), n)
        from workers in Gen.Choose(1, 70)
        select (sizes, workers);

    [Property(MaxTest = 500)]
    public Property Every_input_is_read_by_exactly_one_task_in_input_order()
        => Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var shares = Enumerable.Range(0, c.Workers).Select(t => ScaleRun.ShareOf(c.Sizes, c.Workers, t)).ToList();
            bool contiguous = shares[0].First == 0 && shares[^1].End == c.Sizes.Length
                && shares.Zip(shares.Skip(1)).All(p => p.First.End == p.Second.First) && shares.All(s => s.First <= s.End);
            return contiguous.Label($"{string.Join(",", c.Sizes)} / {c.Workers}: {string.Join(" ", shares)}");
        });

    [Property(MaxTest = 500)]
    public Property No_task_reads_more_than_its_share_plus_one_input()
        => Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            long total = c.Sizes.Sum(), largest = c.Sizes.DefaultIfEmpty(0).Max();
            return Enumerable.Range(0, c.Workers).All(t =>
            {
                var (first, end) = ScaleRun.ShareOf(c.Sizes, c.Workers, t);
                long bytes = c.Sizes.Skip(first).Take(end - first).Sum();
                return bytes <= total / c.Workers + 2 * largest;
            }).Label($"{string.Join(",", c.Sizes)} / {c.Workers}");
        });

    [Fact]
    public void One_big_file_among_small_ones_gets_a_task_of_its_own()
    {
        long[] sizes = [10, 10, 1000, 10, 10, 10];
        Assert.Equal((0, 2), ScaleRun.ShareOf(sizes, 3, 0));
        Assert.Equal((2, 3), ScaleRun.ShareOf(sizes, 3, 1));
        Assert.Equal((3, 6), ScaleRun.ShareOf(sizes, 3, 2));
    }
}

using System.Globalization;
using System.Text;
using DataPrep.Audit;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Audit;

/// <summary>
/// Properties of the audit on anyone's files: a group planted in two splits is always found, group-disjoint
/// splits never are, whatever the split count, sizes and file formats; likewise for times.
/// </summary>
public class AuditPropertyTests
{
    private static readonly string[] s_names = ["train", "validation", "test"];

    /// <summary>Group ids per split, disjoint by construction: split s uses ids s·1000 + k.</summary>
    private static Gen<int[][]> DisjointGroups =>
        from splits in Gen.Choose(2, 3)
        from rows in Gen.Choose(1, 12).SelectMany(n => Gen.Choose(0, n - 1).ArrayOf(n)).ArrayOf(splits)
        select rows.Select((keys, s) => keys.Select(k => s * 1000 + k).ToArray()).ToArray();

    /// <summary>Writes one file per split as CSV or JSON Lines (by <paramref name="jsonl"/> bits), group ids as integers.</summary>
    private static List<string> Write(TempDir tmp, int[][] groups, int jsonl, Func<int, int, string>? render = null)
    {
        var paths = new List<string>();
        for (int s = 0; s < groups.Length; s++)
        {
            bool json = ((jsonl >> s) & 1) == 1;
            var sb = new StringBuilder(json ? "" : "group,x\n");
            for (int r = 0; r < groups[s].Length; r++)
            {
                string g = render?.Invoke(s, r) ?? groups[s][r].ToString(CultureInfo.InvariantCulture);
                sb.Append(json ? $"{{\"group\":{g},\"x\":{r}}}\n" : $"{g},{r}\n");
            }
            paths.Add(tmp.File($"{s_names[s]}.{(json ? "jsonl" : "csv")}", sb.ToString()));
        }
        return paths;
    }

    private static AuditReport Run(IReadOnlyList<string> paths, string? group = null, string? time = null)
        => Auditor.AuditAsync(paths, new AuditOptions { GroupColumn = group, TimeColumn = time, MaxExamples = 3 }, new DataPrep.Conversion.DataPrepRegistry()).GetAwaiter().GetResult();

    [Property(MaxTest = 40)]
    public Property Group_disjoint_splits_are_never_flagged()
        => Prop.ForAll(DisjointGroups.ToArbitrary(), Gen.Choose(0, 7).ToArbitrary(), (groups, jsonl) =>
        {
            using var tmp = new TempDir();
            var report = Run(Write(tmp, groups, jsonl), group: "group");
            var check = report.Check(AuditChecks.GroupOverlap)!;
            return (check.Status == AuditStatus.Pass && check.Violations == 0
                    && report.Splits.Select(s => s.Groups).SequenceEqual(groups.Select(g => (long?)g.Distinct().Count())))
                .Label($"{check.Status}: {check.Message}");
        });

    [Property(MaxTest = 40)]
    public Property A_planted_shared_group_is_always_flagged()
    {
        var planted =
            from groups in DisjointGroups
            from src in Gen.Choose(0, groups.Length - 1)
            from to in Gen.Choose(0, groups.Length - 2).Select(t => t >= src ? t + 1 : t)
            from pick in Gen.Choose(0, groups[src].Length - 1)
            from at in Gen.Choose(0, groups[to].Length - 1)
            from asFloat in Gen.Elements(false, true)
            select (groups, src, to, pick, at, asFloat);
        return Prop.ForAll(planted.ToArbitrary(), Gen.Choose(0, 7).ToArbitrary(), (p, jsonl) =>
        {
            var (groups, from, to, pick, at, asFloat) = p;
            int key = groups[from][pick];
            groups[to][at] = key;
            using var tmp = new TempDir();
            // The planted key may be written as 1007.0 in one file and 1007 in another: still the same key.
            var paths = Write(tmp, groups, jsonl, (s, r) => s == to && r == at && asFloat ? $"{key}.0" : groups[s][r].ToString(CultureInfo.InvariantCulture));
            var check = Run(paths, group: "group").Check(AuditChecks.GroupOverlap)!;
            return (check.Status == AuditStatus.Leak
                    && check.Violations == 1
                    && check.Examples.Single().Key == key.ToString(CultureInfo.InvariantCulture)
                    && check.Details.Single() == $"{s_names[Math.Min(from, to)]} ∩ {s_names[Math.Max(from, to)]}: 1 group")
                .Label($"planted {key} from {s_names[from]} into {s_names[to]}: {check.Status} {check.Message} [{string.Join("; ", check.Details)}]");
        });
    }

    /// <summary>Sorted distinct days cut into consecutive splits never overlap; moving the first row of a later split before the earlier split's end always does.</summary>
    [Property(MaxTest = 40)]
    public Property Time_order_is_checked_at_every_boundary(PositiveInt seed, bool plant)
    {
        var rng = new Random(seed.Get);
        int splits = rng.Next(2, 4);
        var sizes = Enumerable.Range(0, splits).Select(_ => rng.Next(1, 8)).ToArray();
        var days = Enumerable.Range(0, sizes.Sum()).Select(_ => rng.Next(0, 5000)).Distinct().Order().ToList();
        if (days.Count < sizes.Sum()) return true.ToProperty(); // rare: not enough distinct days
        var perSplit = new List<List<int>>();
        int next = 0;
        foreach (var n in sizes) { perSplit.Add(days.GetRange(next, n)); next += n; }
        int boundary = rng.Next(1, splits);
        if (plant) perSplit[boundary][0] = perSplit[boundary - 1][^1] - rng.Next(0, 3);
        using var tmp = new TempDir();
        var epoch = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var paths = perSplit.Select((d, s) => tmp.File($"{s_names[s]}.csv",
            "t\n" + string.Concat(d.Select(x => epoch.AddDays(x).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "\n")))).ToList();
        var check = Run(paths, time: "t").Check(AuditChecks.TimeOverlap)!;
        bool ok = plant
            ? check.Status == AuditStatus.Leak && check.Boundaries![boundary - 1].Overlaps
              && check.Boundaries[boundary - 1].OverlapTo == CanonicalValues.Iso(epoch.AddDays(perSplit[boundary - 1][^1]).Ticks)
            : check.Status == AuditStatus.Pass && check.Boundaries!.All(b => !b.Overlaps);
        return ok.Label($"plant={plant} boundary={boundary}: {check.Status} {check.Message}");
    }
}

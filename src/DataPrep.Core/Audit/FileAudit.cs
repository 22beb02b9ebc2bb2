using DataPrep.Data;
using DataPrep.Sources;

namespace DataPrep.Audit;

/// <summary>
/// Audits anyone's split files (CSV with headers, JSON Lines, Parquet, LibSVM) read through a
/// <see cref="SourceRegistry"/>: group overlap on a column, time overlap on a column, and identical rows in
/// two splits, compared by the canonical text of their values so formats and inferred types do not matter.
/// </summary>
internal static class FileAudit
{
    private const long RowMask = (1L << 40) - 1;

    public static async Task<AuditReport> AuditAsync(IReadOnlyList<string> paths, AuditOptions options, SourceRegistry registry, CancellationToken ct)
    {
        var targets = AuditTargets.Files(paths, registry, options.Source);
        var names = AuditTargets.Order(targets.Select(t => t.Split)).ToList();
        // Files in split order, so rows are read train first, then validation, test.
        targets = [.. targets.OrderBy(t => names.IndexOf(t.Split))];
        var report = new AuditReport { Kind = "files", Paths = [.. paths] };

        // Open every file first: schemas, and every column problem at once.
        var sources = new List<IRecordSource>();
        var schemas = new List<Schema>();
        foreach (var t in targets)
        {
            var source = registry.Create(t.Path, options.Source);
            sources.Add(source);
            schemas.Add(await source.OpenAsync(ct).ConfigureAwait(false));
        }
        var problems = new List<string>();
        foreach (var (option, column, isTime) in new[] { ("--group", options.GroupColumn, false), ("--time", options.TimeColumn, true) })
        {
            if (column is null) continue;
            for (int f = 0; f < targets.Count; f++)
            {
                int i = schemas[f].IndexOf(column);
                if (i < 0) problems.Add($"{option} names column '{column}', which {targets[f].Path} does not have (its columns: {Columns(schemas[f])}).");
                else
                {
                    try { CheckKind(schemas[f][i], option, targets[f].Path, isTime); }
                    catch (PipelineValidationException e) { problems.Add(e.Message); }
                }
            }
        }
        foreach (var ignored in options.IgnoreColumns)
        {
            if (schemas.All(s => s.IndexOf(ignored) < 0)) problems.Add($"--ignore names column '{ignored}', which no file has (columns of {targets[0].Path}: {Columns(schemas[0])}).");
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);

        // The duplicate check compares the columns every file has, in the first file's order.
        var ignore = options.IgnoreColumns.ToHashSet(StringComparer.Ordinal);
        var common = schemas[0].Fields.Select(f => f.Name).Where(n => !ignore.Contains(n) && schemas.All(s => s.IndexOf(n) >= 0)).ToList();
        var notEverywhere = schemas.SelectMany(s => s.Fields.Select(f => f.Name)).Distinct(StringComparer.Ordinal)
            .Where(n => !ignore.Contains(n) && !common.Contains(n)).ToList();
        if (notEverywhere.Count > 0)
        {
            report.Notes.Add($"Columns not in every file were left out of the duplicate check: {string.Join(", ", notEverywhere.Take(20))}{(notEverywhere.Count > 20 ? ", …" : "")}.");
        }
        if (ignore.Count > 0) report.Notes.Add($"Left out of the duplicate check by --ignore: {string.Join(", ", options.IgnoreColumns)}.");

        var groups = options.GroupColumn is null ? null : new GroupOverlap(names);
        var times = options.TimeColumn is null ? null : new TimeOverlap(names, options.MaxExamples);
        var duplicates = common.Count > 0 ? new DuplicateRows(names, options.MaxExamples) : null;
        var hasher = new CanonicalValues.RowHasher();
        var chance = duplicates is null ? null : new ColumnCardinalities();
        var rows = new long[names.Count];
        for (int f = 0; f < targets.Count; f++)
        {
            int split = names.IndexOf(targets[f].Split);
            var schema = schemas[f];
            int[] hashed = common.Select(schema.IndexOf).ToArray();
            int group = options.GroupColumn is null ? -1 : schema.IndexOf(options.GroupColumn);
            int time = options.TimeColumn is null ? -1 : schema.IndexOf(options.TimeColumn);
            var cols = new Column[hashed.Length];
            await foreach (var batch in sources[f].ReadAsync(f, ct).ConfigureAwait(false))
            {
                for (int c = 0; c < hashed.Length; c++) cols[c] = batch.Columns[hashed[c]];
                for (int r = 0; r < batch.RowCount; r++)
                {
                    long sourceRow = batch.Rows.SourceRows[r];
                    var at = new RowRef(split, ((long)f << 40) | (sourceRow & RowMask));
                    duplicates?.Add(at, hasher.Hash(cols, r));
                    if (chance is not null)
                    {
                        chance.AddRecord();
                        for (int c = 0; c < cols.Length; c++) chance.Add(c, CanonicalValues.Text(cols[c], r));
                    }
                    groups?.Add(at, CanonicalValues.Text(batch.Columns[group], r));
                    if (times is not null)
                    {
                        long ticks = ReadTime(batch.Columns[time], r, targets[f].Path, sourceRow, options.TimeColumn!);
                        if (ticks == long.MinValue) times.AddMissing(split);
                        else times.Add(at, ticks);
                    }
                }
                rows[split] += batch.RowCount;
                ct.ThrowIfCancellationRequested();
            }
        }

        AuditLocation Locate(RowRef r) => new()
        {
            Split = names[r.Split],
            File = targets[(int)(r.Key >> 40)].Path,
            Row = r.Key & RowMask,
        };

        for (int s = 0; s < names.Count; s++)
        {
            var split = new AuditSplit { Name = names[s], Rows = rows[s], Files = targets.Where(t => t.Split == names[s]).Select(t => t.Path).ToList() };
            if (groups is not null) split.Groups = groups.Distinct[s];
            if (times?.Min(s) is { } min)
            {
                split.TimeFrom = CanonicalValues.Iso(min);
                split.TimeTo = CanonicalValues.Iso(times.Max(s)!.Value);
            }
            report.Splits.Add(split);
        }
        report.Checks.Add(groups?.Result(options.GroupColumn!, options.MaxExamples, Locate)
            ?? AuditText.Skipped(AuditChecks.GroupOverlap, "no group column given; pass --group COL (speaker, patient, user …) to check that no group is in two splits."));
        report.Checks.Add(times?.Result(options.TimeColumn!, Locate, requiredGap: null)
            ?? AuditText.Skipped(AuditChecks.TimeOverlap, "no time column given; pass --time COL to check that each split ends before the next begins."));
        report.Checks.Add(duplicates?.Result("row", Locate, chance, rows)
            ?? AuditText.Skipped(AuditChecks.Duplicates, "the files share no column to compare."));
        return report;
    }

    private static string Columns(Schema s) => string.Join(", ", s.Fields.Take(50).Select(f => f.Name)) + (s.Count > 50 ? ", …" : "");

    /// <summary>Refuses columns that cannot hold a group key or a time.</summary>
    public static void CheckKind(Field field, string option, string file, bool isTime)
    {
        if (isTime && field.Kind is not (ColumnKind.Timestamp or ColumnKind.Int64 or ColumnKind.Float64 or ColumnKind.String))
        {
            throw new PipelineValidationException($"{option} column '{field.Name}' of {file} is {field.Kind}; expected timestamps, ISO 8601 text or epoch seconds/milliseconds.");
        }
        if (!isTime && field.Kind is ColumnKind.Sparse or ColumnKind.Binary)
        {
            throw new PipelineValidationException($"{option} column '{field.Name}' of {file} is {field.Kind}; expected a key column (text, integer, boolean or timestamp).");
        }
    }

    /// <summary>The time of a row as UTC ticks; <see cref="long.MinValue"/> when missing.</summary>
    /// <exception cref="DataFormatException">The value is not a time (names file, row and column).</exception>
    public static long ReadTime(Column column, int row, string file, long sourceRow, string name)
    {
        switch (CanonicalValues.Time(column, row, out long ticks))
        {
            case CanonicalValues.TimeRead.Ok: return ticks;
            case CanonicalValues.TimeRead.Missing: return long.MinValue;
            default:
                string value = CanonicalValues.Text(column, row) ?? "";
                throw new DataFormatException($"{Throw.Quote(value)} is not a time; expected a timestamp, an ISO 8601 date or date-time (2024-03-01, 2024-03-01T12:00:00Z) or epoch seconds/milliseconds",
                    file, row: sourceRow, column: name);
        }
    }
}

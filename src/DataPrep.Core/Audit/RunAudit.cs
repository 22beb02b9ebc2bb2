using DataPrep.Output;
using System.Globalization;
using System.Text.Json;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Conversion;

namespace DataPrep.Audit;

/// <summary>
/// Audits a DataPrep output folder through its run record and lineage sidecars: partition (row ids), shard
/// integrity (size, SHA-256, records against the lineage), group and time overlap (lineage columns, or a
/// column looked up in the run's inputs) and identical encoded rows in two splits (content hashes).
/// </summary>
internal sealed class RunAudit
{
    private const long RecordMask = (1L << 40) - 1;

    private readonly string _root;
    private readonly AuditOptions _options;
    private readonly DataPrepRegistry _registry;
    private readonly IRecordHasher? _hasher;
    private readonly RunRecord _run;
    private readonly List<string> _names;
    private readonly List<SplitReport> _splits;
    private readonly LineageTable?[] _lineage;
    private readonly AuditReport _report;
    private readonly List<string> _integrityProblems = [];
    private readonly List<AuditExample> _integrityExamples = [];
    private int _integrityViolations;

    private RunAudit(string root, IReadOnlyList<string> paths, AuditOptions options, DataPrepRegistry registry)
    {
        _root = root;
        _options = options;
        _registry = registry;
        string runJson = Path.Combine(root, "_dataprep", "run.json");
        _run = RunRecord.Load(runJson);
        ReadShardLists(_run, runJson);
        _hasher = _options.VerifyShards ? RecordHasher(runJson) : null;
        _names = AuditTargets.Order(_run.Splits.Keys).ToList();
        if (_names.Count > 64) throw Throw.Format($"has {_names.Count} splits; the audit compares at most 64", Path.Combine(root, "_dataprep", "run.json"));
        _splits = _names.Select(n => _run.Splits[n]).ToList();
        _lineage = new LineageTable?[_names.Count];
        _report = new AuditReport { Kind = "run", Paths = [.. paths], Run = root, SplitMethod = Describe(_run.Options!) };
    }

    public static async Task<AuditReport> AuditAsync(string root, IReadOnlyList<string> paths, AuditOptions options, DataPrepRegistry registry, CancellationToken ct)
    {
        var audit = new RunAudit(root, paths, options, registry);
        return await audit.RunAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// How the run's data files are read record by record: from its output format's definition, found in the registry
    /// by the name run.json records.
    /// </summary>
    /// <exception cref="PipelineValidationException">The registry does not know the run's format (a plug-in's format, such as parquet, without the plug-in).</exception>
    private IRecordHasher RecordHasher(string runJson)
    {
        string name = _run.Options!.Format;
        if (_registry.Formats.Find(name) is { } format) return format.RecordHasher;
        string add = FormatRegistry.PlugIn(name) is { } plugIn
            ? $"add the plug-in {plugIn} to the registry the audit is given"
            : $"add the plug-in that writes it to the registry the audit is given (it knows {_registry.Formats.Expected()})";
        throw new PipelineValidationException(
            $"{runJson}: the run wrote --format {name}, which the audit's registry does not know, so the shards cannot be read record by record to check them against the lineage; {add}, or skip the shard check (--no-verify, AuditOptions.VerifyShards = false).");
    }

    /// <summary>
    /// Fills each split's shard list from run.json when deserialisation left it empty (<see cref="SplitReport.Shards"/>
    /// is a get-only list, which the source-generated reader does not populate).
    /// </summary>
    private static void ReadShardLists(RunRecord run, string path)
    {
        if (run.Splits.Values.All(s => s.Shards.Count > 0 || s.Rows == 0)) return;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("splits", out var splits) || splits.ValueKind != JsonValueKind.Object) return;
            foreach (var split in splits.EnumerateObject())
            {
                if (!run.Splits.TryGetValue(split.Name, out var report) || report.Shards.Count > 0) continue;
                if (!split.Value.TryGetProperty("shards", out var shards) || shards.ValueKind != JsonValueKind.Array) continue;
                foreach (var s in shards.EnumerateArray())
                {
                    report.Shards.Add(new ShardRecord(
                        s.GetProperty("path").GetString() ?? throw new FormatException("a shard without a path"),
                        s.GetProperty("rows").GetInt64(),
                        s.GetProperty("bytes").GetInt64(),
                        s.GetProperty("sha256").GetString() ?? ""));
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw Throw.Format($"has a malformed shard list ({e.Message}); expected splits.<name>.shards[] with path, rows, bytes and sha256", path, inner: e);
        }
    }

    /// <summary>The run's split method as run.json records it, e.g. "noisy/clean approach 1, by group speaker_id" or "5-fold, group by user".</summary>
    internal static string Describe(ConvertOptions o)
    {
        string method = o.SplitBy switch
        {
            SplitMethod.Time => $"time by {o.TimeColumn}" + (o.Cutoffs.Count > 0 ? ", cutoffs" : "") + (o.Gap is { } g && g > TimeSpan.Zero ? $", gap {AuditText.Duration(g)}" : ""),
            SplitMethod.Group => $"group by {o.GroupColumn}",
            SplitMethod.NoisyClean => $"noisy/clean approach {(int)o.NoisyApproach}" + (o.GroupColumn is null ? "" : $", by group {o.GroupColumn}"),
            _ => "random",
        };
        if (o.Stratify is not null && o.SplitBy != SplitMethod.NoisyClean) method += $", stratified by {o.Stratify}";
        if (o.Assignment == Assignment.Stable) method += ", stable assignment";
        return o.Folds > 0 ? $"{o.Folds}-fold, {method}" : method;
    }

    /// <summary>
    /// Distinct values per output column (label first) over every shard, read back through the run's format, for the
    /// number of identical rows expected by chance; null with the reason when the format has no reader.
    /// </summary>
    private async Task<(ColumnCardinalities?, string?)> CardinalitiesAsync(CancellationToken ct)
    {
        if (_registry.Formats.Find(_run.Options!.Format)?.Reader is not { } reader) return (null, $"--format {_run.Options.Format} records are not read back as columns");
        var chance = new ColumnCardinalities();
        var options = new Inspect.InspectOptions { NoLabel = _run.Encoding?.Label is null };
        foreach (var split in _splits)
        {
            foreach (var shard in split.Shards)
            {
                string file = Path.Combine(_root, shard.Path);
                if (!File.Exists(file)) continue;
                try
                {
                    await foreach (var record in reader.ReadAsync(file, options, ct).ConfigureAwait(false))
                    {
                        chance.AddRecord();
                        int offset = 0;
                        foreach (double v in record.Label ?? []) chance.Add(offset++, Value(v));
                        if (record.Keys is { } keys)
                        {
                            for (int i = 0; i < keys.Length; i++) chance.Add(offset + (int)keys[i], Value(record.Values[i]));
                        }
                        else
                        {
                            for (int i = 0; i < record.Values.Length; i++) chance.Add(offset + i, Value(record.Values[i]));
                        }
                    }
                }
                catch (DataFormatException e)
                {
                    return (null, $"{shard.Path} could not be read back: {e.Problem}");
                }
            }
        }
        return (chance, null);

        static string Value(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<AuditReport> RunAsync(CancellationToken ct)
    {
        var noLineage = new List<string>();
        for (int s = 0; s < _names.Count; s++)
        {
            if (_splits[s].Lineage is not { } rel)
            {
                // A split the split stage reported but nothing was written to (k-fold's train range) has nothing to check.
                if (_splits[s].Rows > 0 || _splits[s].Shards.Count > 0) noLineage.Add(_names[s]);
                continue;
            }
            string path = Path.Combine(_root, rel);
            if (!File.Exists(path))
            {
                Problem($"{rel}: the lineage sidecar listed in run.json is missing.");
                noLineage.Add(_names[s]);
                continue;
            }
            _lineage[s] = LineageTable.Load(path, ct);
        }
        if (noLineage.Count > 0)
        {
            _report.Notes.Add($"No lineage for {string.Join(", ", noLineage)}"
                + (_run.Options!.Lineage ? "" : " (the run was written with --no-lineage)")
                + ": row ids, groups and times of those splits cannot be checked"
                + (_options.VerifyShards ? "; duplicates are found from the shards' records." : "."));
        }

        var duplicates = new DuplicateRows(_names, _options.MaxExamples);
        bool lineageDuplicates = false;
        for (int s = 0; s < _names.Count; s++)
        {
            if (_lineage[s] is not { } t) continue;
            lineageDuplicates = true;
            for (int i = 0; i < t.Count; i++) duplicates.Add(new RowRef(s, i), t.Hashes[i]);
        }

        var partition = Partition();
        var integrity = await IntegrityAsync(duplicates, ct).ConfigureAwait(false);
        var (groupCheck, groupCounts) = await GroupsAsync(ct).ConfigureAwait(false);
        var (timeCheck, timeRanges) = await TimesAsync(ct).ConfigureAwait(false);
        bool anyDuplicateSource = lineageDuplicates || (_options.VerifyShards && noLineage.Count > 0);
        var (chance, noChance) = anyDuplicateSource && duplicates.Any ? await CardinalitiesAsync(ct).ConfigureAwait(false) : (null, null);
        var dupCheck = anyDuplicateSource
            ? duplicates.Result("encoded row", Locate, chance, _splits.Select(s => s.Rows).ToList(), noChance)
            : AuditText.Skipped(AuditChecks.Duplicates, "the run has no lineage and --no-verify skipped reading the shards, so no content hashes are known.");

        for (int s = 0; s < _names.Count; s++)
        {
            if (_lineage[s] is null && _splits[s].Rows == 0 && _splits[s].Shards.Count == 0) continue; // reported, never written
            var split = new AuditSplit
            {
                Name = _names[s],
                Rows = _lineage[s]?.Count ?? _splits[s].Rows,
                Files = _splits[s].Shards.Select(x => x.Path).ToList(),
            };
            if (groupCounts is not null) split.Groups = groupCounts[s];
            if (timeRanges is not null && timeRanges[s] is { } range)
            {
                split.TimeFrom = CanonicalValues.Iso(range.Min);
                split.TimeTo = CanonicalValues.Iso(range.Max);
            }
            _report.Splits.Add(split);
        }
        _report.Checks.AddRange([partition, integrity, groupCheck, timeCheck, dupCheck]);
        return _report;
    }

    private void Problem(string text, AuditExample? example = null)
    {
        _integrityViolations++;
        _integrityProblems.Add(text);
        if (example is not null && _integrityExamples.Count < _options.MaxExamples) _integrityExamples.Add(example);
    }

    /// <summary>Where a row is: from the lineage when the split has one, else from (shard, record).</summary>
    private AuditLocation Locate(RowRef r)
    {
        var split = _splits[r.Split];
        int shard;
        long record;
        var loc = new AuditLocation { Split = _names[r.Split] };
        if (_lineage[r.Split] is { } t)
        {
            int i = (int)r.Key;
            shard = t.Shards[i];
            record = t.Records[i];
            loc.RowId = t.RowIds[i];
            int src = t.Sources[i];
            loc.Source = src < _run.Inputs.Count ? _run.Inputs[src].Path : $"input {src}";
            loc.SourceRow = t.SourceRows[i];
        }
        else
        {
            shard = (int)(r.Key >> 40);
            record = r.Key & RecordMask;
        }
        loc.File = shard < split.Shards.Count ? split.Shards[shard].Path : $"{_names[r.Split]}/shard {shard}";
        loc.Record = record;
        return loc;
    }

    // ---- (a) partition ----

    private AuditCheck Partition()
    {
        if (_lineage.All(t => t is null))
        {
            return AuditText.Skipped(AuditChecks.Partition, "the run has no lineage sidecars (written with --no-lineage), so row ids are unknown.");
        }
        var check = new AuditCheck { Name = AuditChecks.Partition };
        var seen = new Dictionary<long, RowRef>();
        long across = 0, within = 0, ids = 0;
        for (int s = 0; s < _names.Count; s++)
        {
            if (_lineage[s] is not { } t) continue;
            for (int i = 0; i < t.Count; i++)
            {
                var here = new RowRef(s, i);
                if (seen.TryAdd(t.RowIds[i], here)) { ids++; continue; }
                var first = seen[t.RowIds[i]];
                if (first.Split == s) within++;
                else across++;
                if (check.Examples.Count < _options.MaxExamples)
                {
                    var a = Locate(first);
                    var b = Locate(here);
                    check.Examples.Add(new AuditExample
                    {
                        Key = t.RowIds[i].ToString(CultureInfo.InvariantCulture),
                        Text = $"row id {t.RowIds[i]} is in {(first.Split == s ? $"{_names[s]} twice" : $"{_names[first.Split]} and {_names[s]}")}: {a} and {b}",
                        Rows = [a, b],
                    });
                }
            }
        }
        if (across > 0) check.Details.Add($"{AuditText.Plural(across, "row id occurs", "row ids occur")} in more than one split");
        if (within > 0) check.Details.Add($"{AuditText.Plural(within, "row id repeats", "row ids repeat")} within a split");

        long countProblems = 0;
        for (int s = 0; s < _names.Count; s++)
        {
            if (_lineage[s] is { } t && t.Count != _splits[s].Rows)
            {
                countProblems++;
                check.Details.Add($"{_names[s]}: run.json says {AuditText.Plural(_splits[s].Rows, "row", "rows")}, the lineage lists {AuditText.N(t.Count)}");
            }
        }
        // Augmented copies (image formats) are written but were never read: the accounting counts originals.
        long read = _run.Summary.RowsRead, written = _splits.Sum(x => x.Rows - (x.Augmented?.Values.Sum() ?? 0)), dropped = _run.Summary.Dropped.Values.Sum()
            // Rows skipped under --on-bad-row were read and left out with a count, as dropped ones are.
            + _run.Summary.BadRows.Values.Sum();
        string accounting = $"read {AuditText.N(read)} = written {AuditText.N(written)} + dropped {AuditText.N(dropped)}";
        bool accountingOk = read == 0 || read == written + dropped;
        if (!accountingOk)
        {
            countProblems++;
            long diff = read - written - dropped;
            check.Details.Add($"rows read {AuditText.N(read)} ≠ written {AuditText.N(written)} + dropped {AuditText.N(dropped)}: "
                + (diff > 0 ? $"{AuditText.Plural(diff, "row is", "rows are")} unaccounted for" : $"{AuditText.Plural(-diff, "row", "rows")} more than read"));
        }
        check.Violations = across + within + countProblems;
        check.Rows = across + within;
        if (check.Violations == 0)
        {
            check.Status = AuditStatus.Pass;
            check.Message = $"{AuditText.Plural(ids, "row id", "row ids")}, each in exactly one split; {accounting}.";
        }
        else
        {
            check.Status = across > 0 ? AuditStatus.Leak : AuditStatus.Fail;
            check.Message = across > 0
                ? $"{AuditText.Plural(across, "row id is", "row ids are")} in more than one split."
                : within > 0 ? $"{AuditText.Plural(within, "row id is", "row ids are")} written twice within a split."
                : "the row counts do not add up.";
        }
        return check;
    }

    // ---- integrity ----

    private async Task<AuditCheck> IntegrityAsync(DuplicateRows duplicates, CancellationToken ct)
    {
        if (!_options.VerifyShards)
        {
            var skipped = AuditText.Skipped(AuditChecks.Integrity, "--no-verify: shard sizes and SHA-256 were not checked.");
            skipped.Details.AddRange(_integrityProblems);
            if (_integrityViolations > 0) { skipped.Status = AuditStatus.Fail; skipped.Violations = _integrityViolations; skipped.Message = _integrityProblems[0]; }
            return skipped;
        }
        long shards = 0, bytes = 0, records = 0;
        for (int s = 0; s < _names.Count; s++)
        {
            var split = _splits[s];
            var t = _lineage[s];
            // Lineage rows of each shard, by record number.
            var byShard = new Dictionary<int, List<int>>();
            if (t is not null)
            {
                for (int i = 0; i < t.Count; i++)
                {
                    if (!byShard.TryGetValue(t.Shards[i], out var list)) byShard[t.Shards[i]] = list = [];
                    list.Add(i);
                }
                foreach (var list in byShard.Values) list.Sort((a, b) => t.Records[a].CompareTo(t.Records[b]));
                foreach (var (shard, list) in byShard.Where(kv => kv.Key >= split.Shards.Count).OrderBy(kv => kv.Key))
                {
                    Problem($"{_names[s]}: the lineage puts {AuditText.Plural(list.Count, "row", "rows")} in shard {shard}, but run.json lists {AuditText.Plural(split.Shards.Count, "shard", "shards")}.");
                }
            }
            for (int k = 0; k < split.Shards.Count; k++)
            {
                ct.ThrowIfCancellationRequested();
                var shard = split.Shards[k];
                shards++;
                string file = Path.Combine(_root, shard.Path);
                if (!File.Exists(file))
                {
                    Problem($"{shard.Path}: missing (run.json lists {AuditText.Plural(shard.Rows, "record", "records")}, {AuditText.Plural(shard.Bytes, "byte", "bytes")}).");
                    continue;
                }
                var expected = t is null ? null : byShard.GetValueOrDefault(k) ?? [];
                long changed = 0, misnumbered = 0;
                var changedRows = new List<AuditLocation>();
                int shardIndex = k, splitIndex = s;
                var result = await ShardScanner.ScanAsync(file, _hasher!, (record, hash) =>
                {
                    if (expected is null)
                    {
                        duplicates.Add(new RowRef(splitIndex, ((long)shardIndex << 40) | record), hash);
                        return;
                    }
                    if (record >= expected.Count) return;
                    int i = expected[(int)record];
                    if (t!.Records[i] != record) { misnumbered++; return; }
                    if (t.Hashes[i] != hash)
                    {
                        changed++;
                        if (changedRows.Count < _options.MaxExamples) changedRows.Add(Locate(new RowRef(splitIndex, i)));
                    }
                }, ct).ConfigureAwait(false);
                bytes += result.Bytes;
                records += result.Records;
                var issues = new List<string>();
                if (result.Bytes != shard.Bytes) issues.Add($"{AuditText.N(result.Bytes)} bytes, run.json says {AuditText.N(shard.Bytes)}");
                if (!string.Equals(result.Sha256, shard.Sha256, StringComparison.OrdinalIgnoreCase)) issues.Add($"SHA-256 {Short(result.Sha256)}…, run.json says {Short(shard.Sha256)}…");
                if (result.Error is { } error) issues.Add($"unreadable after record {AuditText.N(result.Records)}: {error}");
                if (result.Records != shard.Rows) issues.Add($"{AuditText.Plural(result.Records, "record", "records")}, run.json says {AuditText.N(shard.Rows)}");
                if (expected is not null)
                {
                    if (expected.Count != shard.Rows) issues.Add($"the lineage lists {AuditText.Plural(expected.Count, "record", "records")} for it");
                    if (misnumbered > 0) issues.Add($"the lineage numbers {AuditText.Plural(misnumbered, "record", "records")} out of order or twice");
                    if (changed > 0) issues.Add($"{AuditText.Plural(changed, "record differs", "records differ")} from the lineage's content hash");
                }
                if (issues.Count > 0)
                {
                    string text = $"{shard.Path}: {string.Join("; ", issues)}";
                    Problem(text, changedRows.Count == 0 ? null : new AuditExample
                    {
                        Key = shard.Path,
                        Text = $"{shard.Path}: changed {(changed == 1 ? "record" : "records")} "
                            + string.Join("; ", changedRows.Select(l => $"{l.Record} (row {l.SourceRow} of {Path.GetFileName(l.Source)})"))
                            + (changed > changedRows.Count ? $" and {AuditText.N(changed - changedRows.Count)} more" : ""),
                        Rows = changedRows,
                    });
                }
            }
            UnlistedFiles(s);
        }
        var check = new AuditCheck { Name = AuditChecks.Integrity, Details = [.. _integrityProblems], Examples = [.. _integrityExamples], Violations = _integrityViolations };
        if (_integrityViolations == 0)
        {
            check.Status = AuditStatus.Pass;
            check.Message = $"{AuditText.Plural(shards, "shard", "shards")} ({AuditText.Plural(bytes, "byte", "bytes")}) match run.json (size, SHA-256)"
                + (_lineage.Any(x => x is not null) ? $" and their {AuditText.Plural(records, "record", "records")} match the lineage." : ".");
        }
        else
        {
            check.Status = AuditStatus.Fail;
            check.Message = $"{AuditText.Plural(_integrityViolations, "problem", "problems")}: the files do not match run.json (changed, corrupt, missing or extra files).";
        }
        return check;
    }

    private static string Short(string hex) => hex.Length > 12 ? hex[..12] : hex;

    /// <summary>Files in a split's folder that run.json does not list: a training channel would read them too.</summary>
    private void UnlistedFiles(int s)
    {
        string dir = Path.Combine(_root, _names[s]);
        if (!Directory.Exists(dir)) return;
        var listed = _splits[s].Shards.Select(x => Path.GetFullPath(Path.Combine(_root, x.Path))).ToHashSet(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (listed.Contains(Path.GetFullPath(f))) continue;
            string rel = Path.GetRelativePath(_root, f).Replace('\\', '/');
            Problem($"{rel}: not listed in run.json (a training channel on {_names[s]}/ would read it too).");
        }
    }

    // ---- (b) groups, (c) times ----

    private bool LineageHas(Func<LineageTable, bool> column)
    {
        var present = _lineage.Where(t => t is not null).ToList();
        return present.Count > 0 && present.All(t => column(t!));
    }

    private async Task<(AuditCheck Check, long[]? Counts)> GroupsAsync(CancellationToken ct)
    {
        string? column = _options.GroupColumn;
        string? runColumn = _run.Options!.SplitBy == SplitMethod.Group ? _run.Options.GroupColumn : null;
        bool inLineage = LineageHas(t => t.Groups is not null);
        Func<int, int, string?> key;
        string label;
        if (inLineage && (column is null || column == (runColumn ?? _run.Options.GroupColumn)))
        {
            label = runColumn ?? _run.Options.GroupColumn ?? "group";
            key = (s, i) => _lineage[s]!.Groups![i];
        }
        else if (column is null)
        {
            return (AuditText.Skipped(AuditChecks.GroupOverlap,
                $"the lineage has no group column (a {_report.SplitMethod} split); pass --group COL to look group keys up in the run's inputs."), null);
        }
        else
        {
            var values = await InputValuesAsync(column, isTime: false, ct).ConfigureAwait(false);
            label = column;
            key = (s, i) => values.Groups!.GetValueOrDefault(RowInfo.MakeRowId(_lineage[s]!.Sources[i], _lineage[s]!.SourceRows[i]));
            _report.Notes.Add($"Group keys of {column} were looked up in the run's inputs by (source, source_row).");
        }
        var overlap = new GroupOverlap(_names);
        for (int s = 0; s < _names.Count; s++)
        {
            if (_lineage[s] is not { } t) continue;
            for (int i = 0; i < t.Count; i++) overlap.Add(new RowRef(s, i), key(s, i));
        }
        return (overlap.Result(label, _options.MaxExamples, Locate), overlap.Distinct.ToArray());
    }

    private async Task<(AuditCheck Check, (long Min, long Max)?[]? Ranges)> TimesAsync(CancellationToken ct)
    {
        string? column = _options.TimeColumn;
        string? runColumn = _run.Options!.SplitBy == SplitMethod.Time ? _run.Options.TimeColumn : null;
        bool inLineage = LineageHas(t => t.Times is not null);
        Func<int, int, long> time;
        string label;
        TimeSpan? gap = null;
        if (inLineage && (column is null || column == (runColumn ?? _run.Options.TimeColumn)))
        {
            label = runColumn ?? _run.Options.TimeColumn ?? "time";
            time = (s, i) => _lineage[s]!.Times![i];
            if (runColumn is not null) gap = _run.Options.Gap;
        }
        else if (column is null)
        {
            return (AuditText.Skipped(AuditChecks.TimeOverlap,
                $"the lineage has no time column (a {_report.SplitMethod} split); pass --time COL to look times up in the run's inputs."), null);
        }
        else
        {
            var values = await InputValuesAsync(column, isTime: true, ct).ConfigureAwait(false);
            label = column;
            time = (s, i) => values.Times!.GetValueOrDefault(RowInfo.MakeRowId(_lineage[s]!.Sources[i], _lineage[s]!.SourceRows[i]), long.MinValue);
            _report.Notes.Add($"Times of {column} were looked up in the run's inputs by (source, source_row).");
        }
        var overlap = new TimeOverlap(_names, _options.MaxExamples);
        for (int s = 0; s < _names.Count; s++)
        {
            if (_lineage[s] is not { } t) continue;
            for (int i = 0; i < t.Count; i++)
            {
                long ticks = time(s, i);
                if (ticks == long.MinValue) overlap.AddMissing(s);
                else overlap.Add(new RowRef(s, i), ticks);
            }
        }
        var ranges = Enumerable.Range(0, _names.Count)
            .Select(s => overlap.Min(s) is { } min ? ((long, long)?)(min, overlap.Max(s)!.Value) : null).ToArray();
        return (overlap.Result(label, Locate, gap), ranges);
    }

    private sealed record InputValues(Dictionary<long, string?>? Groups, Dictionary<long, long>? Times);

    /// <summary>
    /// Reads one column of the run's inputs, keyed by stable row id (source, source row), for a group or time
    /// column the lineage does not carry. The inputs must exist and be unchanged (their XxHash3 as in run.json).
    /// </summary>
    private async Task<InputValues> InputValuesAsync(string column, bool isTime, CancellationToken ct)
    {
        string option = isTime ? "--time" : "--group";
        string why = $"{option} {column}: the lineage has no {(isTime ? "time" : "group")} column for it and label-first output files carry no column names, so the values are looked up in the run's inputs";
        if (_lineage.All(t => t is null)) throw new PipelineValidationException($"{why}; but the run has no lineage (written with --no-lineage) to map output rows to input rows.");
        if (_run.Inputs.Count == 0) throw new PipelineValidationException($"{why}; but run.json lists no inputs.");
        var groups = isTime ? null : new Dictionary<long, string?>();
        var times = isTime ? new Dictionary<long, long>() : null;
        var sourceOptions = _run.Options!.Source;
        for (int i = 0; i < _run.Inputs.Count; i++)
        {
            var input = _run.Inputs[i];
            if (!File.Exists(input.Path))
            {
                throw new DataFormatException($"{why}; but input {i}, '{input.Path}', does not exist (paths in run.json are as given to convert: run the audit from the same folder).");
            }
            if (!string.IsNullOrEmpty(input.XxHash3))
            {
                var now = InputFingerprint.Of(input.Path);
                if (!string.Equals(now.XxHash3, input.XxHash3, StringComparison.OrdinalIgnoreCase))
                {
                    throw new DataFormatException($"{why}; but '{input.Path}' changed since the run (XxHash3 {now.XxHash3}, run.json says {input.XxHash3}).");
                }
            }
            var source = _registry.Sources.Create(input.Path, sourceOptions);
            var schema = await source.OpenAsync(ct).ConfigureAwait(false);
            int index = schema.IndexOf(column);
            if (index < 0)
            {
                throw new PipelineValidationException($"{option} names column '{column}', which the run's input '{input.Path}' does not have (its columns: {string.Join(", ", schema.Fields.Select(f => f.Name))}).");
            }
            FileAudit.CheckKind(schema[index], option, input.Path, isTime);
            await foreach (var batch in source.ReadAsync(i, ct).ConfigureAwait(false))
            {
                var col = batch.Columns[index];
                for (int r = 0; r < batch.RowCount; r++)
                {
                    long id = RowInfo.MakeRowId(batch.Rows.Sources[r], batch.Rows.SourceRows[r]);
                    if (groups is not null) groups[id] = CanonicalValues.Text(col, r);
                    else times![id] = FileAudit.ReadTime(col, r, input.Path, batch.Rows.SourceRows[r], column);
                }
            }
        }
        return new InputValues(groups, times);
    }
}

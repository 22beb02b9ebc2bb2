#!/usr/bin/env python3
"""A model of a scaled-out run's S3 traffic, checked against W4 and projected to 1 TB (docs/scale.md).

  python3 bench/w4-project.py [RUNS_DIR]     (default bench/work/w4/runs: a W4 run's files, for the check)

Bytes per row are those W4 measured for its data (51 numeric columns, 452.6 bytes of CSV a row, RecordIO-protobuf,
lineage on, random 80/10/10 split, planned by cuts: no routing). Request counts follow the code (src/DataPrep.Core/Scale/ScaleTasks*.cs,
ScaleRun.cs, src/DataPrep.S3/S3WorkArea.cs, S3InputFileSystem.cs, S3OutputStore.cs); the first table compares
them with what the counting proxy saw in W4, the second evaluates them for 1 TB on 64 workers.
"""
import json, math, os, sys

MiB = 1 << 20
FIRST = 1 * MiB          # S3ReadStream: ranged GETs of 1, 2, 4 MiB from an open or a seek, then
BLOCK = 8 * MiB          # blocks of 8 MiB, each with the next fetched ahead
STATE = 512              # an opened CSV input's shared state (SharedOpens): names and kinds of ~51 columns, a few numbers
INFER_ROWS = 10000       # --infer-rows: a CSV schema sample's rows (plus up to 1 MiB that the reader buffers)
WORK_PART = 64 * MiB     # S3WorkArea: single PUT up to 64 MiB, else multipart in 64 MiB parts
OUT_PART = 16 * MiB      # S3OutputStore: --part-size default
SHARD = 64 * MiB         # --shard-size default
SPLITS = {"train": 0.8, "validation": 0.1, "test": 0.1}

# Measured in W4 (bench/results/scale.md, 2026-12-03, rows objects 2026-12-07; object sizes / rows): bytes per row.
# Not modelled: the extra GETs of scan tasks that start reading a file in its middle (CSV byte ranges, since stop 46:
# W4's 8 files of 268 MB are 72 ranges of 32 MB; 382 GETs seen where the model counts 376).
CSV_ROW = 2147512746 / 4744480   # input
ROWS_OBJ = 228.0                 # scan's bucket objects: float32 features (RecordIO-protobuf's rows objects) + label and row info (W4 of 2026-12-07)
KEYS = 20.0                      # scan's plan columns (row ids + row info), written when the plan reads key columns
IDS = 8.0                        # scan's row ids in 256 sections by split hash (ScaleRun.CutsFromIdSections: W4's case)
SECTIONS = 256                   # IdSections.Count
CUTS = 2                         # 80/10/10: the plan reads the sections that hold its two cuts
ROUTING = 17.0                   # plan's routing: id, split tag, rank
DATA = 248.0                     # RecordIO-protobuf record (50 float32 features, label)
ENDS = 8.0                       # record ends
LINEAGE_SEG = 47.7               # encode's lineage lines (without shard and record numbers)
LINEAGE = 47.3                   # write's lineage parts and the output sidecar
LINEAGE_HEADER = 70              # the sidecar's header line
BINS = 8 * 65536                 # a scan task's histogram of split hashes (RandomSplitCuts.Bins longs)

# S3 Standard request prices, us-east-1 list prices as of 2026 (they may change).
TIER1 = 0.005 / 1000   # PUT, COPY, POST, LIST
TIER2 = 0.0004 / 1000  # GET, HEAD (and most other requests); DELETE is free

def put(size, part=WORK_PART):
    """Requests for writing one object of `size` bytes: one PUT, or initiate + parts + complete."""
    if size <= part:
        return {"PUT": 1}
    return {"POST": 2, "PUT part": math.ceil(size / part)}

def ramp(need, size):
    """(GETs, bytes) S3ReadStream fetches from an object of `size` bytes for a reader that stops after `need` bytes:
    blocks of 1, 2, 4 MiB, then BLOCK; loading a BLOCK-sized block fetches the next one ahead."""
    gets = got = nominal = 0
    block = FIRST
    need = min(need, size)
    while got < need:
        gets += 1; got += min(block, size - got)
        nominal, block = block, min(BLOCK, 2 * block)
    if nominal == BLOCK and got < size:
        gets += 1; got += min(BLOCK, size - got)  # fetched ahead, never read
    return gets, got

def add(into, more, times=1):
    for k, v in more.items():
        into[k] = into.get(k, 0) + v * times
    return into

def shards(records, size):
    """Shard k's first record under the size rule (shard = floor((end - 1) / M)), equal records of `size` bytes."""
    n = math.ceil(records * size / SHARD)
    return [math.ceil((k * SHARD + 1) / size) - 1 for k in range(n)] + [records]

def compose(header, sizes, min_part=5 * MiB, max_copy=512 * MiB):
    """S3Compose.Plan (src/DataPrep.S3/S3Compose.cs): (parts uploaded from bytes read here, parts copied on the server,
    bytes read here) for one object built from a header and other objects."""
    uploaded = copied = read = 0
    pending = header
    if pending >= min_part:
        uploaded += 1; pending = 0
    for size in sizes:
        offset = 0
        if pending > 0:
            take = min(size, min_part - pending)
            pending += take; read += take; offset = take
            if pending >= min_part:
                uploaded += 1; pending = 0
        rest = size - offset
        if rest == 0:
            continue
        if pending == 0 and rest >= min_part:
            copied += math.ceil(rest / max_copy)
        else:
            pending += rest; read += rest
    if pending > 0:
        uploaded += 1
    return uploaded, copied, read

def model(D, N, F):
    R = D / CSV_ROW
    S = D / F
    blocks, _ = ramp(S, S)
    lists = math.ceil(F / 1000)
    # Every task lists the inputs and HEADs each one for the run's fingerprint (ScaleWork.FingerprintOf, 16 at a time);
    # the listing gives each object's size and ETag, so opening one sends no HEAD. Only scan tasks open the inputs for
    # a schema sample: 10,000 rows and what the reader buffers, in blocks of 1, 2, 4 MiB.
    # Since stop 49 the scan tasks share what opening each input learned (SharedOpens, the object FP/opened/INPUT): a task
    # GETs every input's state and samples (and PUTs the state of) only the inputs of its own share, when the tasks start
    # together; a task that runs before the others samples more. The model takes each input sampled once.
    sample_gets, sample_bytes = ramp(INFER_ROWS * CSV_ROW + MiB, S)
    sample_req = {"LIST": lists, "HEAD": F, "GET": F + F / N * sample_gets, "PUT": F / N}
    sample_down = F / N * sample_bytes + F * STATE
    finger_req = {"LIST": lists, "HEAD": F}
    steps = {}

    req = add({}, sample_req, N)
    add(req, {"LIST": 1})                                   # task 0: the output must take the run
    add(req, {"GET": F * blocks})                           # own share: every file once
    add(req, put(IDS * R / N), N)                           # row ids by split-hash section (no key column to fit on)
    add(req, put(BINS), N)                                  # histogram of split hashes (a shuffled random split)
    add(req, put(ROWS_OBJ * R / N / N), N * N)
    add(req, {"PUT": 1}, N)                                 # completion marker
    steps["scan"] = dict(tasks=N, req=req, down=N * sample_down + D, up=(IDS + ROWS_OBJ) * R + N * BINS)

    # Plan (cuts of a shuffled random split, docs/scale.md §4): every scan task's histogram, then of every scan task the
    # sections of row ids that hold a cut (one ranged GET each; one pass: a cut's bin holds far fewer rows than the
    # plan may keep), no routing.
    req = add({}, finger_req)
    add(req, {"GET": 2 * N + CUTS * N})                     # scan markers, histograms, sections
    add(req, {"PUT": 1})
    steps["plan"] = dict(tasks=1, req=req, down=CUTS * IDS * R / SECTIONS + N * BINS, up=0)

    req = add({}, finger_req, N)
    add(req, {"GET": N + 1 + N}, N)                         # scan markers, the plan's report, the bucket's object from every scan task
    for f in SPLITS.values():
        for per_row in (DATA, ENDS, LINEAGE_SEG):
            add(req, put(per_row * R * f / N), N)
    add(req, {"PUT": 1}, N)
    steps["encode"] = dict(tasks=N, req=req, down=ROWS_OBJ * R, up=(DATA + ENDS + LINEAGE_SEG) * R)

    req = add({}, finger_req, N)
    add(req, {"GET": N}, N)                                 # encode markers
    n_shards = 0
    cross_bytes = 0
    lineage_parts = {}                                      # per split: each write task's lineage part (its shards' records)
    for split, f in SPLITS.items():
        records = round(R * f)
        cuts = shards(records, DATA)
        n_shards += len(cuts) - 1
        for k in range(len(cuts) - 1):
            add(req, put((cuts[k + 1] - cuts[k]) * DATA))  # one object per shard
        per_task = records / N
        for t in range(N):
            first, end = round(t * per_task), round((t + 1) * per_task)
            starts = [c for c in cuts[:-1] if first <= c < end]
            owned = sum(cuts[cuts.index(c) + 1] - c for c in starts)
            lineage_parts.setdefault(split, []).append(owned * LINEAGE)
            # The task reads from its segment up to the end of its last shard (or the first record of the next shard).
            last = cuts[cuts.index(starts[-1]) + 1] - 1 if starts else next(c for c in cuts if c >= end)
            last = min(last, records - 1)
            opened = min(N - 1, int(last // per_task)) - t + 1
            add(req, {"GET": 3 * opened, "LIST": opened})   # data, ends, lineage of each segment; a LIST for the lineage
            cross_bytes += max(0, last + 1 - end) * (DATA + ENDS + LINEAGE_SEG)
        add(req, {"PUT": 1}, N)                              # lineage part per task
    add(req, {"PUT": 1}, N)
    steps["write"] = dict(tasks=N, req=req, down=(DATA + ENDS + LINEAGE_SEG) * R + cross_bytes, up=(DATA + LINEAGE) * R)

    # Commit: each shard copied on the server (a HEAD for its size before, one that checks its CRC-32C after), several
    # at a time; each channel's lineage composed on the server from the write tasks' parts (S3Compose), its header
    # topped up to a 5 MiB part from the first part's start.
    req = add({}, finger_req)
    add(req, {"LIST": 1})                                   # the output's listing
    add(req, {"GET": 3 * N + 2})                            # markers of scan, plan, encode, write; the commit's own start
    add(req, {"PUT": 1})                                    # the commit's start marker
    add(req, {"HEAD": 2 * n_shards, "COPY": n_shards})
    read_here = 0
    for split in SPLITS:
        uploaded, copied, read = compose(LINEAGE_HEADER, lineage_parts[split])
        add(req, {"HEAD": N, "POST": 2, "PUT part": uploaded, "COPY part": copied, "GET": 1 if read else 0})
        read_here += read
    add(req, {"PUT": 5, "HEAD": 9})                         # 3 ManifestFiles, channels.json, run.json; the store HEADs what it wrote (run.json twice)
    steps["commit"] = dict(tasks=1, req=req, down=read_here, up=read_here + LINEAGE_HEADER * 3, shards=n_shards, copied=DATA * R,
                           lineage=LINEAGE * R)
    return steps, R

def tiers(req):
    t1 = sum(v for k, v in req.items() if k in ("PUT", "PUT part", "POST", "COPY", "LIST"))
    t2 = sum(v for k, v in req.items() if k in ("GET", "HEAD"))
    return t1, t2

def fmt(req):
    return ", ".join(f"{k} {v:,.0f}" for k, v in sorted(req.items(), key=lambda kv: -kv[1]))

# ---- check against W4
runs = sys.argv[1] if len(sys.argv) > 1 else "bench/work/w4/runs"
if os.path.exists(os.path.join(runs, "s3-commit.json")):
    D, N, F = (int(x) for x in open(os.path.join(runs, "params.txt")).read().split())
    steps, _ = model(D, N, F)
    print(f"Check: the model at W4's point (D = {D} bytes, N = {N}, F = {F}) against the proxy's counts in {runs}")
    print()
    print("| step | model: requests | W4: requests | model MB down / up | W4 MB down / up |")
    print("| --- | --- | --- | ---: | ---: |")
    for name, s in steps.items():
        got = json.load(open(os.path.join(runs, f"s3-{name}.json")))
        seen = {k: v["requests"] for k, v in got.items()}
        down = sum(v["down"] for v in got.values()) / 1e6
        up = sum(v["up"] for v in got.values()) / 1e6
        print(f"| {name} | {fmt(s['req'])} | {fmt(seen)} | {s['down'] / 1e6:,.0f} / {s['up'] / 1e6:,.0f} | {down:,.0f} / {up:,.0f} |")
    print()

# ---- projection
D, N, F, RATE = 1e12, 64, 1024, 100e6
steps, R = model(D, N, F)
print(f"Projection: D = 1 TB of CSV ({R / 1e9:.2f} billion rows of {CSV_ROW:.0f} bytes), {F} input files of {D / F / 1e6:.0f} MB, "
      f"N = {N} workers, {RATE / 1e6:.0f} MB/s of S3 traffic (down + up) per worker")
print()
print("| step | tasks | GB down / up per task | wall at 100 MB/s (min) | requests (all tasks) | PUT/COPY/POST/LIST | GET/HEAD | cost ($) |")
print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
total_t1 = total_t2 = total_wall = 0
for name, s in steps.items():
    n = s["tasks"]
    down, up = s["down"] / n, s["up"] / n
    wall = (down + up) / RATE
    t1, t2 = tiers(s["req"])
    cost = t1 * TIER1 + t2 * TIER2
    total_t1 += t1; total_t2 += t2; total_wall += wall
    print(f"| {name} | {n} | {down / 1e9:,.2f} / {up / 1e9:,.2f} | {wall / 60:,.1f} | {fmt(s['req'])} | {t1:,.0f} | {t2:,.0f} | {cost:,.2f} |")
print(f"| **all** | | | **{total_wall / 60:,.0f}** | | {total_t1:,.0f} | {total_t2:,.0f} | **{total_t1 * TIER1 + total_t2 * TIER2:,.2f}** |")
print()
sample_gets, sample_bytes = ramp(INFER_ROWS * CSV_ROW + MiB, D / F)
open_gb = F / N * sample_bytes / 1e9
print(f"- Schema samples: each of the {N} scan tasks samples the {F // N} inputs of its share ({open_gb:.2f} GB: {sample_bytes / MiB:.0f} MiB in "
      f"{sample_gets} GETs each) and takes the other inputs' opened states ({F:,} GETs of {STATE} bytes): {N * open_gb / 1e3:,.3f} TB in all "
      f"(every task sampled every input before stop 49: {N * F * sample_bytes / 1e12:,.2f} TB), {open_gb * 1e9 / RATE / 60:.2f} min of the scan's "
      f"wall; the other steps take the schema from scan task 0's report.")
c = steps["commit"]
COPY_CONCURRENCY = 64  # --copy-concurrency's default: shards copied at the same time (8 before stop 49, --upload-concurrency)
lo, hi = (c["shards"] * t / COPY_CONCURRENCY / 60 for t in (0.3, 1.0))
print(f"- Commit: {c['shards']:,} shards copied on the server ({c['copied'] / 1e12:.2f} TB), {COPY_CONCURRENCY} at a time: "
      f"{lo:,.0f}–{hi:,.0f} min at an assumed 0.3–1 s per 64 MiB copy (not in the wall above); the lineage "
      f"({c['lineage'] / 1e9:,.0f} GB) is composed on the server, only {c['down'] / 1e6:,.0f} MB pass through the task.")
w = (IDS + ROWS_OBJ + DATA + ENDS + LINEAGE_SEG + DATA + LINEAGE) * R + N * BINS
print(f"- Work area written: {w / 1e12:.2f} TB ({w / D:.2f} per input byte).")

#!/usr/bin/env python3
"""A model of a scaled-out run's S3 traffic, checked against W4 and projected to 1 TB (docs/scale.md).

  python3 bench/w4-project.py [RUNS_DIR]     (default bench/work/w4/runs: a W4 run's files, for the check)

Bytes per row are those W4 measured for its data (51 numeric columns, 452.6 bytes of CSV a row, RecordIO-protobuf,
lineage on, random 80/10/10 split). Request counts follow the code (src/DataPrep.Core/Scale/ScaleTasks.cs,
ScaleRun.cs, src/DataPrep.S3/S3WorkArea.cs, S3InputFileSystem.cs, S3OutputStore.cs); the first table compares
them with what the counting proxy saw in W4, the second evaluates them for 1 TB on 64 workers.
"""
import json, math, os, sys

MiB = 1 << 20
BLOCK = 8 * MiB          # S3ReadStream: ranged GETs of 8 MiB, the next block fetched ahead
WORK_PART = 64 * MiB     # S3WorkArea: single PUT up to 64 MiB, else multipart in 64 MiB parts
OUT_PART = 16 * MiB      # S3OutputStore: --part-size default
SHARD = 64 * MiB         # --shard-size default
SPLITS = {"train": 0.8, "validation": 0.1, "test": 0.1}

# Measured in W4 (bench/results/scale.md, 2026-12-03; object sizes / rows): bytes per row.
CSV_ROW = 2147512746 / 4744480   # input
ROWS_OBJ = 428.0                 # scan's bucket objects: 8 bytes a column + 20 (row info)
KEYS = 20.0                      # scan's plan columns (row ids + row info; a random split needs no key column)
ROUTING = 17.0                   # plan's routing: id, split tag, rank
DATA = 248.0                     # RecordIO-protobuf record (50 float32 features, label)
ENDS = 8.0                       # record ends
LINEAGE_SEG = 47.7               # encode's lineage lines (without shard and record numbers)
LINEAGE = 47.3                   # write's lineage parts and the output sidecar

# S3 Standard request prices, us-east-1 list prices as of 2026 (they may change).
TIER1 = 0.005 / 1000   # PUT, COPY, POST, LIST
TIER2 = 0.0004 / 1000  # GET, HEAD (and most other requests); DELETE is free

def put(size, part=WORK_PART):
    """Requests for writing one object of `size` bytes: one PUT, or initiate + parts + complete."""
    if size <= part:
        return {"PUT": 1}
    return {"POST": 2, "PUT part": math.ceil(size / part)}

def add(into, more, times=1):
    for k, v in more.items():
        into[k] = into.get(k, 0) + v * times
    return into

def shards(records, size):
    """Shard k's first record under the size rule (shard = floor((end - 1) / M)), equal records of `size` bytes."""
    n = math.ceil(records * size / SHARD)
    return [math.ceil((k * SHARD + 1) / size) - 1 for k in range(n)] + [records]

def model(D, N, F):
    R = D / CSV_ROW
    S = D / F
    blocks = math.ceil(S / BLOCK)
    lists = math.ceil(F / 1000)
    # Every task opens every input (schema sample; the first block and the one fetched ahead), and HEADs it twice.
    open_req = {"LIST": lists, "HEAD": 2 * F, "GET": F * min(2, blocks)}
    open_down = F * min(2 * BLOCK, S)
    steps = {}

    req = add({}, open_req, N)
    add(req, {"LIST": 1})                                   # task 0: the output must take the run
    add(req, {"HEAD": 2 * F, "GET": F * blocks})            # own share: every file once
    add(req, put(KEYS * R / N), N)
    add(req, put(ROWS_OBJ * R / N / N), N * N)
    add(req, {"PUT": 1}, N)                                 # completion marker
    steps["scan"] = dict(tasks=N, req=req, down=N * open_down + D, up=(KEYS + ROWS_OBJ) * R)

    req = add({}, open_req)
    add(req, {"GET": 2 * N})                                # scan markers, key columns
    add(req, put(ROUTING * R / N), N)
    add(req, {"PUT": 1})
    steps["plan"] = dict(tasks=1, req=req, down=open_down + KEYS * R, up=ROUTING * R)

    req = add({}, open_req, N)
    add(req, {"GET": N + 2 + N}, N)                         # markers, routing, the bucket's object from every scan task
    for f in SPLITS.values():
        for per_row in (DATA, ENDS, LINEAGE_SEG):
            add(req, put(per_row * R * f / N), N)
    add(req, {"PUT": 1}, N)
    steps["encode"] = dict(tasks=N, req=req, down=N * open_down + (ROWS_OBJ + ROUTING) * R, up=(DATA + ENDS + LINEAGE_SEG) * R)

    req = add({}, open_req, N)
    add(req, {"GET": N}, N)                                 # encode markers
    n_shards = 0
    cross_bytes = 0
    for f in SPLITS.values():
        records = round(R * f)
        cuts = shards(records, DATA)
        n_shards += len(cuts) - 1
        for k in range(len(cuts) - 1):
            add(req, put((cuts[k + 1] - cuts[k]) * DATA))  # one object per shard
        per_task = records / N
        for t in range(N):
            first, end = round(t * per_task), round((t + 1) * per_task)
            starts = [c for c in cuts[:-1] if first <= c < end]
            # The task reads from its segment up to the end of its last shard (or the first record of the next shard).
            last = cuts[cuts.index(starts[-1]) + 1] - 1 if starts else next(c for c in cuts if c >= end)
            last = min(last, records - 1)
            opened = min(N - 1, int(last // per_task)) - t + 1
            add(req, {"GET": 3 * opened, "LIST": opened})   # data, ends, lineage of each segment; a LIST for the lineage
            cross_bytes += max(0, last + 1 - end) * (DATA + ENDS + LINEAGE_SEG)
        add(req, {"PUT": 1}, N)                              # lineage part per task
    add(req, {"PUT": 1}, N)
    steps["write"] = dict(tasks=N, req=req, down=N * open_down + (DATA + ENDS + LINEAGE_SEG) * R + cross_bytes, up=(DATA + LINEAGE) * R)

    req = add({}, open_req)
    add(req, {"HEAD": 8, "LIST": 1})                         # the store checks each object it writes; the output's listing
    add(req, {"GET": 3 * N + 1 + 3 * N})                    # markers; every write task's lineage part of each channel
    add(req, {"HEAD": n_shards, "COPY": n_shards})          # server-side copy of each shard (one at a time)
    for f in SPLITS.values():
        add(req, put(LINEAGE * R * f, OUT_PART))
    add(req, {"PUT": 5})                                    # 3 ManifestFiles, channels.json, run.json (+ 3 lineage sidecars: 8 HEADs)
    steps["commit"] = dict(tasks=1, req=req, down=open_down + LINEAGE * R, up=LINEAGE * R, shards=n_shards, copied=DATA * R)
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
    print(f"| {name} | {n} | {down / 1e9:,.1f} / {up / 1e9:,.1f} | {wall / 60:,.1f} | {fmt(s['req'])} | {t1:,.0f} | {t2:,.0f} | {cost:,.2f} |")
print(f"| **all** | | | **{total_wall / 60:,.0f}** | | {total_t1:,.0f} | {total_t2:,.0f} | **{total_t1 * TIER1 + total_t2 * TIER2:,.2f}** |")
print()
open_gb = F * min(2 * BLOCK, D / F) / 1e9
tasks = sum(s["tasks"] for s in steps.values())
print(f"- Schema samples: every one of the {tasks} tasks reads {open_gb:.1f} GB ({F} × 16 MiB) before its work: "
      f"{tasks * open_gb / 1e3:,.2f} TB in all, {open_gb * 1e9 / RATE / 60:.1f} min per task at 100 MB/s.")
c = steps["commit"]
print(f"- Commit: {c['shards']:,} shards copied server-side ({c['copied'] / 1e12:.2f} TB, one CopyObject at a time, not in the wall above); "
      f"lineage {LINEAGE * R / 1e9:,.0f} GB read and written again by the one task.")
w = (KEYS + ROWS_OBJ + ROUTING + DATA + ENDS + LINEAGE_SEG + DATA + LINEAGE) * R
print(f"- Work area written: {w / 1e12:.2f} TB ({w / D:.2f} per input byte).")

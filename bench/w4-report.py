#!/usr/bin/env python3
"""Markdown tables of bench/scale.sh W4 from the files it leaves in its folder:

  w4-report.py DIR INPUT_BYTES

  DIR/steps.tsv      STEP TASKS WALL_S SERVER_CPU_S    (one line per step of the scale-out, in order; moto + proxy CPU)
  DIR/tasks.tsv      STEP TASK WALL_S PEAK_KIB CPU_S EXIT   (one line per task process; CPU = user + system)
  DIR/one.tsv        WALL_S PEAK_KIB CPU_S EXIT SERVER_CPU_S (the one-process run)
  DIR/s3-STEP.json   the counting proxy's counts during that step (s3-one.json: the one-process run)
  DIR/work.json      the work area's objects and bytes by step after the commit (--keep-work)
"""
import json, os, sys

folder, input_bytes = sys.argv[1], int(sys.argv[2])
MB = 1e6
TIER1 = ("PUT", "PUT part", "COPY", "COPY part", "POST", "LIST")   # $0.005 per 1,000 (us-east-1 S3 Standard)
TIER2 = ("GET", "HEAD")                                            # $0.0004 per 1,000; DELETE is free

def rows(name):
    with open(os.path.join(folder, name)) as f:
        return [line.split() for line in f if line.strip()]

def counts(name):
    path = os.path.join(folder, f"s3-{name}.json")
    return json.load(open(path)) if os.path.exists(path) else {}

def describe(c):
    return ", ".join(f"{op} {v['requests']}" for op, v in sorted(c.items(), key=lambda kv: -kv[1]["requests"])) or "-"

def total(c, key, ops=None):
    return sum(v[key] for op, v in c.items() if ops is None or op in ops)

steps = rows("steps.tsv")
tasks = rows("tasks.tsv")
work = json.load(open(os.path.join(folder, "work.json"))) if os.path.exists(os.path.join(folder, "work.json")) else {}
one = rows("one.tsv")[0]

print("| step | tasks | step wall (s) | task wall min–max (s) | CPU s: tasks / moto + proxy | task peak RSS max (MiB) | S3 requests | PUT/COPY/POST/LIST | GET/HEAD | MB up | MB down | work area written: MB (per input byte) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
sum_cpu = sum_server = 0.0
sum_wall = 0.0
all_counts = {}
for step, n, wall, server in steps:
    mine = [t for t in tasks if t[0] == step]
    walls = [float(t[2]) for t in mine]
    peak = max(int(t[3]) for t in mine) / 1024
    cpu = sum(float(t[4]) for t in mine)
    sum_cpu += cpu
    sum_server += float(server)
    c = counts(step)
    for op, v in c.items():
        a = all_counts.setdefault(op, {"requests": 0, "up": 0, "down": 0})
        for k in a: a[k] += v[k]
    sum_wall += float(wall)
    w = work.get(step, {"bytes": 0})["bytes"]
    written = f"{w / MB:.0f} ({w / input_bytes:.2f})" if step in work else "0"
    print(f"| {step} | {n} | {float(wall):.1f} | {min(walls):.1f}–{max(walls):.1f} | {cpu:.1f} / {float(server):.1f} | {peak:.0f} | {describe(c)} | {total(c, 'requests', TIER1)} | {total(c, 'requests', TIER2)} | {total(c, 'up') / MB:.0f} | {total(c, 'down') / MB:.0f} | {written} |")
wb = sum(v["bytes"] for v in work.values())
wo = sum(v["objects"] for v in work.values())
print(f"| **all steps** | | **{sum_wall:.1f}** | | {sum_cpu:.1f} / {sum_server:.1f} | | {describe(all_counts)} | {total(all_counts, 'requests', TIER1)} | {total(all_counts, 'requests', TIER2)} | {total(all_counts, 'up') / MB:.0f} | {total(all_counts, 'down') / MB:.0f} | {wb / MB:.0f} ({wb / input_bytes:.2f}) in {wo} objects |")
c1 = counts("one")
print(f"| one process | 1 | {float(one[0]):.1f} | | {float(one[2]):.1f} / {float(one[4]):.1f} | {int(one[1]) / 1024:.0f} | {describe(c1)} | {total(c1, 'requests', TIER1)} | {total(c1, 'requests', TIER2)} | {total(c1, 'up') / MB:.0f} | {total(c1, 'down') / MB:.0f} | — |")
print()
print(f"- Scale-out / one process wall: **{sum_wall / float(one[0]):.2f}** ({sum_wall:.1f} s vs {float(one[0]):.1f} s; input {input_bytes / MB:.0f} MB: "
      f"{input_bytes / MB / sum_wall:.1f} MB/s vs {input_bytes / MB / float(one[0]):.1f} MB/s); CPU of all tasks / one process: {sum_cpu / float(one[2]):.2f}.")
if "done" in work:
    print(f"- Completion markers (task reports, FP/done/…): {work['done']['objects']} objects, {work['done']['bytes'] / 1e3:.0f} kB; counted in the step that wrote them.")
print()
print("Per task (GNU time: wall, CPU = user + system, peak RSS):")
print()
print("| step | task | wall (s) | CPU (s) | peak RSS (MiB) | exit |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for step, task, wall, kib, cpu, code in tasks:
    print(f"| {step} | {task} | {float(wall):.1f} | {float(cpu):.1f} | {int(kib) / 1024:.0f} | {code} |")

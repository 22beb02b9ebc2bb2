#!/usr/bin/env bash
# BenchmarkDotNet micro-benchmarks of the hot paths (bench/micro): CSV field scan and read, float parse and format,
# label-first CSV and RecordIO-protobuf encode, hash shuffle and split, Parquet decode.
#
#   bash bench/micro.sh                      (from the repo root or anywhere; about 5-10 minutes)
#   MICRO_QUICK=1 bash bench/micro.sh        (each benchmark once, in this process: about a minute, rough numbers)
#   bash bench/micro.sh --filter '*Parquet*' (further arguments go to BenchmarkDotNet)
#
# Environment:
#   MICRO_QUICK=1      BenchmarkDotNet's dry job in-process (one invocation each): checks that everything runs
#   MICRO_ROWS=65536   rows of the W1-shaped input (bench/gen-numeric.mjs); one operation = the whole file
#   MICRO_JOB=short    the BenchmarkDotNet job otherwise (short: 1 launch, 3 warm-up and 3 measured iterations)
#   MICRO_OUT_OF_PROCESS=1  run each benchmark class in its own process, as BenchmarkDotNet does by default: it then
#                      builds a runner project (every project again, several minutes on a busy 2-core machine; the
#                      build timeout is raised to 15 minutes). Default: in this process (InProcessEmitToolchain).
#
# Writes BenchmarkDotNet's reports to bench/work/micro/results/ (markdown, CSV, JSON) and prints the summary table.
# The machine's CPU idle share over 2 s is printed first: on a shared machine, read the table with it.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH/.." && pwd)"
cd "$REPO"
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

QUICK="${MICRO_QUICK:-0}"
ROWS="${MICRO_ROWS:-65536}"
JOB="${MICRO_JOB:-short}"
WORK=bench/work/micro
INPUT=$WORK/numeric-$ROWS.csv
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || { echo "micro.sh: MICRO_ROWS must be a positive integer" >&2; exit 2; }
command -v node >/dev/null || { echo "micro.sh: node is needed (bench/gen-numeric.mjs writes the input)" >&2; exit 2; }
mkdir -p "$WORK"


echo "== machine: $(nproc) CPUs, $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)"
echo "== CPU idle before the benchmarks: $(cpu_idle_pct)%; load average (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== input: $INPUT ($ROWS rows of W1's shape)"
node bench/gen-numeric.mjs --out "$INPUT" --rows "$ROWS" > /dev/null

echo "== building bench/micro (Release)"
dotnet build bench/micro/DataPrep.Micro.csproj -c Release -nologo -v quiet

args=(--filter '*' --artifacts "$WORK/results")
if [[ $QUICK == 1 ]]; then
  args+=(--job dry --inProcess)
elif [[ ${MICRO_OUT_OF_PROCESS:-0} == 1 ]]; then
  args+=(--job "$JOB" --buildTimeout 900)
else
  # In-process: the default runner rebuilds every project first, which exceeded BenchmarkDotNet's 2-minute build
  # timeout on this shared machine; the measurement itself (pilot, warm-up, iterations) is the same.
  args+=(--job "$JOB" --inProcess)
fi
status=0
DATAPREP_MICRO_INPUT="$REPO/$INPUT" dotnet bench/micro/bin/Release/net10.0/DataPrep.Micro.dll "${args[@]}" "$@" || status=$?

echo "== CPU idle after the benchmarks: $(cpu_idle_pct)%; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== reports: $WORK/results/results/"
exit "$status"

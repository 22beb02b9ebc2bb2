#!/usr/bin/env bash
# Fuzzes every reader (CSV, CSV.gz, JSON Lines, LibSVM, Parquet, RecordIO-protobuf, image RecordIO, PNG/JPEG) with
# mutated seed files: 100,000 cases per reader by default, each read as `dataprep convert` / `inspect` reads it, with a
# 10 s timeout and a 64 MB allocation budget per case. Findings (foreign exceptions, hangs, allocations over the
# budget) are saved under artifacts/fuzz-findings/ as READER-seedS-caseN-OUTCOME.bin + .txt; replay one with
#   dotnet tools/fuzz/DataPrep.Fuzz/bin/Release/net10.0/DataPrep.Fuzz.dll --reader READER --replay FILE.bin
# Usage: tools/fuzz.sh [CASES] [SEED] [JOBS]    (JOBS readers run at once, in separate processes; default 2)
# Exit 0 when no reader had a finding. See docs/reliability.md#fuzzing for the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-100000}
seed=${2:-1}
jobs=${3:-2}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tools/fuzz/DataPrep.Fuzz -c Release -nologo -v quiet
fuzz=tools/fuzz/DataPrep.Fuzz/bin/Release/net10.0/DataPrep.Fuzz.dll
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
start=$(date +%s)
readers=(csv csv-gz jsonl libsvm parquet recordio-protobuf image-recordio image)
# One process per reader: the allocation check counts the whole process, so each reads one case at a time alone.
printf '%s\n' "${readers[@]}" | xargs -P "$jobs" -I{} sh -c \
  'dotnet "$0" --reader {} --cases "$1" --seed "$2" > "$3/{}.log" 2>&1; echo $? > "$3/{}.rc"' "$fuzz" "$cases" "$seed" "$logs"
status=0
for r in "${readers[@]}"; do
  grep -v '^  …' "$logs/$r.log"
  [[ "$(cat "$logs/$r.rc")" == 0 ]] || status=1
done
echo "fuzz: ${#readers[@]} readers × $cases cases (seed $seed) in $(( $(date +%s) - start )) s; $([[ $status == 0 ]] && echo 'no findings' || echo 'FINDINGS above')"
exit $status

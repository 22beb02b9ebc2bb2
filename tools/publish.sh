#!/usr/bin/env bash
# Builds the fast, self-contained `dataprep` binary: the app and the .NET runtime precompiled together
# (ReadyToRun composite), so almost nothing is JIT-compiled at run time. The benchmarks use it.
#
#   bash tools/publish.sh [OUT_DIR] [ARTIFACTS_DIR]    (default OUT_DIR: out/dataprep-bin)
#   OUT_DIR/dataprep convert …
#
# Why (docs/decisions.md, "Start-up and JIT"): a framework-dependent ReadyToRun build still JIT-compiles
# ~1,500 methods per run (generic code of the runtime instantiated over DataPrep's types: async state
# machines, System.Text.Json metadata, LINQ), ~0.8 s of CPU in a 1.5 s job on 2 cores. Compiled as one
# composite image with the runtime, ~150–240 methods remain (CsvHelper, kept JIT-compiled on purpose: its
# SIMD scanner is faster compiled for the CPU it runs on). The price: ~145 MB on disk and a longer build.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/dataprep-bin}
ARTIFACTS=${2:-}
case "$(uname -m)" in aarch64|arm64) RID=linux-arm64 ;; *) RID=linux-x64 ;; esac
args=(src/DataPrep.Cli -c Release -r "$RID" --self-contained true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true
      -o "$OUT" --disable-build-servers -nologo -v quiet)
# On a CPU with AVX2 (x86-64-v3), precompile for it: methods with AVX2 paths (zstd, hashing) are then
# precompiled too instead of JIT-compiled at run time. A binary built so still runs on an older CPU (the
# runtime then JIT-compiles instead), so build it on the machine, or the kind of machine, that runs it.
if [[ $RID == linux-x64 && -r /proc/cpuinfo ]] && grep -qw avx2 /proc/cpuinfo && grep -qw bmi2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  args+=("-p:PublishReadyToRunCrossgen2ExtraArgs=--instruction-set:x86-64-v3")
fi
[[ -n $ARTIFACTS ]] && args+=(--artifacts-path "$ARTIFACTS")
dotnet publish "${args[@]}"
[[ -x $OUT/dataprep ]] || { echo "publish.sh: $OUT/dataprep was not built" >&2; exit 1; }

#!/usr/bin/env bash
# Builds the fast `dataprep` binary: the app compiled ahead of time to native code (Native AOT), one ~30 MB file
# that needs no .NET runtime and JIT-compiles nothing. It is the binary of the DataPrep.Cli.linux-x64 tool package
# (tools/pack.sh), the container image (deploy/Dockerfile) and the benchmarks (bench/run.sh).
#
#   bash tools/publish.sh [OUT_DIR] [ARTIFACTS_DIR]    (default OUT_DIR: out/dataprep-bin)
#   OUT_DIR/dataprep convert …
#
# Why (docs/decisions.md, "Native AOT tool"): on W1 it ran ~2x faster than the framework-dependent build and
# ~1.2x faster than the self-contained ReadyToRun composite this script built before, in half the size.
# Needs a C toolchain for the final link (clang, or gcc when clang is missing) and a few minutes of CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/dataprep-bin}
ARTIFACTS=${2:-}
case "$(uname -m)" in aarch64|arm64) RID=linux-arm64 ;; *) RID=linux-x64 ;; esac
args=(src/DataPrep.Cli -c Release -r "$RID" -o "$OUT" --disable-build-servers -nologo -v quiet)
[[ -n $ARTIFACTS ]] && args+=(--artifacts-path "$ARTIFACTS")
dotnet publish "${args[@]}"
[[ -x $OUT/dataprep ]] || { echo "publish.sh: $OUT/dataprep was not built" >&2; exit 1; }

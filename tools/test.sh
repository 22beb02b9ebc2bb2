#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: restores, builds warning-free (warnings are errors),
# runs every test, and prints one closing line "N passed, N failed, N skipped".
set -euo pipefail
# Started as a background job of a script (`bash tools/test.sh &`), this shell and every process it starts inherit
# SIGINT ignored, and bash cannot reset that; the signal tests send SIGINT to a child. Start again with SIGINT at its
# default (python3's exec keeps it; SIGPIPE and SIGXFSZ, which python3 ignores, go back to their defaults too).
if (( 0x$(awk '/^SigIgn:/ {print $2}' /proc/self/status 2>/dev/null || echo 0) & 2 )) && [[ -z ${DATAPREP_SIGINT_RESET:-} ]] && command -v python3 >/dev/null; then
  export DATAPREP_SIGINT_RESET=1
  exec python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ): signal.signal(s, signal.SIG_DFL)
os.execvp("bash", ["bash", *sys.argv[1:]])' "$0" "$@"
fi

cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null || { echo "error: the .NET SDK 10 is needed (dotnet not on PATH)" >&2; exit 1; }

# Local .NET tools (.config/dotnet-tools.json): dotnet-repl executes the sample notebooks.
dotnet tool restore >/dev/null
# The linter for the SageMaker lifecycle scripts (docs/sagemaker); its test says so clearly when it is missing.
if ! command -v shellcheck >/dev/null && command -v apt-get >/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo_cmd=(sudo -n)
  { timeout 300 "${sudo_cmd[@]}" apt-get update -qq && timeout 300 "${sudo_cmd[@]}" apt-get install -y -qq shellcheck; } >/dev/null 2>&1 \
    || echo "note: could not install shellcheck with apt-get; LifecycleScriptTests will fail until it is installed" >&2
fi
# moto computes the CRC-32C checksums DataPrep asks S3 for only when its Python can import the module crc32c (else it
# silently gives CRC-32): Debian's python3-crc32c, which the tests put on moto's PYTHONPATH (MotoServer).
if ! compgen -G '/usr/lib/python3/dist-packages/crc32c*.so' >/dev/null && command -v apt-get >/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo_cmd=(sudo -n)
  { timeout 300 "${sudo_cmd[@]}" apt-get update -qq && timeout 300 "${sudo_cmd[@]}" apt-get install -y -qq python3-crc32c; } >/dev/null 2>&1 \
    || echo "note: could not install python3-crc32c with apt-get; moto then gives CRC-32 for CRC-32C and the S3 tests fail (S3ChecksumTests says how to fix it)" >&2
fi
# The S3 tests start real S3 servers on 127.0.0.1: moto (Python) and s3rver (npm, pinned in package.json); the Parquet
# output tests read DataPrep's files back with DuckDB (@duckdb/node-api, pinned there too).
if ! command -v moto_server >/dev/null && [[ ! -x "$HOME/.pyenv/shims/moto_server" ]]; then
  echo "error: moto_server is needed by the S3 tests (moto's S3 server on 127.0.0.1): install it with  pip install 'moto[server]'" >&2
  exit 1
fi
command -v node >/dev/null || { echo "error: Node.js (node, npm) is needed by the S3 tests (s3rver) and the Parquet output tests (DuckDB)" >&2; exit 1; }
if [[ ! -f node_modules/s3rver/bin/s3rver.js || ! -f node_modules/@duckdb/node-api/package.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

dotnet build DataPrep.sln -c Release -nologo -v quiet
log=$(mktemp)
# The tests run with a temp folder of their own, checked at the end: a test must leave nothing behind (spill files,
# staging folders, S3 server data, runtime sockets of killed children). What the SDK's own processes leave there
# (MSBuildTemp*, NuGetScratch*, and the empty mkdtemp folders of `dotnet test` and NuGet) is not ours and is ignored.
test_tmp=$(mktemp -d)
trap 'rm -rf "$test_tmp"' EXIT

# The tests that start the CLI as a process (CliProcess, the deploy scripts' fake engines) run the Native AOT binary
# users install (the DataPrep.Cli.linux-x64 tool package holds this same publish output): DATAPREP_CLI names it. They run
# once, against that build; the in-process CliRunner tests run the same code JIT, CliBinaryTests compares the two
# byte for byte, and the tests of on-demand assembly loading run `dotnet dataprep.dll` (CliProcess.RunFrameworkDependent).
# A process of the native binary starts in ~0.02 s, of the framework-dependent one (TieredCompilation off) in ~1 s: the
# scale-out tests start hundreds. DATAPREP_TEST_AOT=0 runs them against `dotnet dataprep.dll` instead (e.g. on a
# machine that is not linux-x64).
if [[ ${DATAPREP_TEST_AOT:-1} != 0 ]]; then
  aot_dir=$(mktemp -d)
  trap 'rm -rf "$aot_dir" "$test_tmp"' EXIT
  started=$SECONDS
  echo "Native AOT: publishing dataprep for linux-x64 (a minute or two) ..."
  dotnet publish src/DataPrep.Cli -c Release -r linux-x64 -o "$aot_dir/bin" -nologo -v quiet
  echo "Native AOT: published in $((SECONDS - started)) s; the tests that start the CLI as a process run $aot_dir/bin/dataprep"
  export DATAPREP_CLI="$aot_dir/bin/dataprep"
fi
set +e
TMPDIR=$test_tmp dotnet test DataPrep.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
left=$(find "$test_tmp" -mindepth 1 -maxdepth 1 ! -name 'MSBuildTemp*' ! -name 'NuGetScratch*' ! \( -type d -empty \) -printf '%f\n' | sort)
if [[ -n $left ]]; then
  echo "FAILED: the tests left $(wc -l <<<"$left") entries in their temp folder (first ones below); every test must remove what it creates:" >&2
  head -n 10 <<<"$left" | sed 's/^/  /' >&2
  status=1
fi
# dotnet test prints "Passed!  - Failed: F, Passed: P, Skipped: S, Total: T" per test assembly.
awk '/(Passed|Failed)! +- +Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"

#!/usr/bin/env bash
# S3 upload benchmark: DataPrep's streaming upload vs `aws s3 cp --recursive`, same local S3 server.
#
#   bash bench/s3.sh                 (≈ 270 MB of shards: 600,000 rows × 51 columns)
#   BENCH_S3_ROWS=100000 bash bench/s3.sh   (quick check, ≈ 45 MB)
#   BENCH_S3_FLAGS="--no-chunked-encoding" bash bench/s3.sh   (extra flags for DataPrep's upload)
#   BENCH_S3_PART_SIZE=16MB BENCH_S3_CONCURRENCY=8          (DataPrep's --part-size / --upload-concurrency)
#   BENCH_S3_RUNS=3          interleaved rounds of B, A, C (medians)
#   BENCH_S3_BUILD=1         rebuild the native binary (bench/work/dataprep-bin, tools/publish.sh) even if present
#
# Starts moto_server on a free port on 127.0.0.1 (pip install 'moto[server]'), generates the numeric
# CSV (bench/gen-numeric.mjs), then times the installed build (Native AOT), each against a fresh prefix:
#   A  dataprep convert … --out s3://…   (convert + streaming multipart upload, overlapped)
#   B  dataprep convert … --out DIR      (local only, for reference)
#   C  aws s3 cp --recursive DIR s3://…  (upload the same shards with the AWS CLI)
# and checks every uploaded object against the local shards (sha256). Writes bench/results/s3.md.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH/.." && pwd)"
cd "$REPO"
ROWS="${BENCH_S3_ROWS:-600000}"
FLAGS="${BENCH_S3_FLAGS:-}"
PART="${BENCH_S3_PART_SIZE:-16MB}"
INFLIGHT="${BENCH_S3_CONCURRENCY:-8}"
WORK=bench/work/s3
INPUT=$WORK/numeric-$ROWS.csv
OUT=$WORK/out-local
RESULTS=bench/results/s3.md
mkdir -p "$WORK" bench/results
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"
command -v aws >/dev/null || { echo "s3.sh: the AWS CLI is needed (apt-get install -y awscli, or pip install awscli)" >&2; exit 2; }
MOTO=$(command -v moto_server || echo "$HOME/.pyenv/shims/moto_server")
[[ -x $MOTO ]] || { echo "s3.sh: moto_server not found: pip install 'moto[server]'" >&2; exit 2; }

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP=http://127.0.0.1:$PORT
PYTHONPATH=$(moto_pythonpath "$WORK/moto-python") "$MOTO" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "$EP" && break; sleep 0.2; done
aws --endpoint-url "$EP" s3 mb s3://bench >/dev/null

node bench/gen-numeric.mjs --out "$INPUT" --rows "$ROWS" >/dev/null
cat "$INPUT" > /dev/null
# The installed build: the Native AOT binary of the DataPrep.Cli.linux-x64 tool package (tools/publish.sh), as run.sh uses.
BIN_DIR=bench/work/dataprep-bin
if [[ ! -x $BIN_DIR/dataprep || ${BENCH_S3_BUILD:-0} == 1 ]]; then
  echo "s3.sh: building the native binary (tools/publish.sh, a few minutes)" >&2
  bash tools/publish.sh "$BIN_DIR" bench/work/dotnet-artifacts > "$WORK/publish.log" 2>&1 || { tail -n 20 "$WORK/publish.log" >&2; exit 1; }
fi
DP=("$BIN_DIR/dataprep")
ARGS=(convert "$INPUT" --label label --quiet --no-lineage --shard-size 32MB)
RUNS="${BENCH_S3_RUNS:-3}"

secs() { local s=$(date +%s.%N); "$@" >/dev/null; awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f\n", b - a}'; }
median() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) printf "%.2f", a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2 }'; }

# Rounds of B, A, C (interleaved, so a burst of other work slows all three); each against a fresh prefix or folder.
: > "$WORK/a.times"; : > "$WORK/b.times"; : > "$WORK/c.times"
for ((i = 1; i <= RUNS; i++)); do
  rm -rf "$OUT"
  secs "${DP[@]}" "${ARGS[@]}" --out "$OUT" >> "$WORK/b.times"
  secs "${DP[@]}" "${ARGS[@]}" --out "s3://bench/dataprep-$i/" --endpoint-url "$EP" --part-size "$PART" --upload-concurrency "$INFLIGHT" $FLAGS >> "$WORK/a.times"
  secs aws --endpoint-url "$EP" s3 cp --recursive --only-show-errors "$OUT" "s3://bench/awscli-$i/" >> "$WORK/c.times"
  echo "   round $i: A $(tail -n1 "$WORK/a.times") s, B $(tail -n1 "$WORK/b.times") s, C $(tail -n1 "$WORK/c.times") s" >&2
done
BYTES=$(find "$OUT" -path '*/_dataprep' -prune -o -type f -printf '%s\n' | awk '{s+=$1} END {print s}')

# Same bytes: every data object of the last DataPrep upload equals the local shard.
for f in $(cd "$OUT" && find train validation test -type f | sort); do
  want=$(sha256sum "$OUT/$f" | cut -d' ' -f1)
  got=$(aws --endpoint-url "$EP" s3 cp "s3://bench/dataprep-$RUNS/$f" - | sha256sum | cut -d' ' -f1)
  [[ $want == "$got" ]] || { echo "s3.sh: $f differs after upload" >&2; exit 1; }
done

T_DP=$(median < "$WORK/a.times"); T_LOCAL=$(median < "$WORK/b.times"); T_CLI=$(median < "$WORK/c.times")
T_BC=$(echo "$T_LOCAL + $T_CLI" | bc)
A_B=$(awk -v a="$T_DP" -v b="$T_LOCAL" 'BEGIN{printf "%.2f", a/b}')
A_BC=$(awk -v a="$T_DP" -v b="$T_BC" 'BEGIN{printf "%.2f", a/b}')
MB=$(echo "scale=1; $BYTES / 1048576" | bc)
report() {
  echo "## S3: convert + upload vs convert to a folder vs convert + \`aws s3 cp\` ($(date -u '+%F %H:%M UTC'))"
  echo
  echo "$ROWS rows, $MB MiB of CSV shards, moto_server on 127.0.0.1; the Native AOT binary; $RUNS interleaved round(s), medians."
  echo "Load average at start: $LOAD_START on $(nproc) cores."
  echo
  echo "| what | median wall s | runs |"
  echo "|---|---:|---|"
  echo "| A: dataprep convert → s3:// (convert + streaming upload, --part-size $PART, $INFLIGHT in flight${FLAGS:+, $FLAGS}) | $T_DP | $(paste -sd' ' "$WORK/a.times") |"
  echo "| B: dataprep convert → local folder | $T_LOCAL | $(paste -sd' ' "$WORK/b.times") |"
  echo "| C: aws s3 cp --recursive of B's folder | $T_CLI | $(paste -sd' ' "$WORK/c.times") |"
  echo "| B + C: convert locally, then upload with the AWS CLI | $T_BC | |"
  echo
  echo "- A / B = **$A_B** (target ≤ 1.05); A / (B + C) = **$A_BC** (target ≤ 1.00)."
  echo "- All $(cd "$OUT" && find train validation test -type f | wc -l) data objects of A's last round were downloaded and match B's shards (sha256)."
}
report | tee "$RESULTS"
if [[ -n ${BENCH_RESULTS:-} ]]; then { echo; report; } >> "$BENCH_RESULTS"; fi
target "S3: convert + upload / convert to a folder" "${A_B}×" "≤ 1.05×" "$(met "$A_B" "<=" 1.05)"
target "S3: convert + upload / (convert + aws s3 cp)" "${A_BC}×" "≤ 1.00×" "$(met "$A_BC" "<=" 1.00)"

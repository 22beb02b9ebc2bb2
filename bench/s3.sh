#!/usr/bin/env bash
# S3 upload benchmark: DataPrep's streaming upload vs `aws s3 cp --recursive`, same local S3 server.
#
#   bash bench/s3.sh                 (≈ 270 MB of shards: 600,000 rows × 51 columns)
#   BENCH_S3_ROWS=100000 bash bench/s3.sh   (quick check, ≈ 45 MB)
#   BENCH_S3_FLAGS="--no-chunked-encoding" bash bench/s3.sh   (extra flags for DataPrep's upload)
#   BENCH_S3_PART_SIZE=16MB BENCH_S3_CONCURRENCY=8          (DataPrep's --part-size / --upload-concurrency)
#
# Starts moto_server on a free port on 127.0.0.1 (pip install 'moto[server]'), generates the numeric
# CSV (bench/gen-numeric.mjs), then times, each against a fresh prefix:
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

command -v aws >/dev/null || { echo "s3.sh: the AWS CLI is needed (apt-get install -y awscli, or pip install awscli)" >&2; exit 2; }
MOTO=$(command -v moto_server || echo "$HOME/.pyenv/shims/moto_server")
[[ -x $MOTO ]] || { echo "s3.sh: moto_server not found: pip install 'moto[server]'" >&2; exit 2; }

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP=http://127.0.0.1:$PORT
"$MOTO" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "$EP" && break; sleep 0.2; done
aws --endpoint-url "$EP" s3 mb s3://bench >/dev/null

node bench/gen-numeric.mjs --out "$INPUT" --rows "$ROWS" >/dev/null
dotnet build src/DataPrep.Cli -c Release -nologo -v q >/dev/null
DP=(dotnet src/DataPrep.Cli/bin/Release/net10.0/dataprep.dll)
ARGS=(convert "$INPUT" --label label --quiet --no-lineage --shard-size 32MB)

secs() { local s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }

rm -rf "$OUT"
T_LOCAL=$(secs "${DP[@]}" "${ARGS[@]}" --out "$OUT")
BYTES=$(find "$OUT" -path '*/_dataprep' -prune -o -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
T_DP=$(secs "${DP[@]}" "${ARGS[@]}" --out s3://bench/dataprep/ --endpoint-url "$EP" --part-size "$PART" --upload-concurrency "$INFLIGHT" $FLAGS)
T_CLI=$(secs aws --endpoint-url "$EP" s3 cp --recursive --only-show-errors "$OUT" s3://bench/awscli/)

# Same bytes: every data object of the DataPrep upload equals the local shard.
for f in $(cd "$OUT" && find train validation test -type f | sort); do
  want=$(sha256sum "$OUT/$f" | cut -d' ' -f1)
  got=$(aws --endpoint-url "$EP" s3 cp "s3://bench/dataprep/$f" - | sha256sum | cut -d' ' -f1)
  [[ $want == "$got" ]] || { echo "s3.sh: $f differs after upload" >&2; exit 1; }
done

MB=$(echo "scale=1; $BYTES / 1048576" | bc)
{
  echo "# S3 upload benchmark ($(date -u +%F), $ROWS rows, $MB MiB of CSV shards, moto_server on 127.0.0.1)"
  echo
  echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared machine: timings are noisy)."
  echo
  echo "| what | wall s |"
  echo "|---|---|"
  echo "| A: dataprep convert → s3:// (convert + streaming upload, --part-size $PART, $INFLIGHT in flight${FLAGS:+, $FLAGS}) | $T_DP |"
  echo "| B: dataprep convert → local folder | $T_LOCAL |"
  echo "| C: aws s3 cp --recursive of B's folder | $T_CLI |"
  echo "| B + C: convert locally, then upload with the AWS CLI | $(echo "$T_LOCAL + $T_CLI" | bc) |"
  echo
  echo "All $(cd "$OUT" && find train validation test -type f | wc -l) data objects of A were downloaded and match B's shards (sha256)."
} | tee "$RESULTS"

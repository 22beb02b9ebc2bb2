#!/usr/bin/env bash
# Image workload: rotate photo-sized JPEGs 90° counter-clockwise.
#   DataPrep:    dataprep convert DIR --format recordio-image --augment rotate=90 (all images in train)
#   ImageMagick: convert in.jpg -rotate -90 -quality 95 out.jpg, one process per image, xargs -P $(nproc)
# on the same files in the same script.
#
#   bash bench/images.sh                       (from anywhere; also called by BENCH_IMAGES_RUN=1 bash bench/run.sh)
#
# Environment:
#   BENCH_IMAGES=300       number of generated JPEGs (1024×768, quality 90)
#   BENCH_IMAGE_SIZE=1024x768
#   BENCH_RUNS=3           timed runs per tool (median wall)
#   BENCH_IM=/usr/bin/convert   the ImageMagick convert binary (installed with apt-get install imagemagick)
#
# Writes bench/results/images-latest.md and prints it. Exits non-zero when a tool fails or the counts are wrong.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH/.." && pwd)"
cd "$REPO"

N="${BENCH_IMAGES:-300}"
SIZE="${BENCH_IMAGE_SIZE:-1024x768}"
RUNS="${BENCH_RUNS:-3}"
IM="${BENCH_IM:-/usr/bin/convert}"
P="$(nproc)"
WORK=bench/work/images
IN=$WORK/in-$N-$SIZE
BIN=$WORK/dataprep-bin
RESULTS=bench/results/images-latest.md

if ! [[ -x $IM ]] || ! "$IM" -version 2>/dev/null | grep -q ImageMagick; then
  if [[ $(id -u) == 0 ]]; then apt-get update -qq && apt-get install -y -qq imagemagick >/dev/null; IM=/usr/bin/convert
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq imagemagick >/dev/null; IM=/usr/bin/convert
  else echo "images.sh: ImageMagick is needed (apt-get install imagemagick) or set BENCH_IM" >&2; exit 2; fi
fi

mkdir -p "$WORK"
if [[ ! -f $IN/.complete ]]; then
  echo "generating $N JPEGs of $SIZE in $IN …" >&2
  rm -rf "$IN"; mkdir -p "$IN/base" "$IN/tiger" "$IN/other"
  # A few seeded plasma 'photos', then cheap distinct variants of them (roll + hue), so generation stays quick.
  for b in 0 1 2 3; do "$IM" -seed $((b + 1)) -size "$SIZE" plasma:fractal -blur 0x1 "$IN/base/$b.png"; done
  seq 0 $((N - 1)) | xargs -P "$P" -I{} sh -c '
    i={}; b=$((i % 4)); cls=$([ $((i % 2)) = 0 ] && echo tiger || echo other)
    "$0" "$1/base/$b.png" -roll +$((i * 37))+$((i * 11)) -modulate 100,100,$((60 + (i * 7) % 80)) -quality 90 "$1/$cls/img-$(printf %05d "$i").jpg"' "$IM" "$IN"
  rm -rf "$IN/base"
  touch "$IN/.complete"
fi
BYTES=$(du -sb "$IN" | cut -f1)

echo "building DataPrep (Release) …" >&2
# ReadyToRun, as bench/run.sh: ImageSharp is a lot of code, and the CLI runs with tiered compilation off.
bash tools/publish.sh "$BIN" "$WORK/dotnet-artifacts" >/dev/null
DATAPREP=$BIN/dataprep

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

dp_times=(); im_times=()
for run in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/out-dp" "$WORK/out-im"
  t0=$(now)
  "$DATAPREP" convert "$IN" --out "$WORK/out-dp" --format recordio-image --augment rotate=90 --train 1 --validation 0 --test 0 --quiet
  t1=$(now)
  dp_times+=("$(echo "$t1 - $t0" | bc -l)")
  mkdir -p "$WORK/out-im"
  t0=$(now)
  find "$IN" -name '*.jpg' -print0 | xargs -0 -P "$P" -n 8 sh -c 'out=$1; shift; for f; do "$0" "$f" -rotate -90 -quality 95 "$out/$(basename "$f")"; done' "$IM" "$WORK/out-im"
  t1=$(now)
  im_times+=("$(echo "$t1 - $t0" | bc -l)")
done

# Checks: DataPrep wrote every image and its rotated copy; ImageMagick wrote every image.
RECORDS=$("$DATAPREP" inspect "$WORK/out-dp/train/train.rec" --summary --output jsonl | grep -o '"records":[0-9]*' | cut -d: -f2)
[[ $RECORDS == $((2 * N)) ]] || { echo "images.sh: DataPrep wrote $RECORDS records; expected $((2 * N))" >&2; exit 1; }
IM_COUNT=$(find "$WORK/out-im" -name '*.jpg' | wc -l)
[[ $IM_COUNT == "$N" ]] || { echo "images.sh: ImageMagick wrote $IM_COUNT files; expected $N" >&2; exit 1; }

DP=$(printf '%s\n' "${dp_times[@]}" | median)
IMT=$(printf '%s\n' "${im_times[@]}" | median)
mkdir -p bench/results
{
  echo "# Image rotation benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "$N JPEGs of $SIZE ($((BYTES / 1024 / 1024)) MiB), rotated 90° counter-clockwise, $P cores ($(nproc) vCPU), load $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| tool | median wall (s) | images rotated/s | runs (s) |"
  echo "| --- | ---: | ---: | --- |"
  printf '| DataPrep → recordio-image (decode, rotate, JPEG q95, .rec + .idx + lineage) | %.2f | %.1f | %s |\n' "$DP" "$(echo "$N / $DP" | bc -l)" "$(printf '%.2f ' "${dp_times[@]}")"
  printf '| ImageMagick `convert -rotate -90 -quality 95`, xargs -P %s | %.2f | %.1f | %s |\n' "$P" "$IMT" "$(echo "$N / $IMT" | bc -l)" "$(printf '%.2f ' "${im_times[@]}")"
  echo
  printf 'DataPrep / ImageMagick speed: **%.2f×** (median wall). DataPrep also packs the %s originals (bytes passed through) into the .rec.\n' "$(echo "$IMT / $DP" | bc -l)" "$N"
} > "$RESULTS"
cat "$RESULTS"

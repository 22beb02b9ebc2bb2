#!/usr/bin/env bash
# Scaling curve: the W1 job (label + 50 float features CSV → exact 80/10/10 → label-first CSV, seed 42) at
# 10k, 100k, 1M and 10M rows, with --memory 512MB, on the installed build (the Native AOT binary of tools/publish.sh,
# as bench/run.sh uses). Prints wall, rows/s, MB/s, peak RSS and CPU time per size, the cost per row, and where it
# does not grow linearly (judged on CPU time, which other work on a shared machine disturbs far less than wall time).
#
#   nice bash bench/scale-rows.sh            (from the repo root or anywhere; ~10 minutes with the 10M-row input)
#
# Environment:
#   SCALE_ROWS="10000 100000 1000000 10000000"   sizes (rows); the largest is scaled down when the disk is short
#   SCALE_RUNS=1             timed runs per size (median wall, max peak RSS)
#   SCALE_MEMORY=512MB       dataprep --memory at every size (it changes nothing below ~1M rows: nothing spills)
#   SCALE_TOLERANCE=25       % by which a size's cost per row may differ from the 1M-row size's before it is flagged
#
# Inputs (bench/gen-numeric.mjs, ~453 bytes a row: the 10M-row file is ~4.5 GB) are kept in bench/work/scale-rows/
# for the next run; outputs and spill files are removed after each size. Writes bench/results/scale-rows.md.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH/.." && pwd)"
cd "$REPO"
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

read -r -a SIZES <<< "${SCALE_ROWS:-10000 100000 1000000 10000000}"
RUNS="${SCALE_RUNS:-1}"
MEMORY="${SCALE_MEMORY:-512MB}"
TOLERANCE="${SCALE_TOLERANCE:-25}"
WORK=bench/work/scale-rows
BIN_DIR=bench/work/dataprep-bin
DATAPREP=$BIN_DIR/dataprep
RESULTS=bench/results/scale-rows.md
TIME=/usr/bin/time
BYTES_PER_ROW=453   # gen-numeric.mjs: 90,525,552 bytes / 200,000 rows, rounded up

[[ -x $TIME ]] || { echo "scale-rows.sh: $TIME (GNU time) is required" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "scale-rows.sh: SCALE_RUNS must be a positive integer" >&2; exit 2; }
for n in "${SIZES[@]}"; do [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "scale-rows.sh: SCALE_ROWS holds '$n', expected row counts" >&2; exit 2; }; done
mkdir -p "$WORK" bench/results

IDLE_START=$(cpu_idle_pct)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== CPU idle at the start: $IDLE_START%; load average (1/5/15 min): $LOAD_START; $(nproc) CPUs"

if [[ ! -x $DATAPREP ]]; then
  echo "== building the installed binary (tools/publish.sh: Native AOT; a few minutes)"
  bash tools/publish.sh "$BIN_DIR" bench/work/dotnet-artifacts > "$WORK/publish.log" 2>&1 \
    || { tail -n 20 "$WORK/publish.log" >&2; exit 1; }
fi

# Disk: the largest input stays, and a run needs about its size again for the output and as much for spill files.
NOTES=()
FREE=$(df -B1 --output=avail "$WORK" | tail -n 1 | tr -d ' ')
last=$((${#SIZES[@]} - 1))
want=${SIZES[$last]}
have=0
[[ -f $WORK/numeric-$want.csv ]] && have=$(stat -c %s "$WORK/numeric-$want.csv")
while ((want > 10000 && (3 * want * BYTES_PER_ROW - have) > FREE - (2 << 30))); do
  want=$((want / 2))
  have=0
done
if ((want != SIZES[last])); then
  NOTES+=("The largest size was scaled down from ${SIZES[$last]} to $want rows: $((FREE >> 30)) GiB free on the disk, about 3 × the input needed (input, output, spill) with 2 GiB to spare.")
  echo "== NOTE: ${NOTES[-1]}" >&2
  SIZES[last]=$want
fi

median() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) printf "%.3f", a[(NR+1)/2]; else printf "%.3f", (a[NR/2]+a[NR/2+1])/2 }'; }

# expected split counts: floor of 80/10/10, the rows left over to the largest remainders (RandomSplitter.ExactCounts)
exact_counts() {
  awk -v n="$1" 'BEGIN{ f[1]=0.8; f[2]=0.1; f[3]=0.1; s=0
    for (i=1;i<=3;i++){ c[i]=int(n*f[i]+1e-9); r[i]=n*f[i]-c[i]; s+=c[i] }
    while (s<n){ b=1; for(i=2;i<=3;i++) if (r[i]>r[b]+1e-9) b=i; c[b]++; r[b]=-1; s++ }
    printf "%d / %d / %d", c[1], c[2], c[3] }'
}
count_lines() { local d=$1; if [[ -d $d ]]; then find "$d" -type f -name '*.csv' -exec cat {} + | wc -l; else echo 0; fi; }

declare -A WALL KIB CPU BYTES COUNTS
status=0
for n in "${SIZES[@]}"; do
  input=$WORK/numeric-$n.csv
  echo "== $n rows: input $input"
  node bench/gen-numeric.mjs --out "$input" --rows "$n" > /dev/null
  BYTES[$n]=$(stat -c %s "$input")
  # Each size starts with only its input in the page cache when the script may drop the cache (root): at 10M rows the run
  # moves about 18 GB through the cache (input, spill written and read, output), and with the earlier sizes' files and
  # other work's still cached, the kernel's reclaim cost this 24 GB machine 51 s of system time instead of 14 s.
  sync
  if [[ -w /proc/sys/vm/drop_caches ]] && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then CACHE="dropped before each size, then the input read into it"; else CACHE="not dropped (not root): earlier files compete for it at large sizes"; fi
  cat "$input" > /dev/null   # page cache, as bench/run.sh does
  rm -f "$WORK/times-$n"
  for ((i = 1; i <= RUNS; i++)); do
    out=$WORK/out-$n temp=$WORK/temp-$n
    rm -rf "$out" "$temp"; mkdir -p "$temp"
    if "$TIME" -f '%e %M %U %S' -o "$WORK/time.txt" "$DATAPREP" convert "$input" --out "$out" --label label \
         --train 0.8 --validation 0.1 --test 0.1 --seed 42 --memory "$MEMORY" --temp "$temp" --overwrite --quiet > "$WORK/run-$n.log" 2>&1; then
      tail -n 1 "$WORK/time.txt" >> "$WORK/times-$n"
      read -r wall kib user sys < <(tail -n 1 "$WORK/time.txt")
      printf '   run %d: wall %s s, peak %s KiB, CPU %s s user + %s s system\n' "$i" "$wall" "$kib" "$user" "$sys"
    else
      echo "!! dataprep failed on $n rows:" >&2; tail -n 20 "$WORK/run-$n.log" >&2; status=1
    fi
  done
  got="$(count_lines "$out/train") / $(count_lines "$out/validation") / $(count_lines "$out/test")"
  expected=$(exact_counts "$n")
  if [[ $got != "$expected" ]]; then
    echo "!! OUTPUT MISMATCH at $n rows: $got data lines, expected exactly $expected" >&2
    COUNTS[$n]="**$got (expected $expected)**"; status=1
  else
    COUNTS[$n]=$got
  fi
  left=$(find "$temp" -mindepth 1 | wc -l)
  ((left == 0)) || { echo "!! $left spill files left in $temp" >&2; status=1; }
  rm -rf "$out" "$temp"
  if [[ -s $WORK/times-$n ]]; then
    WALL[$n]=$(cut -d' ' -f1 "$WORK/times-$n" | median)
    KIB[$n]=$(cut -d' ' -f2 "$WORK/times-$n" | sort -n | tail -n 1)
    CPU[$n]=$(awk '{print $3 + $4}' "$WORK/times-$n" | median)
  fi
done

# Linear model wall = a + b·rows (least squares over the sizes), and each size's cost per row against the 1M-row size's
# (or the size nearest to it): start-up shows at the small end, spilling or memory pressure at the large end.
REF=""
for n in "${SIZES[@]}"; do [[ -n ${WALL[$n]:-} ]] || continue; if [[ -z $REF ]] || (( (n > 1000000 ? n - 1000000 : 1000000 - n) < (REF > 1000000 ? REF - 1000000 : 1000000 - REF) )); then REF=$n; fi; done
FIT=$(for n in "${SIZES[@]}"; do [[ -n ${CPU[$n]:-} ]] && echo "$n ${CPU[$n]}"; done |
  awk '{x[NR]=$1; y[NR]=$2; sx+=$1; sy+=$2} END{ if (NR<2) { print "0 0"; exit } mx=sx/NR; my=sy/NR; for(i=1;i<=NR;i++){ sxy+=(x[i]-mx)*(y[i]-my); sxx+=(x[i]-mx)^2 } b=sxy/sxx; printf "%.4f %.6e", my-b*mx, b }')
read -r FIT_A FIT_B <<< "$FIT"

{
  echo "# Scaling curve: W1's shape at $(printf '%s ' "${SIZES[@]}")rows"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), repo at $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $DATAPREP (tools/publish.sh, Native AOT), $RUNS run(s) a size (median wall, max peak RSS)."
  echo "Job: \`dataprep convert numeric-N.csv --label label --train 0.8 --validation 0.1 --test 0.1 --seed 42 --memory $MEMORY --temp DIR\` (label-first CSV, lineage on), input in the page cache (the cache ${CACHE:-?})."
  echo "Machine: $(nproc) CPUs ($(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)), CPU idle at the start **$IDLE_START %**, load average $LOAD_START at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end."
  echo
  echo "| rows | input MB | wall (s) | rows/s | MB/s | peak RSS (MiB) | wall µs/row | CPU s (user + sys) | CPU µs/row | CPU per row vs ${REF:-?} rows | train / validation / test |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  for n in "${SIZES[@]}"; do
    if [[ -z ${WALL[$n]:-} ]]; then echo "| $n | - | FAILED | - | - | - | - | - | ${COUNTS[$n]:-} |"; continue; fi
    awk -v n="$n" -v w="${WALL[$n]}" -v k="${KIB[$n]}" -v b="${BYTES[$n]}" -v u="${CPU[$n]}" -v ru="${CPU[$REF]}" -v rn="$REF" -v c="${COUNTS[$n]}" 'BEGIN{
      printf "| %d | %.1f | %.2f | %.0f | %.1f | %.0f | %.2f | %.2f | %.2f | %.2f× | %s |\n", n, b/1e6, w, n/w, b/1e6/w, k/1024, w/n*1e6, u, u/n*1e6, (u/n)/(ru/rn), c }'
  done
  echo
  awk -v a="$FIT_A" -v b="$FIT_B" 'BEGIN{ printf "Least-squares line over the sizes: CPU ≈ %.2f s + %.2f µs × rows (the constant: start-up and fixed work; the slope: the cost of a row). The per-row cost is judged on CPU time (user + system), which other work on a shared machine disturbs far less than wall time; wall, rows/s and MB/s are shown as measured.\n", a, b*1e6 }'
  echo
  for n in "${SIZES[@]}"; do
    [[ -n ${WALL[$n]:-} ]] || continue
    awk -v n="$n" -v w="${CPU[$n]}" -v rw="${CPU[$REF]}" -v rn="$REF" -v t="$TOLERANCE" -v a="$FIT_A" 'BEGIN{
      r=(w/n)/(rw/rn); d=(r-1)*100
      if (d > t) printf "- **Not linear at %d rows**: %.2f× the CPU per row at %d rows (%.0f %% more)%s.\n", n, r, rn, d, (n < rn ? sprintf("; the fixed %.2f s of the line is %.0f %% of this run'"'"'s CPU", a, 100*a/w) : "")
      else if (d < -t) printf "- **Not linear at %d rows**: %.2f× the CPU per row at %d rows (%.0f %% less).\n", n, r, rn, -d
      else printf "- %d rows: linear (CPU per row within %d %% of %d rows: %+.0f %%).\n", n, t, rn, d }'
  done
  for note in "${NOTES[@]}"; do echo "- $note"; done
} > "$RESULTS"

echo
cat "$RESULTS"
exit "$status"

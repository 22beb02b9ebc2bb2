#!/usr/bin/env bash
# DataPrep vs DuckDB benchmark: 200,000 x 51 numeric CSV -> train/validation/test.
#
#   bash bench/run.sh            (from the repo root or anywhere)
#
# Environment:
#   BENCH_RUNS=3             timed runs per tool (median wall, max peak RSS)
#   BENCH_THREADS=2          DuckDB threads
#   BENCH_SKIP_DATAPREP=1    only run DuckDB (exit status ignores DataPrep)
#   BENCH_SKIP_DUCKDB=1      only run DataPrep
#   BENCH_IMAGES_RUN=1       also run bench/images.sh (image rotation vs ImageMagick)
#   BENCH_SKIP_SCALE=1       leave out bench/scale.sh (W2, W3, W4)
#   BENCH_SKIP_S3=1          leave out bench/s3.sh (convert + upload vs aws s3 cp)
#
# Writes bench/results/latest.md and prints it. Exits non-zero when DataPrep
# fails to build/run or its split sizes are not exactly 160000/20000/20000.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH/.." && pwd)"
cd "$REPO"
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

RUNS="${BENCH_RUNS:-3}"
THREADS="${BENCH_THREADS:-2}"
SKIP_DATAPREP="${BENCH_SKIP_DATAPREP:-0}"
SKIP_DUCKDB="${BENCH_SKIP_DUCKDB:-0}"

ROWS=200000
EXPECT_TRAIN=160000 EXPECT_VALIDATION=20000 EXPECT_TEST=20000

# Paths relative to the repo root, so the commands below read as documented.
WORK=bench/work
INPUT=$WORK/numeric.csv
BIN_DIR=$WORK/dataprep-bin
DATAPREP=$BIN_DIR/dataprep
OUT_DP=$WORK/out-dataprep
OUT_DUCK=$WORK/out-duckdb
OUT_DPR=$WORK/out-dataprep-recordio
LOGS=$WORK/logs
RESULTS=bench/results/latest.md

TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "run.sh: $TIME (GNU time) is required" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: BENCH_RUNS must be a positive integer" >&2; exit 2; }

say() { printf '\n== %s\n' "$*"; }
mkdir -p "$WORK" "$LOGS" bench/results
rm -f "$LOGS"/dataprep-*.log "$LOGS"/duckdb-*.log
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
# Every script appends "figure<TAB>measured<TAB>target<TAB>met" here; the table at the end (issue 18's targets) is built from it.
export BENCH_TARGETS="$REPO/$WORK/targets.tsv"
: > "$BENCH_TARGETS"
# The machine's idle share first of all (before the build and the input), then again just before the timed runs.
IDLE_START=$(cpu_idle_pct)
echo "CPU idle at the start: $IDLE_START% ($(nproc) CPUs, load average $LOADAVG_START)"

# ---------------------------------------------------------------- 1. npm deps
if [[ ! -d bench/node_modules/@duckdb/node-api ]]; then
  say "installing @duckdb/node-api (npm ci)"
  if [[ -f bench/package-lock.json ]]; then
    (cd bench && npm ci --no-audit --no-fund --loglevel=error)
  else
    (cd bench && npm install --no-audit --no-fund --loglevel=error)
  fi
fi

# ---------------------------------------------------------------- 2. input data
say "input data"
node bench/gen-numeric.mjs --out "$INPUT"
INPUT_BYTES=$(stat -c %s "$INPUT")
INPUT_SHA=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).sha256)' "$INPUT.marker")
cat "$INPUT" > /dev/null   # warm the page cache so both tools start from the same state
IDLE_BEFORE=$(cpu_idle_pct)
echo "CPU idle before the timed runs: $IDLE_BEFORE%"
if ((IDLE_BEFORE < 90)); then
  echo "WARNING: the machine is busy (only $IDLE_BEFORE% idle); wall times will be inflated" >&2
fi

# ---------------------------------------------------------------- helpers
# data lines of one split: all *.csv under OUT/<split>/ (or OUT/<split>.csv);
# a first line that does not start like a data row (digit, sign, dot) is
# counted as a header and not as data.
count_split() {
  local base=$1 split=$2 total=0 n f first
  local -a files=()
  if [[ -d $base/$split ]]; then
    mapfile -t files < <(find "$base/$split" -type f -name '*.csv' | sort)
  elif [[ -f $base/$split.csv ]]; then
    files=("$base/$split.csv")
  fi
  if ((${#files[@]} == 0)); then echo 0; return; fi
  for f in "${files[@]}"; do
    [[ -s $f ]] || continue
    n=$(wc -l < "$f")
    [[ $(tail -c 1 "$f" | od -An -c | tr -d ' ') == '\n' ]] || n=$((n + 1))
    first=$(head -c 1 "$f")
    [[ $first =~ [0-9.+-] ]] || n=$((n - 1))
    total=$((total + n))
  done
  echo "$total"
}

median() { sort -n | awk '{a[NR]=$1} END{ if (NR==0) exit 1; if (NR%2) printf "%.2f", a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2 }'; }
maxof()  { sort -n | tail -n 1; }

# run_timed NAME OUTDIR LOG -- CMD...   -> appends "wall_s peak_kib" to $WORK/NAME.times
run_timed() {
  local name=$1 outdir=$2 log=$3; shift 4
  local tf rc=0
  tf=$(mktemp)
  rm -rf "$outdir"
  # No dirty pages at the start: the previous run's output (either tool's) is written back outside the timing.
  sync
  "$TIME" -f '%e %M' -o "$tf" "$@" > "$log" 2>&1 || rc=$?
  if ((rc == 0)); then
    tail -n 1 "$tf" >> "$WORK/$name.times"
    printf '   %s  wall %s s  peak %s KiB\n' "$name" $(tail -n 1 "$tf")
  fi
  rm -f "$tf"
  return "$rc"
}

# ---------------------------------------------------------------- 3. build DataPrep
DP_STATUS=skipped DP_NOTE="BENCH_SKIP_DATAPREP=1"
rm -f "$WORK/dataprep.times" "$WORK/duckdb.times" "$WORK/dataprep-recordio.times"
if [[ $SKIP_DATAPREP != 1 ]]; then
  say "building DataPrep (tools/publish.sh: Native AOT, the binary of the installed linux-x64 tool; a few minutes)"
  # The artifacts path keeps bin/obj out of src/ so a concurrent dev build is not disturbed.
  if bash tools/publish.sh "$BIN_DIR" "$WORK/dotnet-artifacts" > "$LOGS/publish.log" 2>&1 \
     && [[ -x $DATAPREP ]]; then
    DP_STATUS=ok DP_NOTE=""
  else
    DP_STATUS=failed DP_NOTE="dotnet publish failed (see $LOGS/publish.log)"
    echo "!! DataPrep BUILD FAILED — last lines of $LOGS/publish.log:" >&2
    tail -n 20 "$LOGS/publish.log" >&2
  fi
fi

DP_CMD=("$DATAPREP" convert "$INPUT" --out "$OUT_DP" --label label
        --train 0.8 --validation 0.1 --test 0.1 --seed 42 --overwrite --quiet)

# The same job to RecordIO-protobuf (float32 tensors): no DuckDB equivalent, compared with DataPrep's CSV run.
DPR_CMD=("$DATAPREP" convert "$INPUT" --out "$OUT_DPR" --label label
         --train 0.8 --validation 0.1 --test 0.1 --seed 42 --format recordio-protobuf --overwrite --quiet)
DPR_STATUS=$DP_STATUS DPR_NOTE=$DP_NOTE

DUCK_STATUS=skipped DUCK_NOTE="BENCH_SKIP_DUCKDB=1"
DUCK_VERSION=$(node bench/duckdb-job.mjs --version 2>/dev/null || echo unknown)
DUCK_PKG=$(node -p 'require("./bench/node_modules/@duckdb/node-api/package.json").version' 2>/dev/null || echo unknown)
DUCK_CMD=(node bench/duckdb-job.mjs "$INPUT" "$OUT_DUCK" "$THREADS")
[[ $SKIP_DUCKDB == 1 ]] || DUCK_STATUS=ok DUCK_NOTE=""

# ---------------------------------------------------------------- 4+5. timed runs
# The tools alternate (DataPrep, DuckDB, DataPrep, ...) so that a burst of
# other work on the machine hits both rather than one of them.
say "timed runs: $RUNS per tool, alternating (DuckDB $DUCK_VERSION, threads=$THREADS)"
for ((i = 1; i <= RUNS; i++)); do
  if [[ $DP_STATUS == ok ]] && ! run_timed dataprep "$OUT_DP" "$LOGS/dataprep-$i.log" -- "${DP_CMD[@]}"; then
    DP_STATUS=failed DP_NOTE="run $i exited non-zero (see $LOGS/dataprep-$i.log)"
    echo "!! DataPrep RUN $i FAILED — last lines of $LOGS/dataprep-$i.log:" >&2
    tail -n 20 "$LOGS/dataprep-$i.log" >&2
  fi
  if [[ $DPR_STATUS == ok ]] && ! run_timed dataprep-recordio "$OUT_DPR" "$LOGS/dataprep-recordio-$i.log" -- "${DPR_CMD[@]}"; then
    DPR_STATUS=failed DPR_NOTE="run $i exited non-zero (see $LOGS/dataprep-recordio-$i.log)"
    tail -n 20 "$LOGS/dataprep-recordio-$i.log" >&2
  fi
  if [[ $DUCK_STATUS == ok ]] && ! run_timed duckdb "$OUT_DUCK" "$LOGS/duckdb-$i.log" -- "${DUCK_CMD[@]}"; then
    DUCK_STATUS=failed DUCK_NOTE="run $i exited non-zero (see $LOGS/duckdb-$i.log)"
    echo "!! DuckDB RUN $i FAILED — last lines of $LOGS/duckdb-$i.log:" >&2
    tail -n 20 "$LOGS/duckdb-$i.log" >&2
  fi
done

# ---------------------------------------------------------------- output checks
DP_COUNTS=""
if [[ $DP_STATUS == ok ]]; then
  dp_train=$(count_split "$OUT_DP" train)
  dp_val=$(count_split "$OUT_DP" validation)
  dp_test=$(count_split "$OUT_DP" test)
  DP_COUNTS="$dp_train / $dp_val / $dp_test"
  if [[ $dp_train != "$EXPECT_TRAIN" || $dp_val != "$EXPECT_VALIDATION" || $dp_test != "$EXPECT_TEST" ]]; then
    DP_STATUS=wrong-output
    DP_NOTE="split sizes $DP_COUNTS, expected $EXPECT_TRAIN / $EXPECT_VALIDATION / $EXPECT_TEST"
    {
      echo
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
      echo "!! DataPrep OUTPUT MISMATCH: train/validation/test = $DP_COUNTS"
      echo "!!   expected exactly $EXPECT_TRAIN / $EXPECT_VALIDATION / $EXPECT_TEST data lines"
      echo "!!   under $OUT_DP/{train,validation,test}/*.csv"
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    } >&2
  fi
fi
DPR_COUNTS=""
if [[ $DPR_STATUS == ok ]]; then
  DPR_COUNTS="$(node bench/count-recordio.mjs "$OUT_DPR"/train/*.pbr) / $(node bench/count-recordio.mjs "$OUT_DPR"/validation/*.pbr) / $(node bench/count-recordio.mjs "$OUT_DPR"/test/*.pbr)"
  if [[ $DPR_COUNTS != "$EXPECT_TRAIN / $EXPECT_VALIDATION / $EXPECT_TEST" ]]; then
    DPR_STATUS=wrong-output DPR_NOTE="records $DPR_COUNTS, expected $EXPECT_TRAIN / $EXPECT_VALIDATION / $EXPECT_TEST"
    echo "!! DataPrep RecordIO OUTPUT MISMATCH: $DPR_COUNTS" >&2
  fi
fi
DUCK_COUNTS=""
if [[ $DUCK_STATUS == ok ]]; then
  DUCK_COUNTS="$(count_split "$OUT_DUCK" train) / $(count_split "$OUT_DUCK" validation) / $(count_split "$OUT_DUCK" test)"
fi

# ---------------------------------------------------------------- 6. stats
# stats NAME -> "median_wall peak_kib" or empty
stats() {
  local f="$WORK/$1.times"
  [[ -s $f ]] || return 0
  echo "$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | maxof)"
}
runs_list() { [[ -s $WORK/$1.times ]] && cut -d' ' -f1 "$WORK/$1.times" | paste -sd ' ' - || echo "-"; }
best() { [[ -s $WORK/$1.times ]] && cut -d' ' -f1 "$WORK/$1.times" | sort -n | head -n 1; }

row() { # LABEL STATUS NOTE STATS
  local label=$1 status=$2 note=$3 st=$4 wall kib
  if [[ $status == ok && -n $st ]]; then
    read -r wall kib <<< "$st"
    awk -v l="$label" -v w="$wall" -v k="$kib" -v r="$ROWS" -v b="$INPUT_BYTES" -v runs="$5" 'BEGIN{
      printf "| %s | %.2f | %.0f | %.0f | %.1f | %s |\n", l, w, k/1024, r/w, b/1e6/w, runs }'
  else
    printf '| %s | %s | - | - | - | %s |\n' "$label" "${status^^}${note:+: $note}" "$5"
  fi
}

DP_STATS=$(stats dataprep)
DPR_STATS=$(stats dataprep-recordio)
REC_RATIO="n/a"
if [[ -n $DP_STATS && -n $DPR_STATS && $DPR_STATUS == ok ]]; then
  REC_RATIO=$(awk -v a="${DPR_STATS%% *}" -v b="${DP_STATS%% *}" 'BEGIN{printf "%.2f×", a/b}')
fi
DUCK_STATS=$(stats duckdb)
# a DataPrep run with wrong output still has timings; show them, but flag the
# row and give no ratios (the timings of a wrong result mean nothing)
DP_ROW_STATUS=$DP_STATUS DP_LABEL=DataPrep
if [[ $DP_STATUS == wrong-output ]]; then DP_ROW_STATUS=ok DP_LABEL="DataPrep (**WRONG OUTPUT**)"; fi

SPEEDUP="n/a" MEMRATIO="n/a" BEST_SPEEDUP="n/a"
if [[ -n $DP_STATS && -n $DUCK_STATS && $DP_STATUS == ok && $DUCK_STATUS == ok ]]; then
  read -r dpw dpk <<< "$DP_STATS"
  read -r dkw dkk <<< "$DUCK_STATS"
  SPEEDUP=$(awk -v a="$dkw" -v b="$dpw" 'BEGIN{printf "%.2f×", a/b}')
  # This shared 2-core VM has bursts of outside load; the best runs show the tools' own speed.
  BEST_SPEEDUP=$(awk -v a="$(best duckdb)" -v b="$(best dataprep)" 'BEGIN{printf "%.2f×", a/b}')
  MEMRATIO=$(awk -v a="$dpk" -v b="$dkk" 'BEGIN{printf "%.2f×", a/b}')
fi

if [[ $SPEEDUP != n/a ]]; then
  target "W1 → CSV: DuckDB wall / DataPrep wall (median; best against best ${BEST_SPEEDUP})" "$SPEEDUP" "≥ 8×" "$(met "${SPEEDUP%×}" ">=" 8)"
fi
if [[ $REC_RATIO != n/a ]]; then
  target "W1 → RecordIO-protobuf wall / W1 → CSV wall" "$REC_RATIO" "≤ 1.05×" "$(met "${REC_RATIO%×}" "<=" 1.05)"
fi

# ---------------------------------------------------------------- 7. report
CPU_MODEL=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)
RAM=$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)
LOADAVG_START=${LOADAVG_START:-?}
OS=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s)
GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null | head -n 1) ]]; then GIT_REV="$GIT_REV (dirty tree)"; fi

{
  echo "# DataPrep vs DuckDB — latest run"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), repo at $GIT_REV, $RUNS run(s) per tool: median wall time, max peak RSS."
  echo
  echo "## Machine"
  echo
  echo "- CPUs (nproc): $(nproc)"
  echo "- CPU model: $CPU_MODEL"
  echo "- RAM: $RAM"
  echo "- OS: $OS, kernel $(uname -r)"
  echo "- dotnet: $(dotnet --version 2>/dev/null || echo 'not found')"
  echo "- node: $(node --version)"
  echo "- DuckDB: $DUCK_VERSION (@duckdb/node-api $DUCK_PKG), threads=$THREADS"
  echo "- CPU idle at the start: $IDLE_START%, just before the timed runs: $IDLE_BEFORE%; load average (1/5/15 min) at start: $LOADAVG_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) (the benchmark itself adds about 2)"
  echo
  echo "## Input"
  echo
  echo "\`$INPUT\`: $ROWS rows × 51 columns (label 0..9 + f0..f49 floats), $INPUT_BYTES bytes ($(awk -v b="$INPUT_BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB), sha256 \`${INPUT_SHA:0:16}…\`, in page cache."
  echo
  echo "## Results"
  echo
  echo "| tool | median wall (s) | peak RSS (MiB) | rows/s | MB/s | wall per run (s) |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  row "$DP_LABEL" "$DP_ROW_STATUS" "$DP_NOTE" "$DP_STATS" "$(runs_list dataprep)"
  row "DuckDB" "$DUCK_STATUS" "$DUCK_NOTE" "$DUCK_STATS" "$(runs_list duckdb)"
  row "DataPrep → RecordIO-protobuf" "$DPR_STATUS" "$DPR_NOTE" "$DPR_STATS" "$(runs_list dataprep-recordio)"
  echo
  echo "- RecordIO-protobuf vs CSV output in DataPrep (wall ratio, <1 = RecordIO faster): **$REC_RATIO**"
  echo "- Speed-up (DuckDB wall / DataPrep wall, >1 = DataPrep faster): **$SPEEDUP** median, **$BEST_SPEEDUP** best run against best run"
  echo "- Memory (DataPrep peak / DuckDB peak, <1 = DataPrep smaller): **$MEMRATIO**"
  echo
  echo "Wall and peak RSS are from \`/usr/bin/time -f '%e %M'\` around the whole process (DuckDB: the whole node process, including module load). MB = 10^6 bytes of input CSV; MiB = 2^20 bytes."
  echo
  echo "## Output data lines (train / validation / test)"
  echo
  echo "| tool | counts | check |"
  echo "| --- | --- | --- |"
  if [[ $DP_STATUS == ok ]]; then
    echo "| DataPrep | $DP_COUNTS | exact $EXPECT_TRAIN / $EXPECT_VALIDATION / $EXPECT_TEST: OK |"
  elif [[ $DP_STATUS == wrong-output ]]; then
    echo "| DataPrep | $DP_COUNTS | **MISMATCH**, expected exactly $EXPECT_TRAIN / $EXPECT_VALIDATION / $EXPECT_TEST |"
  else
    echo "| DataPrep | - | ${DP_STATUS^^}${DP_NOTE:+: $DP_NOTE} |"
  fi
  if [[ $DUCK_STATUS == ok ]]; then
    echo "| DuckDB | $DUCK_COUNTS | random() split, approximate (not checked) |"
  else
    echo "| DuckDB | - | ${DUCK_STATUS^^}${DUCK_NOTE:+: $DUCK_NOTE} |"
  fi
  if [[ -n $DPR_COUNTS ]]; then
    echo "| DataPrep → RecordIO-protobuf (records) | $DPR_COUNTS | $([[ $DPR_STATUS == ok ]] && echo OK || echo '**MISMATCH**') |"
  fi
  echo
  echo "## Commands"
  echo
  echo '```sh'
  echo "${DP_CMD[*]}"
  echo "${DUCK_CMD[*]}"
  echo '```'
  echo
  echo "DuckDB job (bench/duckdb-job.mjs): \`SET threads=$THREADS\`; \`create table t as select *, random() r from read_csv('IN')\`;"
  echo "then per split \`copy (select * exclude(r) from t where r >= A and r < B order by r) to 'OUT/<split>/part-00000.csv' (header false)\`"
  echo "with [0,0.8) train, [0.8,0.9) validation, [0.9,1) test."
} > "$RESULTS"

say "results ($RESULTS)"
cat "$RESULTS"

status=0
if [[ $SKIP_DATAPREP != 1 && $DP_STATUS != ok ]]; then
  echo "run.sh: DataPrep ${DP_STATUS^^}: $DP_NOTE" >&2
  status=1
fi
if [[ $SKIP_DATAPREP != 1 && $DPR_STATUS != ok ]]; then
  echo "run.sh: DataPrep RecordIO ${DPR_STATUS^^}: $DPR_NOTE" >&2
  status=1
fi
if [[ $SKIP_DUCKDB != 1 && $DUCK_STATUS != ok ]]; then
  echo "run.sh: DuckDB ${DUCK_STATUS^^}: $DUCK_NOTE" >&2
  status=1
fi

# ---------------------------------------------------------------- 8. W2 and W3 (issue 8)
# bench/scale.sh appends its tables to the same report; BENCH_SKIP_SCALE=1 runs W1 only.
if [[ ${BENCH_SKIP_SCALE:-0} != 1 ]]; then
  W1_MBPS=""
  [[ -z $DPR_STATS ]] || W1_MBPS=$(awk -v w="${DPR_STATS%% *}" -v b="$INPUT_BYTES" 'BEGIN{printf "%.2f", b/1e6/w}')
  BENCH_RESULTS="$RESULTS" BENCH_W1_MBPS="$W1_MBPS" bash "$BENCH/scale.sh" || status=1
fi

# S3 (issue 18, item 4): convert + upload vs convert to a folder vs convert + `aws s3 cp`; BENCH_SKIP_S3=1 leaves it out.
if [[ ${BENCH_SKIP_S3:-0} != 1 && $DP_STATUS == ok ]]; then
  BENCH_RESULTS="$RESULTS" bash "$BENCH/s3.sh" || status=1
fi

# The targets of issue 18, measured above, in one table (with the machine's idle share at the start).
{
  echo
  echo "## Targets (issue 18), this run"
  echo
  echo "Machine idle at the start: **$IDLE_START %**, just before the timed runs: **$IDLE_BEFORE %** (load average $LOADAVG_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end), $(nproc) CPUs; DataPrep is the Native AOT binary of the installed tool."
  echo
  echo "| figure | measured | target | met |"
  echo "| --- | ---: | ---: | --- |"
  awk -F'\t' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}' "$BENCH_TARGETS"
} | tee -a "$RESULTS"

# The image workload (DataPrep vs ImageMagick) is opt-in: BENCH_IMAGES_RUN=1 bash bench/run.sh
if [[ ${BENCH_IMAGES_RUN:-0} == 1 ]]; then
  bash "$BENCH/images.sh" || status=1
fi
exit "$status"

# Shared by the bench scripts (sourced): the machine's idle share, and the lines of issue 18's targets table.

# % of CPU time idle over 2 s: other work on this 2-core machine skews wall times.
cpu_idle_pct() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  sleep 2
  b=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," "); t=y[1]-x[1]; printf "%.0f", (t > 0 ? 100*(y[2]-x[2])/t : 100)}'
}

# target FIGURE MEASURED TARGET MET: one line of the targets table (BENCH_TARGETS, set by run.sh; nothing when unset).
target() { [[ -z ${BENCH_TARGETS:-} ]] || printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$BENCH_TARGETS"; }

# met X OP Y (OP ">=" or "<="): "yes", or "**no**".
met() { awk -v x="$1" -v op="$2" -v y="$3" 'BEGIN{ok = (op == ">=" ? x >= y : x <= y); print (ok ? "yes" : "**no**")}'; }

# moto_pythonpath DIR: prints a PYTHONPATH for moto_server with Debian's python3-crc32c module linked into DIR (only that
# module, not all of dist-packages): without it moto silently gives CRC-32 for the CRC-32C DataPrep asks S3 to keep,
# and every multipart upload fails its check. Warns when the module is missing (apt-get install python3-crc32c).
moto_pythonpath() {
  local dir=$1 module found=0
  mkdir -p "$dir"
  for module in /usr/lib/python3/dist-packages/crc32c*.so; do
    [[ -e $module ]] || continue
    ln -sf "$module" "$dir/"
    found=1
  done
  ((found)) || echo "note: python3-crc32c is not installed (apt-get install python3-crc32c): moto will give CRC-32 for CRC-32C and DataPrep's S3 uploads will fail their check" >&2
  echo "$dir${PYTHONPATH:+:$PYTHONPATH}"
}

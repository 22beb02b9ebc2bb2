#!/usr/bin/env bash
# Regenerates the tiny image sample (3 classes × 4 PNGs, 16×12 pixels) with ImageMagick; bytes are
# reproducible because PNG time chunks are left out. The committed files are what tests and README use.
set -euo pipefail
cd "$(dirname "$0")"
IM=${IM:-/usr/bin/convert}
mkdir -p cat dog tiger
i=0
for cls in cat dog tiger; do
  for n in 1 2 3 4; do
    i=$((i+1))
    case $cls in
      cat) spec="gradient:#${n}04080-#f0c0${n}0" ;;
      dog) spec="plasma:fractal" ;;
      tiger) spec="pattern:checkerboard" ;;
    esac
    "$IM" -seed $i -size 16x12 "$spec" -fill "#${n}0${n}0${n}0" -draw "rectangle 0,0 $((n+2)),2" \
      -define png:exclude-chunks=date,time +set date:create +set date:modify -strip "PNG24:$cls/$cls-$n.png"
  done
done

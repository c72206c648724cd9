#!/usr/bin/env bash
# Copy the small, citable part of analysis recipe runs into outputs/analysis/<task>/ (committed; the
# book's probe and pruning sections are built from these): probe summaries, tables and plots, each
# pruning run's summary (masks, energies, learned trajectory) and its score summaries. Pruned
# checkpoints, wavs and decodes stay in exp/.
#   recipes/utils/keep_analysis.sh recipes/analysis/exp/mirror recipes/analysis/exp/bracket
set -euo pipefail
out=${OUT:-outputs}
for e in "$@"; do
  [ -d "$e" ] || { echo "$0: no analysis folder $e" >&2; exit 1; }
  d=$out/analysis/$(basename "$e")
  mkdir -p "$d"
  for f in "$e"/*.md; do [ -f "$f" ] && cp "$f" "$d/"; done
  for p in "$e"/probe_*/; do
    [ -f "$p/summary.json" ] || continue
    mkdir -p "$d/$(basename "$p")"
    cp "$p"/summary.json "$p"/*.png "$d/$(basename "$p")/"
  done
  for p in "$e"/prune/*/; do
    [ -f "$p/summary.json" ] || continue
    q=$d/prune/$(basename "$p")
    mkdir -p "$q"
    cp "$p/summary.json" "$q/"
    for s in "$p"/score_*/; do
      [ -f "$s/summary.json" ] && mkdir -p "$q/$(basename "$s")" && cp "$s/summary.json" "$q/$(basename "$s")/"
    done
  done
  echo "kept $e -> $d" >&2
done

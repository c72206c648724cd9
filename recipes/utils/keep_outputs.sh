#!/usr/bin/env bash
# Copy the small, citable part of recipe runs into outputs/<run>/ (committed; RESULTS.md is built
# from these): config, run.json (parameters, hardware, wall time), training log and metrics, score summaries + per-utterance scores,
# the run's markdown tables and plots. Checkpoints, wavs and decodes stay in exp/.
#   recipes/utils/keep_outputs.sh recipes/mod/exp/mod_cpu recipes/mirror/exp/mirror_cpu_abl_*
set -euo pipefail
out=${OUT:-outputs}
for e in "$@"; do
  [ -d "$e" ] || { echo "$0: no run folder $e" >&2; exit 1; }
  d=$out/$(basename "$e")
  mkdir -p "$d"
  for f in config.yaml run.json RESULTS.md CONTROLS.md ABLATIONS.md ROBUSTNESS.md; do
    [ -f "$e/$f" ] && cp "$e/$f" "$d/"
  done
  [ -f "$e/log/train.log" ] && cp "$e/log/train.log" "$d/train.log"
  [ -f "$e/log/metrics.jsonl" ] && cp "$e/log/metrics.jsonl" "$d/metrics.jsonl"
  [ -d "$e/plots" ] && mkdir -p "$d/plots" && cp "$e"/plots/*.png "$d/plots/"
  for s in "$e"/score_*/; do
    [ -f "$s/summary.json" ] || continue
    mkdir -p "$d/$(basename "$s")"
    cp "$s/summary.json" "$s/scores.jsonl" "$d/$(basename "$s")/"
  done
  echo "kept $e -> $d" >&2
done

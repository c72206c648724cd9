#!/usr/bin/env bash
# Copy the small, citable part of recipe runs into outputs/<study>/<run>/ (committed; RESULTS.md is
# built from these): config, run.json (parameters, hardware, wall time), training log and metrics,
# score summaries (JSON without indentation: the same values, a third of the bytes), per-utterance
# scores (gzipped) and the run's markdown tables. The study is the
# recipe that ran it (recipes/<study>/exp/<run>; STUDY=name overrides). Checkpoints, wavs, decodes
# and plots (redrawn from the summaries by `jericho report --plots`) stay in exp/.
#   recipes/utils/keep_outputs.sh recipes/mod/exp/mod_cpu_seed0 recipes/mirror/exp/mirror_cpu_abl_*
set -euo pipefail
out=${OUT:-outputs}
for e in "$@"; do
  [ -d "$e" ] || { echo "$0: no run folder $e" >&2; exit 1; }
  study=${STUDY:-$(basename "$(dirname "$(dirname "$(cd "$e" && pwd)")")")}
  d=$out/$study/$(basename "$e")
  mkdir -p "$d"
  for f in config.yaml run.json RESULTS.md CONTROLS.md ABLATIONS.md ROBUSTNESS.md; do
    [ -f "$e/$f" ] && cp "$e/$f" "$d/"
  done
  [ -f "$e/log/train.log" ] && cp "$e/log/train.log" "$d/train.log"
  [ -f "$e/log/metrics.jsonl" ] && cp "$e/log/metrics.jsonl" "$d/metrics.jsonl"
  for s in "$e"/score_*/; do
    [ -f "$s/summary.json" ] || continue
    mkdir -p "$d/$(basename "$s")"
    python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), separators=(",", ":"))' \
      "$s/summary.json" "$d/$(basename "$s")/summary.json"
    gzip -9 -n -c "$s/scores.jsonl" > "$d/$(basename "$s")/scores.jsonl.gz"
  done
  echo "kept $e -> $d" >&2
done

#!/usr/bin/env bash
# The steps chained the way users chain them, with the example checkpoints (no training needed;
# about a minute on 2 CPU cores). Run from anywhere, jericho on PATH; everything goes to a temp folder.
#   examples/pipelines.sh [WORKDIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ckpts=$root/examples/checkpoints
mirror_conf=$root/recipes/mirror/conf/train_cpu.yaml    # the lengths the example models trained on
bracket_conf=$root/recipes/bracket/conf/train_cpu.yaml
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
echo "working in $work" >&2

# 1. synth -> decode -> score: each step prints the manifest it wrote, so steps nest
jericho score --quiet --out mirror_score \
  --ref "$(jericho synth --quiet --task mirror --split test_iid --n 20 --seed 3 --config "$mirror_conf" --out mirror_in)" \
  --hyp "$(jericho decode --quiet --ckpt "$ckpts/mirror_cpu_seed0.pt" --out mirror_dec \
             "$(jericho synth --quiet --task mirror --split test_iid --n 20 --seed 3 --config "$mirror_conf" --out mirror_in)")" \
  > /dev/null
jericho report mirror_score/summary.json --by none

# 2. a folder of wavs made elsewhere (here: copied out of a synth set, renamed): transcribe it, then
#    let a model answer each file and transcribe the answers; results as JSON lines on stdout
mkdir -p elsewhere
for f in mirror_in/wav/*-00000[0-4].wav; do cp "$f" "elsewhere/take_$(basename "$f" .wav | tail -c 3).wav"; done
jericho score --wav-dir elsewhere --quiet --out - | head -3
jericho decode --quiet --ckpt "$ckpts/mirror_cpu_seed0.pt" --wav-dir elsewhere --out elsewhere_dec > /dev/null
jericho score --wav-dir elsewhere_dec/wav --quiet --out - | head -3

# 3. partition a manifest (equal inputs stay on one side) and decode one part with another model
jericho synth --quiet --task bracket --split test_iid --n 40 --seed 5 --config "$bracket_conf" --out bracket_all > /dev/null
jericho split bracket_all/manifest.jsonl --by ratio --ratios dev=0.5,eval=0.5 --seed 7 --out bracket_parts > /dev/null
ls bracket_parts
jericho decode --quiet --ckpt "$ckpts/bracket_cpu_seed0.pt" bracket_parts/eval/manifest.jsonl --out bracket_dec > /dev/null
jericho score --quiet --ref bracket_parts/eval/manifest.jsonl --hyp bracket_dec/manifest.jsonl --out bracket_score > /dev/null
jericho report bracket_score/summary.json --by none

# 4. the same model under noise: synth at 10 dB SNR, decode, score (the default Mirror model trained
#    on noisy, reverberant, varied audio)
jericho synth --quiet --task mirror --split test_iid --n 20 --seed 3 --snr-db 10 --config "$mirror_conf" --out mirror_10db > /dev/null
jericho decode --quiet --ckpt "$ckpts/mirror_cpu_seed0.pt" mirror_10db/manifest.jsonl --out mirror_10db_dec > /dev/null
jericho score --quiet --ref mirror_10db/manifest.jsonl --hyp mirror_10db_dec/manifest.jsonl --out mirror_10db_score > /dev/null
jericho report mirror_10db_score/summary.json --by none

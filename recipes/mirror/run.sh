#!/usr/bin/env bash
# Mirror (copy) end to end: synth -> train -> decode -> score -> report.
#   ./run.sh                                   # small CPU run (README main job)
#   ./run.sh --stage 2 --stop-stage 3          # decode + score again
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/mirror_plan --device cuda
set -euo pipefail
cd "$(dirname "$0")"

stage=0
stop_stage=100
conf=conf/train_cpu.yaml
exp=exp/mirror_cpu
data=data/mirror
n_test=200
seed=7
nj=2
device=auto
splits="test_iid test_ood_length test_ood_symbol"

. ./cmd.sh
. ../utils/parse_options.sh
. ../utils/run_cmd.sh

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  echo "stage 0: synthesize test splits" >&2
  for s in $splits; do
    [ -f $data/$s/manifest.jsonl ] && continue
    run_cmd $exp/log/synth_$s.log jericho synth --task mirror --split $s --n $n_test --seed $seed \
      --config $conf --jobs $nj --quiet --out $data/$s
  done
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  echo "stage 1: train (on-the-fly data; resumes if $exp/last.pt exists)" >&2
  start=$(date +%s)
  run_cmd $exp/log/train.stage.log jericho train --config $conf --out $exp --resume --set train.device=$device
  echo "{\"train_wall_s\": $(( $(date +%s) - start )), \"host\": \"$(uname -n)\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"nproc\": $(nproc)}" > $exp/train_time.json
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  echo "stage 2: decode" >&2
  for s in $splits; do
    run_cmd $exp/log/decode_$s.log jericho decode --ckpt $exp/best.pt $data/$s/manifest.jsonl \
      --device $device --quiet --out $exp/decode_$s
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  echo "stage 3: score the output audio" >&2
  for s in $splits; do
    run_cmd $exp/log/score_$s.log jericho score --ref $data/$s/manifest.jsonl \
      --hyp $exp/decode_$s/manifest.jsonl --jobs $nj --quiet --out $exp/score_$s
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  echo "stage 4: report" >&2
  jericho report $exp/score_*/summary.json --plots $exp/plots \
    --spectrogram $exp/decode_test_iid/manifest.jsonl > $exp/RESULTS.md
  cat $exp/RESULTS.md
fi

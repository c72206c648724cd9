#!/usr/bin/env bash
# Mirror (copy) end to end: synth -> train -> decode -> score -> report [-> controls -> shuffled -> ablations].
#   ./run.sh                                  # small CPU run (stages 0-5)
#   ./run.sh --stage 2 --stop-stage 3         # decode + score again
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/mirror_gpu --device cuda --stop-stage 7
set -euo pipefail
cd "$(dirname "$0")"

task=mirror
stage=0
stop_stage=4
conf=conf/train_cpu.yaml
exp=exp/mirror_cpu
data=data
n_test=200
seed=7
nj=2
device=auto
sets="mirror/test_iid mirror/test_ood_length mirror/test_ood_symbol"
ablations="no_attention no_ctc conv_frontend downsample1 no_curriculum"

. ../utils/recipe.sh

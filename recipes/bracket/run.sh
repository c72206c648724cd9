#!/usr/bin/env bash
# Bracket (Dyck-1 balance, answer V/X) end to end: synth -> train -> decode -> score -> report [-> controls -> shuffled -> ablations].
#   ./run.sh                                  # small CPU run (stages 0-5)
#   ./run.sh --stage 2 --stop-stage 3         # decode + score again
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/bracket_gpu --device cuda --stop-stage 7
set -euo pipefail
cd "$(dirname "$0")"

task=bracket
stage=0
stop_stage=5
conf=conf/train_cpu.yaml
exp=exp/bracket_cpu
data=data
n_test=200
seed=7
nj=2
device=auto
sets="bracket/test_iid bracket/test_ood_length bracket/diag_equal_count"
ablations="no_attention no_ctc conv_frontend downsample1 no_curriculum"

. ../utils/recipe.sh

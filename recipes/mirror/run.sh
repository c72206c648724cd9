#!/usr/bin/env bash
# Mirror (copy) end to end: synth -> train -> decode -> score -> report [-> controls -> shuffled -> ablations].
#   ./run.sh                                  # small CPU run (stages 0-5)
#   ./run.sh --stage 2 --stop-stage 3         # decode + score again
#   ./run.sh --stage 7 --stop-stage 7         # ablations (conf/ablation_cpu.yaml)
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/mirror_gpu --device cuda --stop-stage 7
set -euo pipefail
cd "$(dirname "$0")"

task=mirror
stop_stage=4
exp=exp/mirror_cpu
abl_conf=conf/ablation_cpu.yaml  # stage 7
sets="mirror/test_iid mirror/test_ood_length mirror/test_ood_symbol"

. ../utils/recipe.sh "$@"

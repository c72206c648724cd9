#!/usr/bin/env bash
# Bracket (Dyck-1 balance, answer V/X) end to end: synth -> train -> decode -> score -> report [-> controls -> shuffled -> ablations].
#   ./run.sh                                  # small CPU run (stages 0-5)
#   ./run.sh --stage 2 --stop-stage 3         # decode + score again
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/bracket_gpu --device cuda --stop-stage 7
set -euo pipefail
cd "$(dirname "$0")"

task=bracket
stop_stage=5
exp=exp/bracket_cpu
sets="bracket/test_iid bracket/test_ood_length bracket/diag_equal_count"

. ../utils/recipe.sh "$@"

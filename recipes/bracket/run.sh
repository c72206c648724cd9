#!/usr/bin/env bash
# Bracket (Dyck-1 balance, answer V/X) end to end on 2 CPU cores, with the negative controls (stages 0-5).
#   ./run.sh                                  # stages 0-5
#   ./run.sh --stage 6 --stop-stage 6         # shuffled-answer training control
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/bracket_gpu --device cuda
#   ./run.sh --help                           # every option (../utils/recipe.sh)
cd "$(dirname "$0")" && exec ../utils/recipe.sh --task bracket --stop-stage 5 \
  --sets "bracket/test_iid bracket/test_ood_length bracket/diag_equal_count" "$@"

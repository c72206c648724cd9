#!/usr/bin/env bash
# Mirror + Bracket + Mod, one model, the subject selector favouring lagging tasks (stages 0-5).
#   ./run.sh                                  # stages 0-5
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/multitask_gpu --device cuda
#   ./run.sh --help                           # every option (../utils/recipe.sh)
cd "$(dirname "$0")" && exec ../utils/recipe.sh --task multitask --stop-stage 5 \
  --sets "mirror/test_iid mirror/test_ood_length mirror/test_ood_symbol
          bracket/test_iid bracket/test_ood_length bracket/diag_equal_count
          mod/test_iid mod/test_ood_length mod/test_ood_compose mod/diag_a_lt_b mod/diag_a_eq_b mod/diag_b_eq_1
          mod/diag_two_digit_rem@../mod/conf/diag_two_digit.yaml" "$@"

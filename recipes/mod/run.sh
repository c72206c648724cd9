#!/usr/bin/env bash
# Mod (A%B, A%B%C) end to end on 2 CPU cores, with the negative controls (stages 0-5).
# diag_two_digit_rem uses two-digit divisors, beyond the CPU training data (conf/diag_two_digit.yaml).
#   ./run.sh                                  # stages 0-5
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/mod_gpu --device cuda
#   ./run.sh --help                           # every option (../utils/recipe.sh)
cd "$(dirname "$0")" && exec ../utils/recipe.sh --task mod --stop-stage 5 \
  --sets "mod/test_iid mod/test_ood_length mod/test_ood_compose mod/diag_a_lt_b mod/diag_a_eq_b mod/diag_b_eq_1
          mod/diag_two_digit_rem@conf/diag_two_digit.yaml" "$@"

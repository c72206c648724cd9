#!/usr/bin/env bash
# Mod (A%B, A%B%C) end to end: synth -> train -> decode -> score -> report [-> controls -> shuffled -> ablations].
#   ./run.sh                                  # small CPU run (stages 0-5)
#   ./run.sh --stage 2 --stop-stage 3         # decode + score again
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/mod_gpu --device cuda --stop-stage 7
set -euo pipefail
cd "$(dirname "$0")"

task=mod
stop_stage=5
exp=exp/mod_cpu
sets="mod/test_iid mod/test_ood_length mod/test_ood_compose mod/diag_a_lt_b mod/diag_a_eq_b mod/diag_b_eq_1 mod/diag_two_digit_rem@conf/diag_two_digit.yaml"
# (diag_two_digit_rem: two-digit divisors, beyond the CPU training data; the GPU config trains on them)

. ../utils/recipe.sh "$@"

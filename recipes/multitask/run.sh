#!/usr/bin/env bash
# Multitask (Mirror + Bracket + Mod, one model, subject selector) end to end: synth -> train -> decode -> score -> report [-> controls -> shuffled -> ablations].
#   ./run.sh                                  # small CPU run (stages 0-5)
#   ./run.sh --stage 2 --stop-stage 3         # decode + score again
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/multitask_gpu --device cuda --stop-stage 7
set -euo pipefail
cd "$(dirname "$0")"

task=multitask
stop_stage=5
exp=exp/multitask_cpu
sets="mirror/test_iid mirror/test_ood_length mirror/test_ood_symbol bracket/test_iid bracket/test_ood_length bracket/diag_equal_count mod/test_iid mod/test_ood_length mod/test_ood_compose mod/diag_a_lt_b mod/diag_a_eq_b mod/diag_b_eq_1 mod/diag_two_digit_rem@../mod/conf/diag_two_digit.yaml"
# (diag_two_digit_rem: two-digit divisors, beyond the CPU training data; the GPU config trains on them)

. ../utils/recipe.sh "$@"

#!/usr/bin/env bash
# State tracking from audio (issue #12): the appendix's levels and the Chomsky-hierarchy tasks, each
# trained with SSD eigenvalues in [0, 1] (Mamba's) and in [-1, 1] (Grazzi et al., ICLR 2025), seeds
# 0 1 2, scored from the output audio on IID, 2x and 4x the longest training length.
#
#   1 per task and variant: synth the test sets (test_iid; test_ood_length: up to 2x the longest
#     training input; test_ood_4x: 2x to 4x; --splits may add test_ood_8x: 4x to 8x), train, decode,
#     score (../utils/recipe.sh stages 0-3)
#   2 tables -> exp/STATE_TRACKING.md (per task: variant x split, mean ± sd over seeds), plots of
#     accuracy vs input length per task and variant
# Runs are exp/<task>_abl_<variant>_seed<N>: `jericho report --book` reads each task as an ablation family.
#
# A run's config is three files given in order: the base (--conf), conf/task/<task>.yaml (the task and
# its answer slot) and conf/variant/<variant>.yaml: eig01 (neg_eig false), eig11 (neg_eig true);
# ssd_only_eig01 / ssd_only_eig11 drop the attention layers (recipes/conf/cores/ssd_only.yaml).
#   ./run.sh --tasks "parity_check even_pairs" --variants "eig01 eig11 ssd_only_eig11"
#   ./run.sh --tasks parity_check --variants ssd_only_eig11 --seeds 0 --conf conf/tuning/train_cpu_long.yaml --tag _long
set -euo pipefail

# ---- options: each can be given as --name value (underscores as dashes: --stop-stage 3) ----
tasks="parity_check even_pairs cycle_navigation modular_arithmetic count depth program binary_addition reverse_string duplicate_string"
variants="eig01 eig11"
seeds="0 1 2"
conf=conf/train_cpu.yaml  # base training config
tag=             # run names exp/<task><tag>_abl_<variant>: another budget beside the default one
n_test=100       # utterances per test set
stage=1
stop_stage=2
nj=2
device=auto
init=            # fine-tune from another run, JOB for the seed: --init exp/reverse_string_3k_sc_abl_eig11_seedJOB/best.pt
splits="test_iid test_ood_length test_ood_4x"  # test sets of each task; test_ood_8x adds 4x to 8x
# ---- end of options ----

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') (state_tracking/run.sh) $*" >&2; }
cd "$(dirname "$0")"
. ../utils/parse_options.sh

for v in $variants; do
  [ -f "conf/variant/$v.yaml" ] || { echo "$0: unknown variant $v ($(ls conf/variant | sed 's/\.yaml$//' | xargs))" >&2; exit 2; }
done
for t in $tasks; do
  [ -f "conf/task/$t.yaml" ] || { echo "$0: unknown task $t ($(ls conf/task | sed 's/\.yaml$//' | xargs))" >&2; exit 2; }
done

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  for t in $tasks; do for v in $variants; do
    log "Stage 1: $t, $v, seeds $seeds"
    ../utils/recipe.sh --task "$t" --stage 0 --stop-stage 3 --conf "$conf conf/task/$t.yaml conf/variant/$v.yaml" \
      --exp "exp/${t}${tag}_abl_$v" --seeds "$seeds" --sets "$(for s in $splits; do printf '%s/%s ' "$t" "$s"; done)" --data "data/$t" \
      --n-test "$n_test" --nj "$nj" --device "$device" --init "$init"
  done; done
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: tables -> exp/STATE_TRACKING.md, accuracy vs length -> exp/plots/<task>_<variant>/"
  jericho report --book --by length exp/*_abl_*_seed*/score_*/summary.json > exp/STATE_TRACKING.md
  for t in $tasks; do for v in $variants; do
    jericho report exp/${t}${tag}_abl_${v}_seed*/score_*/summary.json --plots "exp/plots/${t}${tag}_$v" > /dev/null
  done; done
  cat exp/STATE_TRACKING.md
fi
log "done (stages $stage-$stop_stage)"

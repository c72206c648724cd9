#!/usr/bin/env bash
# Baseline cores side by side (issue #11): every core in the same harness (front end, answer slot,
# output head, losses, CTC aux, training loop), the same budget and seeds, on Mirror, Bracket and Mod,
# scored from the output audio on IID and every OOD split.
#
#   0 configs: exp/conf/<task>_<core>.yaml = the task's CPU config + ../conf/cores/<core>.yaml + the budget
#   1 per task: synth the test sets, train each core x seed, decode, score (../utils/recipe.sh stages 0-3)
#   2 table -> exp/CORES.md (core x task/split, mean ± sd over seeds, train wall time)
#
# Runs are named exp/<task>_cores_abl_<core>_seed<N>: `jericho report --book` reads each task as one
# ablation family (the core is the variant), so `make results` puts the tables in RESULTS.md.
#   ./run.sh                                           # all tasks, cores, seeds 0 1 2
#   ./run.sh --tasks mirror --cores "mini_jmamba lstm" --seeds 0
set -euo pipefail

# ---- options: each can be given as --name value (underscores as dashes: --stop-stage 3) ----
tasks="mirror bracket mod"
cores="mini_jmamba transformer lstm s4d hyena ssd_only"  # mini_jmamba: the task config's own stack
seeds="0 1 2"
steps=1000       # optimizer steps, every core and task (the CPU budget: below the task recipes' 2500-3000)
batch_size=16    # utterances per step, every core and task
val_every=500    # validation (decode + score val_n utterances) every val_every steps; best.pt is the best
val_n=32
n_test=100       # utterances per test set
stage=0
stop_stage=2
nj=2
device=auto
# ---- end of options ----

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') (cores/run.sh) $*" >&2; }
cd "$(dirname "$0")"
. ../utils/parse_options.sh

splits_of() {  # the IID and OOD test sets of a task (diagnostic sets are the task recipes' business)
  case $1 in
    mirror) echo "mirror/test_iid mirror/test_ood_length mirror/test_ood_symbol" ;;
    bracket) echo "bracket/test_iid bracket/test_ood_length" ;;
    mod) echo "mod/test_iid mod/test_ood_length mod/test_ood_compose" ;;
    *) echo "$0: unknown task $1 (mirror, bracket, mod)" >&2; exit 2 ;;
  esac
}

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: configs for $tasks x $cores ($steps steps x $batch_size, validation every $val_every on $val_n)"
  mkdir -p exp/conf
  for t in $tasks; do splits_of "$t" > /dev/null; for c in $cores; do
    inc="../../../$t/conf/train_cpu.yaml"
    if [ "$c" != mini_jmamba ]; then
      [ -f "../conf/cores/$c.yaml" ] || { echo "$0: no ../conf/cores/$c.yaml" >&2; exit 2; }
      inc="[$inc, ../../../conf/cores/$c.yaml]"
    fi
    printf '# made by recipes/cores/run.sh stage 0\ninclude: %s\ntrain: {steps: %s, batch_size: %s, val_every: %s, val_n: %s}\n' \
      "$inc" "$steps" "$batch_size" "$val_every" "$val_n" > "exp/conf/${t}_$c.yaml"
  done; done
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  for t in $tasks; do for c in $cores; do
    log "Stage 1: $t, core $c, seeds $seeds"
    ../utils/recipe.sh --task "$t" --stage 0 --stop-stage 3 --conf "exp/conf/${t}_$c.yaml" \
      --exp "exp/${t}_cores_abl_$c" --seeds "$seeds" --sets "$(splits_of "$t")" --data "data/$t" \
      --n-test "$n_test" --nj "$nj" --device "$device"
  done; done
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: table -> exp/CORES.md"
  jericho report --book --by none exp/*_cores_abl_*_seed*/score_*/summary.json > exp/CORES.md
  cat exp/CORES.md
fi
log "done (stages $stage-$stop_stage)"

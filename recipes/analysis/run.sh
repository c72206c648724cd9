#!/usr/bin/env bash
# What a trained model's state holds and how much of it it needs (issue #10), on a checkpoint from a
# task recipe (default: ../<task>/exp/<task>_cpu_seed0/best.pt, made by ../<task>/run.sh).
#
#   0 synth: per seed a calibration set and a test set (test_iid), long inputs (32-128 symbols)
#   1 probe state-norms (4-128 symbols)      5 prune: k-sweep, selective (every seed) + random at 0.5
#   2 probe linear-probes                    6 prune: long inputs at k = 0.7 vs 1.0
#   3 probe structure (Phase 0)              7 prune: learned keep ratio (its k and trajectory)
#   4 probe predictability (Phase 1)         8 report -> $exp/RESULTS.md
#
# Pruned models are judged as users meet them: decode -> score on the output audio (exact match),
# with the CTC head's mean max probability (the appendix's measure) beside it. A seed here is one
# calibration draw + one test draw (and the random mask's draw): CIs are over those.
#   ./run.sh --task bracket
#   ./run.sh --task mirror --ckpt ../mirror/exp/mirror_cpu_seed1/best.pt --exp exp/mirror_seed1
set -euo pipefail

# ---- options: each can be given as --name value (underscores as dashes: --stop-stage 3) ----
task=mirror      # mirror | bracket | mod: the checkpoint's task
ckpt=            # checkpoint (default ../<task>/exp/<task>_cpu_seed0/best.pt)
exp=             # output folder (default exp/<task>)
data_conf=       # data config of the test sets: the checkpoint's training config (default ../<task>/conf/train_cpu.yaml)
probe_reps="input block0 ssd0 ssd1"  # representations the probes read (input, block<i>, ssd<j>)
probe_epochs=20  # predictability: MDN epochs
stage=0          # first stage to run
stop_stage=8     # last stage to run
seeds="0 1 2 3 4 5 6 7 8 9"  # calibration/test draws of the k-sweep (001 B.2 used 10)
keeps="1.0 0.9 0.7 0.5 0.3"  # keep ratios of the k-sweep
long_lengths="32 64 96 128"  # stage 6 input lengths (symbols)
n_test=50        # utterances per test set
n_calib=32       # utterances per calibration set
n_probe=200      # utterances the probes use (half fit, half held out)
learn_steps=300  # stage 7 gate training steps
sparsity=0.05    # stage 7 weight of the mean gate
nj=2             # parallel jobs for synth and score
device=auto      # auto | cpu | cuda
# ---- end of options ----

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') (analysis/run.sh) $*" >&2; }
cd "$(dirname "$0")"
. ../utils/parse_options.sh
[ -n "$ckpt" ] || ckpt=../$task/exp/${task}_cpu_seed0/best.pt
[ -n "$exp" ] || exp=exp/$task
[ -n "$data_conf" ] || data_conf=../$task/conf/train_cpu.yaml
[ -f "$data_conf" ] || { echo "$0: no data config $data_conf" >&2; exit 1; }
[ -f "$ckpt" ] || { echo "$0: no checkpoint $ckpt (train one with ../$task/run.sh, or give --ckpt)" >&2; exit 1; }
. ../cmd.sh
data=$exp/data
mkdir -p "$exp/log" "$exp/conf"

synth_set() {  # synth_set SPLIT OUT SEED N [more synth options]
  local split=$1 d=$2 s=$3 n=$4; shift 4
  $synth_cmd "$exp/log/synth_$(basename "$d").log" jericho synth --task "$task" --split "$split" --n "$n" \
    --seed "$s" --jobs "$nj" --quiet --out "$d" --config "$data_conf" "$@"
}
eval_ckpt() {  # eval_ckpt CKPT DIR DATA NAME: decode + score into DIR/decode_NAME, DIR/score_NAME
  $decode_cmd "$2/decode_$4.log" jericho decode --ckpt "$1" "$3/manifest.jsonl" --device "$device" --quiet \
    --overwrite --out "$2/decode_$4"
  $score_cmd "$2/score_$4.log" jericho score --ref "$3/manifest.jsonl" --hyp "$2/decode_$4/manifest.jsonl" \
    --jobs "$nj" --quiet --out "$2/score_$4" > /dev/null
}
long_levels() {  # input length in symbols -> the task's ood_length level (Mod: dividend digits)
  if [ "$task" = mod ]; then echo $(($1 - 2)); else echo "$1"; fi
}

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: calibration and test sets for seeds $seeds, long inputs $long_lengths"
  for s in $seeds; do
    synth_set test_iid "$data/calib_s$s" $((1000 + s)) "$n_calib"
    synth_set test_iid "$data/test_s$s" "$s" "$n_test"
  done
  synth_set test_iid "$data/probe" 500 "$n_probe"
  for L in $long_lengths; do
    lv=$(long_levels "$L")
    printf 'include: %s\ndata: {%s: {ood_length_levels: [%s, %s]}}\n' "$(realpath "$data_conf")" "$task" "$lv" "$lv" \
      > "$exp/conf/long_$L.yaml"
    synth_set test_ood_length "$data/long_$L" 2000 "$n_test" --config "$exp/conf/long_$L.yaml"
  done
fi

probe() {  # probe ANALYSIS [options]
  local a=$1; shift
  log "probe $a"
  jericho probe "$a" --ckpt "$ckpt" --out "$exp/probe_$a" --device "$device" --quiet --overwrite "$@" \
    > "$exp/probe_$a.md" 2> "$exp/log/probe_$a.log"
}
[ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ] && probe state-norms --lengths "4 8 13 16 32 64 128" --n 8
[ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ] && probe linear-probes "$data/probe/manifest.jsonl" --reps "$probe_reps"
[ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ] && probe structure "$data/probe/manifest.jsonl" --reps "$probe_reps"
[ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ] && probe predictability "$data/probe/manifest.jsonl" \
  --reps "$probe_reps" --epochs "$probe_epochs"

prune() {  # prune NAME [prune options]: OUT = $exp/prune/NAME
  local name=$1; shift
  jericho prune --ckpt "$ckpt" --out "$exp/prune/$name" --device "$device" --quiet --overwrite "$@" \
    > /dev/null 2> "$exp/log/prune_$name.log"
}

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: k-sweep ($keeps) selective over seeds $seeds; random at k = 0.5"
  for s in $seeds; do
    for k in $keeps; do
      prune "selective_k${k}_s$s" --mode selective --keep "$k" --calib "$data/calib_s$s/manifest.jsonl" --seed "$s"
      eval_ckpt "$exp/prune/selective_k${k}_s$s/pruned.pt" "$exp/prune/selective_k${k}_s$s" "$data/test_s$s" test_iid
    done
    prune "random_k0.5_s$s" --mode random --keep 0.5 --seed "$s"
    eval_ckpt "$exp/prune/random_k0.5_s$s/pruned.pt" "$exp/prune/random_k0.5_s$s" "$data/test_s$s" test_iid
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: long inputs ($long_lengths symbols) at k = 1.0 and 0.7 (selective, calibration seed 0)"
  for k in 1.0 0.7; do
    d=$exp/prune/selective_k${k}_s0
    [ -f "$d/pruned.pt" ] || prune "selective_k${k}_s0" --mode selective --keep "$k" --calib "$data/calib_s0/manifest.jsonl" --seed 0
    for L in $long_lengths; do eval_ckpt "$d/pruned.pt" "$d" "$data/long_$L" "long_$L"; done
  done
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  log "Stage 7: learned keep ratio ($learn_steps steps, sparsity $sparsity)"
  prune learned --mode learned --steps "$learn_steps" --sparsity "$sparsity"
  eval_ckpt "$exp/prune/learned/pruned.pt" "$exp/prune/learned" "$data/test_s0" test_iid
fi

if [ "$stage" -le 8 ] && [ "$stop_stage" -ge 8 ]; then
  log "Stage 8: report -> $exp/RESULTS.md"
  jericho report --book $(ls "$exp"/probe_*/summary.json "$exp"/prune/*/summary.json 2>/dev/null) > "$exp/RESULTS.md"
  cat "$exp/RESULTS.md"
fi
log "done (stages $stage-$stop_stage)"

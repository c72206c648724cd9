#!/usr/bin/env bash
# Cross-domain transfer (issue #34): a task (Mirror by default) trained in one signal domain and
# tested in every domain, from scratch and fine-tuned from the other domain's model (train.init).
#   0 test sets: test_iid rendered in each domain             3 decode every model on every domain's set
#                                                               (a _short run on its own domain's only;
#                                                               an in-domain run also at $snr dB)
#   1 train from scratch in each domain (seeds in parallel)   4 score (the answers are tones: the tone ear)
#     (full budget, and the fine-tuning budget)                5 report -> exp/RESULTS.md, exp/TRANSFER.md
#   2 fine-tune each seed from each other domain's model
# Runs: exp/<domain>_seed<N> (scratch), exp/<domain>_short_seed<N> (scratch, $ft_steps steps: the
# budget a fine-tune gets), exp/<from>2<to>_seed<N> (fine-tuned); a task other than Mirror prefixes
# its runs with its name (exp/mod/mod_<domain>_seed<N>), so both tasks' runs keep side by side in
# outputs/transfer/. Test sets: $data/test_iid (tone) and
# the robust sets of the other recipes, $data/robust_<domain>[_snrN] and $data/robust_snrN, scored as
# robustness conditions (score_<task>_robust_...), so the book's rows read "<task>/test_iid" (tone)
# and "<task>/test_iid @ <domain>".
#   ./run.sh                      # Mirror, all of it on 2 cores (~1 h 15 min for three domains)
#   ./run.sh --stage 3            # decode, score and report again
#   ./run.sh --task mod --conf conf/train_cpu_mod.yaml --exp exp/mod --data data/mod   # Mod
set -euo pipefail
cd "$(dirname "$0")"

# ---- options: each can be given as --name value (underscores as dashes: --stop-stage 3) ----
stage=0            # first stage to run
stop_stage=5       # last stage to run
task=mirror        # the task (its test_iid split is the test set)
domains="tone carrier pulse"  # signal domains (config.DOMAINS)
seeds="0 1 2"      # training seeds
conf=conf/train_cpu.yaml  # training config
ft_steps=1000      # fine-tuning steps (with warmup 50)
n_test=200         # utterances per test set
seed=7             # seed of the test sets
snr=10             # the in-domain models are also heard at this SNR (dB) in their own domain
parallel=2         # training runs at a time (one thread each)
exp=exp            # where runs go
data=data          # where test sets go
# ---- end of options ----

. ../utils/parse_options.sh
log() { echo "$(date '+%Y-%m-%d %H:%M:%S') (transfer/run.sh) $*" >&2; }
. ../utils/robust_sets.sh  # robust_args: the synth options of robust_<domain>[_snrN], robust_snrN
export OMP_NUM_THREADS=1
pre=""; [ "$task" = mirror ] || pre=${task}_  # run-name prefix (Mirror's runs were named before Mod's)

queue=()  # the commands stages 1-4 run, $parallel at a time (one thread each): one job per run
enqueue() { queue+=("$(printf '%q ' "$@")"); }
run_queue() {  # run the queued commands, $parallel at a time, then empty the queue; a failure stops the recipe
  local j n=0
  for j in "${queue[@]}"; do
    if [ "$n" -ge "$parallel" ]; then wait -n; n=$((n - 1)); fi
    eval "$j" & n=$((n + 1))
  done
  while [ "$n" -gt 0 ]; do wait -n; n=$((n - 1)); done
  queue=()
}
train_one() {  # train_one RUN_DIR SEED DOMAIN [--set ...]: a run trains (or resumes) in one domain
  local out=$1 s=$2 domain=$3; shift 3
  mkdir -p "$out/log"
  jericho train --config "$conf" --out "$out" --resume --quiet --set "train.seed=$s" \
    --set "train.domain=$domain" "$@" > "$out/log/train.stage.log" 2>&1
}
queue_seeds() {  # queue_seeds NAME DOMAIN [--set ...]: train_one per seed; JOB in the options = the seed
  local name=$pre$1 domain=$2 s; shift 2
  for s in $seeds; do enqueue train_one "$exp/${name}_seed$s" "$s" "$domain" "${@//JOB/$s}"; done
}

set_of() {  # set_of DOMAIN [SNR]: the test set's name, as the other recipes name robust sets
  case $1:${2:-} in
    tone:) echo test_iid ;;
    tone:*) echo "robust_snr$2" ;;
    *:) echo "robust_$1" ;;
    *) echo "robust_$1_snr$2" ;;
  esac
}
runs() { for d in $domains; do echo "$d ${d}_short"; for f in $domains; do [ "$f" = "$d" ] || echo "${f}2$d"; done; done; }

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  for d in $domains; do for set in "$(set_of "$d")" "$(set_of "$d" "$snr")"; do
    [ -f "$data/$set/manifest.jsonl" ] && continue  # made from the same seed: the same bytes
    log "Stage 0: $task $set"
    opts=$(robust_args "$set") || opts=""  # test_iid itself: no options
    jericho synth --task "$task" --split test_iid --n "$n_test" --seed "$seed" --config "$conf" $opts \
      --jobs 2 --quiet --out "$data/$set" > /dev/null
  done; done
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: train $exp/<domain>_seed<N> from scratch, then <domain>_short_seed<N> for the fine-tuning budget ($ft_steps steps)"
  for d in $domains; do queue_seeds "$d" "$d"; done
  for d in $domains; do queue_seeds "${d}_short" "$d" --set "train.steps=$ft_steps" --set train.warmup=50; done
  run_queue
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: fine-tune $exp/<from>2<to>_seed<N> in <to> from $exp/<from>_seed<N> ($ft_steps steps)"
  for d in $domains; do for f in $domains; do [ "$f" = "$d" ] && continue
    queue_seeds "${f}2$d" "$d" --set "train.init=$exp/$pre${f}_seedJOB/best.pt" --set "train.steps=$ft_steps" \
      --set train.warmup=50
  done; done
  run_queue
fi
test_run() {  # test_run RUN_DIR SET...: decode (stage 3) and score (stage 4) each test set
  local e=$1 t name done_; shift
  for t in "$@"; do
    name=${task}_$t
    done_=$e/score_$name/summary.json  # scored since the model and the test set last changed: skip
    if [ -f "$done_" ] && [ "$done_" -nt "$e/best.pt" ] && [ "$done_" -nt "$data/$t/manifest.jsonl" ]; then
      continue
    fi
    if [ "$stage" -le 3 ]; then
      log "Stage 3: decode $data/$t with $e"
      jericho decode --ckpt "$e/best.pt" "$data/$t/manifest.jsonl" --quiet --overwrite \
        --out "$e/decode_$name" > /dev/null
    fi
    if [ "$stop_stage" -ge 4 ]; then
      jericho score --ref "$data/$t/manifest.jsonl" --hyp "$e/decode_$name/manifest.jsonl" \
        --quiet --out "$e/score_$name" > /dev/null
    fi
  done
}
if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 3 ]; then
  for r in $(runs); do for s in $seeds; do
    [ -f "$exp/$pre${r}_seed$s/best.pt" ] || { log "no $exp/$pre${r}_seed$s/best.pt: not tested"; continue; }
    sets=(); for d in $domains; do sets+=("$(set_of "$d")"); done
    [[ $r = *_short ]] && sets=("$(set_of "${r%_short}")")  # at the fine-tuning budget: its own domain only
    [[ " $domains " = *" $r "* ]] && sets+=("$(set_of "$r" "$snr")")  # in-domain, full budget: noise too
    enqueue test_run "$exp/$pre${r}_seed$s" "${sets[@]}"
  done; done
  run_queue
fi
if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: report -> $exp/RESULTS.md"
  jericho report --book "$exp"/*_seed*/score_*/summary.json --by none > "$exp/RESULTS.md"
  log "Stage 5: transfer tables -> $exp/TRANSFER.md"
  python local/transfer_table.py "$exp" --task "$task" --domains "$domains" > "$exp/TRANSFER.md"
  cat "$exp/TRANSFER.md"
fi
log "done (stages $stage-$stop_stage)"

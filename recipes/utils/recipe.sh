#!/usr/bin/env bash
# The stages every task recipe runs (ESPnet's asr.sh is the model): recipes/<task>/run.sh sets its
# task's options and calls this script from its own folder. `recipe.sh --help` lists every option.
#
#   0 synth test sets          3 score the output audio      6 shuffled-answer training control
#   1 train                    4 report (tables, plots)      7 ablations (conf/ablation/*.yaml)
#   2 decode test sets         5 negative controls on the inputs (phase-scrambled, silence, noise)
#   8 robustness: test_iid inputs with noise (20..0 dB SNR), reverberation, and from a second renderer
set -euo pipefail

# ---- options: each can be given as --name value (underscores as dashes: --stop-stage 3) ----
task=            # mirror | bracket | mod | multitask (multitask: the config's train.task list)
stage=0          # first stage to run
stop_stage=5     # last stage to run
conf=conf/train_cpu.yaml  # training config(s) (data:, model:, train:); several, space-separated, apply in order
exp=             # run name (default exp/<task>_cpu): seed N trains in ${exp}_seed<N>
seeds=0          # training seeds, e.g. "0 1 2": report --book gives mean ± sd over them
sets=            # test sets, "task/split ..."; task/split@conf.yaml synthesizes one with its own data config;
                 # task/robust_snrN, task/robust_reverb, task/robust_independent: test_iid inputs as in stage 8
data=data        # where test sets are synthesized
n_test=200       # utterances per test set
seed=7           # seed of the test sets
nj=2             # parallel jobs for synth and score
device=auto      # auto | cpu | cuda
init=            # train.init for stage 1, JOB standing for the seed: exp/other_seedJOB/best.pt fine-tunes seed N from seed N
controls="phase_scramble silence noise"  # stage 5: altered inputs, same answers
ablations=all    # stage 7: names of conf/ablation/<name>.yaml, or all of them (base is always trained)
snrs="20 10 5 0" # stage 8: SNRs (dB) of the noisy test sets
reverb=0.3       # stage 8: RT60 (s) of the reverberant test set
# ---- end of options ----

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') ($(basename "$PWD")/run.sh) $*" >&2; }

. "$(dirname "$0")/parse_options.sh"
[ -n "$task" ] || { echo "$0: --task is required (see --help)" >&2; exit 2; }
[ -n "$exp" ] || exp=exp/${task}_cpu
for f in $conf; do [ -f "$f" ] || { echo "$0: no config $f" >&2; exit 1; }; done
. "$(dirname "$0")/../cmd.sh"

train_task_opt="--set train.task=$task"  # multitask: the tasks come from the config
[ "$task" = multitask ] && train_task_opt=""
tasks_of() { if [ "$task" = multitask ]; then echo "mirror bracket mod"; else echo "$task"; fi; }

conf_args() { local f; for f in $1; do printf -- '--config %s ' "$f"; done; }  # "a.yaml b.yaml" -> --config a.yaml --config b.yaml

# synth_set TASK SPLIT OUTDIR DATA_CONFIG [more synth options]: a finished set is kept; one made with
# other parameters (another --conf, --seed, --n-test) is refused by synth: give another --data
synth_set() {
  local t=$1 s=$2 d=$3 c=$4; shift 4
  $synth_cmd "$exp/log/synth_$(basename "$(dirname "$d")")_$(basename "$d").log" \
    jericho synth --task "$t" --split "$s" --n "$n_test" --seed "$seed" $(conf_args "$c") --jobs "$nj" --quiet \
    --out "$d" "$@"
}

decode_set() {  # decode_set RUN_DIR DATA_DIR NAME: a decode of another best.pt is redone, the same one kept
  $decode_cmd "$1/log/decode_$3.log" jericho decode --ckpt "$1/best.pt" "$2/manifest.jsonl" \
    --device "$device" --quiet --overwrite --out "$1/decode_$3"
}

score_set() {  # score_set RUN_DIR DATA_DIR NAME
  $score_cmd "$1/log/score_$3.log" jericho score --ref "$2/manifest.jsonl" \
    --hyp "$1/decode_$3/manifest.jsonl" --jobs "$nj" --quiet --out "$1/score_$3"
}

train_seeds() {  # train_seeds EXP CONFIG [--set ...]: seed N into EXP_seed<N>, one job array over $seeds
  local e=$1 c=$2; shift 2
  $train_cmd "JOB=$(echo $seeds | tr ' ' ,)" "${e}_seedJOB/log/train.stage.log" jericho train $(conf_args "$c") \
    --out "${e}_seedJOB" --resume --quiet --set "train.device=$device" $train_task_opt --set train.seed=JOB "$@"
}

. "$(dirname "$0")/robust_sets.sh"  # robust_args: task/robust_snrN, robust_reverb, robust_independent

test_dirs() {  # the synthesized test sets, robust variants included (not the controls): data/<task>/<split>
  for d in "$data"/*/*/; do d=${d%/}
    [ -f "$d/manifest.jsonl" ] || continue
    case $(basename "$d") in control_*) continue ;; esac
    echo "$d"
  done
}

name_of() { echo "$(basename "$(dirname "$1")")_$(basename "$1")"; }  # data/mirror/test_iid -> mirror_test_iid

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: synthesize test sets: $sets"
  for ts in $sets; do c=$conf
    case $ts in *@*) c=${ts#*@}; ts=${ts%@*} ;; esac
    if a=$(robust_args "${ts#*/}"); then synth_set "${ts%%/*}" test_iid "$data/$ts" "$c" $a
    else synth_set "${ts%%/*}" "${ts#*/}" "$data/$ts" "$c"; fi
  done
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: train ${exp}_seed<N> for seeds $seeds on $conf (on-the-fly data; each resumes from its last.pt)"
  train_seeds "$exp" "$conf" ${init:+--set "train.init=$init"}
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  for s in $seeds; do
    log "Stage 2: decode the test sets with ${exp}_seed$s/best.pt"
    for d in $(test_dirs); do decode_set "${exp}_seed$s" "$d" "$(name_of "$d")"; done
  done
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: score the output audio"
  for s in $seeds; do for d in $(test_dirs); do score_set "${exp}_seed$s" "$d" "$(name_of "$d")"; done; done
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: report -> ${exp}_seed<N>/RESULTS.md and, over the seeds, ${exp}_RESULTS.md"
  for s in $seeds; do e=${exp}_seed$s
    first=$(ls -d "$e"/decode_*test_iid | head -1)
    jericho report "$e"/score_*/summary.json --plots "$e/plots" --spectrogram "$first/manifest.jsonl" \
      > "$e/RESULTS.md"
  done
  jericho report --book $(for s in $seeds; do ls "${exp}_seed$s"/score_*/summary.json; done) > "${exp}_RESULTS.md"
  cat "${exp}_RESULTS.md"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: negative controls on test_iid inputs: $controls"
  for t in $(tasks_of); do for c in $controls; do
    d=$data/$t/control_$c
    synth_set "$t" test_iid "$d" "$conf" --control "$c"
    for s in $seeds; do
      decode_set "${exp}_seed$s" "$d" "${t}_control_$c"
      score_set "${exp}_seed$s" "$d" "${t}_control_$c"
    done
  done; done
  for s in $seeds; do
    jericho report "${exp}_seed$s"/score_*control_*/summary.json --by none > "${exp}_seed$s/CONTROLS.md"
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: shuffled-answer training control ${exp}_shuffled_seed<N> (seeds $seeds)"
  train_seeds "${exp}_shuffled" "$conf" --set train.control=shuffled_answers
  for s in $seeds; do e=${exp}_shuffled_seed$s
    for t in $(tasks_of); do
      decode_set "$e" "$data/$t/test_iid" "${t}_test_iid"
      score_set "$e" "$data/$t/test_iid" "${t}_test_iid"
    done
  done
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  # each conf/ablation/<name>.yaml includes one base config and flips one switch; base.yaml is that
  # config unchanged, trained alongside so the table compares equal budgets
  [ "$ablations" = all ] && ablations=$(ls conf/ablation/*.yaml | xargs -n1 basename | sed 's/\.yaml$//' | grep -vx base)
  log "Stage 7: ablations: base $ablations (seeds $seeds)"
  for a in base $ablations; do
    [ -f "conf/ablation/$a.yaml" ] || { echo "$0: no conf/ablation/$a.yaml" >&2; exit 2; }
    train_seeds "${exp}_abl_$a" "conf/ablation/$a.yaml"
  done
  for a in base $ablations; do for s in $seeds; do e=${exp}_abl_${a}_seed$s
    for t in $(tasks_of); do for d in "$data/$t"/test_*/; do d=${d%/}
      decode_set "$e" "$d" "$(name_of "$d")"
      score_set "$e" "$d" "$(name_of "$d")"
    done; done
  done; done
  jericho report --book "${exp}"_abl_*/score_*/summary.json --by none > "${exp}_ABLATIONS.md"
  cat "${exp}_ABLATIONS.md"
fi
if [ "$stage" -le 8 ] && [ "$stop_stage" -ge 8 ]; then
  log "Stage 8: robustness (seeds $seeds): SNR $snrs dB, reverberation $reverb s, the independent renderer"
  for t in $(tasks_of); do
    conditions="$(printf 'snr%s ' $snrs)reverb independent"
    for c in $conditions; do synth_set "$t" test_iid "$data/$t/robust_$c" "$conf" $(robust_args "robust_$c"); done
    for s in $seeds; do for c in $conditions; do
      decode_set "${exp}_seed$s" "$data/$t/robust_$c" "${t}_robust_$c"
      score_set "${exp}_seed$s" "$data/$t/robust_$c" "${t}_robust_$c"
    done; done
  done
  for s in $seeds; do
    jericho report "${exp}_seed$s"/score_*_robust_snr*/summary.json --by snr_db --plots "${exp}_seed$s/plots" \
      > "${exp}_seed$s/ROBUSTNESS.md"
  done
  jericho report --book $(for s in $seeds; do ls "${exp}_seed$s"/score_*/summary.json; done) --by none \
    > "${exp}_RESULTS.md"
  cat "${exp}_RESULTS.md"
fi
log "done (stages $stage-$stop_stage)"

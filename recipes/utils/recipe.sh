# Shared stages of a task recipe (sourced by recipes/<task>/run.sh after it sets task, exp, sets).
#  0 synth test splits   1 train   2 decode   3 score   4 report
#  5 negative controls on the inputs (phase-scrambled, silence, noise): decode + score with the model
#  6 shuffled-answer training control (a second model; must fall to chance)
#  7 ablations (one model each; see $ablations)
# options common to every recipe (each can be given as --name value)
stage=${stage:-0}
stop_stage=${stop_stage:-5}
conf=${conf:-conf/train_cpu.yaml}
data=${data:-data}
n_test=${n_test:-200}
seed=${seed:-7}
nj=${nj:-2}
device=${device:-auto}
ablations=${ablations:-"no_attention no_ctc conv_frontend downsample1 no_curriculum"}
abl_conf=${abl_conf:-}  # the config every ablation starts from (default: $conf)

. ./cmd.sh
. ../utils/parse_options.sh "$@"
. ../utils/run_cmd.sh
[ -n "$abl_conf" ] || abl_conf=$conf

train_task_opt="--set train.task=$task"  # multitask: tasks come from the config
[ "$task" = multitask ] && train_task_opt=""
tasks_of() { if [ "$task" = multitask ]; then echo "mirror bracket mod"; else echo "$task"; fi; }

synth_split() {  # synth_split TASK SPLIT OUTDIR [DATA_CONFIG [extra synth options]]
  local t=$1 s=$2 d=$3 c=${4:-$conf}; shift 3; [ $# -gt 0 ] && shift
  [ -f $d/manifest.jsonl ] && return 0
  run_cmd $exp/log/synth_$(basename $d).log jericho synth --task $t --split $s --n $n_test --seed $seed \
    --config $c --jobs $nj --quiet --out $d "$@"
}

eval_dir() {  # eval_dir CKPT_DIR DATA_DIR NAME: decode + score one test set
  local e=$1 d=$2 name=$3
  run_cmd $e/log/decode_$name.log jericho decode --ckpt $e/best.pt $d/manifest.jsonl --device $device --quiet \
    --out $e/decode_$name
  run_cmd $e/log/score_$name.log jericho score --ref $d/manifest.jsonl --hyp $e/decode_$name/manifest.jsonl \
    --jobs $nj --quiet --out $e/score_$name
}

train_run() {  # train_run EXP_DIR [--set ...]
  local e=$1; shift
  local start=$(date +%s)
  run_cmd $e/log/train.stage.log jericho train --config $conf --out $e --resume --quiet \
    --set train.device=$device $train_task_opt "$@"
  echo "{\"train_wall_s\": $(( $(date +%s) - start )), \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"nproc\": $(nproc), \"gpu\": \"$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)\"}" > $e/train_time.json
}

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  echo "stage 0: synthesize test splits" >&2
  # a set may name its own data config: task/split@conf.yaml (e.g. a diagnostic beyond the training data)
  for ts in $sets; do c=$conf; case $ts in *@*) c=${ts#*@}; ts=${ts%@*} ;; esac
    synth_split ${ts%%/*} ${ts#*/} $data/$ts $c
  done
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  echo "stage 1: train (on-the-fly data; resumes from $exp/last.pt)" >&2
  train_run $exp
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 2 ]; then
  echo "stage 2-3: decode and score the output audio" >&2
  for d in $data/*/*/; do d=${d%/}; [ -f $d/manifest.jsonl ] || continue
    case $(basename $d) in control_*) continue ;; esac
    eval_dir $exp $d $(basename $(dirname $d))_$(basename $d)
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  echo "stage 4: report" >&2
  first=$(ls -d $exp/decode_*test_iid | head -1)
  jericho report $exp/score_*/summary.json --plots $exp/plots --spectrogram $first/manifest.jsonl > $exp/RESULTS.md
  cat $exp/RESULTS.md
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  echo "stage 5: negative controls on test_iid inputs" >&2
  for t in $(tasks_of); do for c in phase_scramble silence noise; do
    synth_split $t test_iid $data/$t/control_$c $conf --control $c
    eval_dir $exp $data/$t/control_$c ${t}_control_$c
  done; done
  jericho report $exp/score_*control_*/summary.json --by none > $exp/CONTROLS.md
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  echo "stage 6: shuffled-answer training control" >&2
  train_run ${exp}_shuffled --set train.control=shuffled_answers
  for t in $(tasks_of); do eval_dir ${exp}_shuffled $data/$t/test_iid ${t}_test_iid; done
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  # every ablation flips one switch of $abl_conf; "base" is that config unchanged, trained alongside
  # so the table compares equal step budgets
  echo "stage 7: ablations ($abl_conf)" >&2
  for a in base $ablations; do
    case $a in
      base) over="" ;;
      no_attention) over="--set model.layers=[ssd,ssd,ssd,ssd]" ;;
      no_ctc) over="--set train.loss.ctc=0" ;;
      conv_frontend) over="--set model.frontend=conv" ;;
      downsample1) over="--set model.downsample=1" ;;
      no_curriculum) over="--set train.curriculum.enabled=false" ;;
      *) echo "unknown ablation $a" >&2; exit 2 ;;
    esac
    conf=$abl_conf train_run ${exp}_abl_$a $over
    for t in $(tasks_of); do for d in $data/$t/test_*/; do d=${d%/}
      eval_dir ${exp}_abl_$a $d ${t}_$(basename $d)
    done; done
  done
  jericho report ${exp}_abl_*/score_*/summary.json --by none > $exp/ABLATIONS.md
  cat $exp/ABLATIONS.md
fi

#!/usr/bin/env bash
# job.sh [--slurm OPTION ...] [JOB=IDS] LOG COMMAND ...: run one step of a recipe (Kaldi's run.pl and
# slurm.pl in one file). LOG gets the command line, everything it prints, and its exit code; locally
# its output also goes to stderr. With --slurm the step runs under srun with the options that follow.
#
# JOB=IDS makes a job array, as in Kaldi: IDS is a list (0,1,2) or a range (1:4); every "JOB" in LOG
# and COMMAND becomes the id. Locally the ids run one after the other; under --slurm the array is one
# `sbatch --array=IDS --wait` submission (the options are sbatch's: --partition, --gres, --time, ...),
# so a seed sweep is one array job: job.sh --slurm --gres=gpu:1 JOB=0,1,2 exp/r_seedJOB/train.log \
#   jericho train --out exp/r_seedJOB --set train.seed=JOB
set -uo pipefail
slurm=()
if [ "${1:-}" = --slurm ]; then shift; while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do slurm+=("$1"); shift; done; fi
array=
case "${1:-}" in JOB=*) array=${1#JOB=}; shift ;; esac
[ $# -ge 2 ] || { echo "usage: $0 [--slurm OPTION ...] [JOB=IDS] LOG COMMAND ..." >&2; exit 2; }
log=$1; shift

run_one() {  # run_one LOG COMMAND ...
  local log=$1 rc; shift
  mkdir -p "$(dirname "$log")"
  echo "# $* (started $(date -Is) on $(hostname))" > "$log"
  if [ ${#slurm[@]} -gt 0 ]; then
    srun "${slurm[@]}" --job-name="jericho-$(basename "$log" .log)" "$@" >> "$log" 2>&1; rc=$?
  else
    "$@" 2>&1 | tee -a "$log" >&2; rc=${PIPESTATUS[0]}
  fi
  echo "# finished $(date -Is) rc=$rc" >> "$log"
  [ "$rc" -eq 0 ] || echo "failed: $* (see $log)" >&2
  return "$rc"
}

[ -z "$array" ] && { run_one "$log" "$@"; exit $?; }

if ! [[ "$array" =~ ^[0-9]+(,[0-9]+)*$ || "$array" =~ ^[0-9]+:[0-9]+$ ]]; then
  echo "$0: JOB=$array: expected ids like 0,1,2 or a range like 1:4" >&2; exit 2
fi
if [[ "$array" == *:* ]]; then ids=$(seq "${array%:*}" "${array#*:}"); else ids=${array//,/ }; fi

if [ ${#slurm[@]} -eq 0 ]; then  # locally: one id after the other; the first failure is the exit code
  rc=0
  for id in $ids; do
    run_one "${log//JOB/$id}" "${@//JOB/$id}"; r=$?
    [ "$rc" -ne 0 ] || rc=$r
  done
  exit "$rc"
fi

# under Slurm: a batch script that runs one id of the array (SLURM_ARRAY_TASK_ID) into its own log
mkdir -p "$(dirname "${log//JOB/array}")"
script="$(dirname "${log//JOB/array}")/$(basename "${log//JOB/array}" .log).sbatch"
cmd=$(printf '%q ' "$@")
qlog=$(printf '%q' "$log")
{
  echo '#!/usr/bin/env bash'
  echo "id=\$SLURM_ARRAY_TASK_ID"
  echo "log=${qlog//JOB/\$\{id\}}"
  echo 'mkdir -p "$(dirname "$log")"'
  echo "echo \"# ${cmd//JOB/\$\{id\}}(started \$(date -Is) on \$(hostname), array job \$SLURM_ARRAY_JOB_ID)\" > \"\$log\""
  echo "${cmd//JOB/\$\{id\}}>> \"\$log\" 2>&1; rc=\$?"
  echo 'echo "# finished $(date -Is) rc=$rc" >> "$log"'
  echo 'exit "$rc"'
} > "$script"
sbatch --wait --array="${array/:/-}" --job-name="jericho-$(basename "${log//JOB/}" .log)" --output=/dev/null \
  "${slurm[@]}" "$script"; rc=$?
[ "$rc" -eq 0 ] || echo "failed: array job $script (ids $array; see ${log//JOB/<id>})" >&2
exit "$rc"

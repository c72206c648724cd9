#!/usr/bin/env bash
# job.sh [--slurm SRUN_OPTION ...] LOG COMMAND ...: run one step of a recipe, Kaldi's run.pl/slurm.pl
# in one file. LOG gets the command line, everything it prints, and its exit code; locally its output
# also goes to stderr. With --slurm the step runs under srun with the options that follow.
set -uo pipefail
slurm=()
if [ "${1:-}" = --slurm ]; then shift; while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do slurm+=("$1"); shift; done; fi
[ $# -ge 2 ] || { echo "usage: $0 [--slurm SRUN_OPTION ...] LOG COMMAND ..." >&2; exit 2; }
log=$1; shift
mkdir -p "$(dirname "$log")"
echo "# $* (started $(date -Is) on $(hostname))" > "$log"
if [ ${#slurm[@]} -gt 0 ]; then
  srun "${slurm[@]}" --job-name="jericho-$(basename "$log" .log)" "$@" >> "$log" 2>&1; rc=$?
else
  "$@" 2>&1 | tee -a "$log" >&2; rc=${PIPESTATUS[0]}
fi
echo "# finished $(date -Is) rc=$rc" >> "$log"
[ "$rc" -eq 0 ] || echo "failed: $* (see $log)" >&2
exit "$rc"

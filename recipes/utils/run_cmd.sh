# run_cmd LOGFILE COMMAND...: run one step locally or on slurm (set by cmd.sh), logging to LOGFILE.
run_cmd() {
  local log=$1; shift
  mkdir -p "$(dirname "$log")"
  echo "# $* (started $(date -Is))" > "$log"
  case "${cmd_backend:-local}" in
    local) "$@" 2>&1 | tee -a "$log" >&2; local rc=${PIPESTATUS[0]} ;;
    slurm) srun ${slurm_opts:-} --job-name="jericho-$(basename "$log" .log)" "$@" >> "$log" 2>&1; local rc=$? ;;
    *) echo "unknown cmd_backend ${cmd_backend}" >&2; return 2 ;;
  esac
  echo "# finished $(date -Is) rc=$rc" >> "$log"
  if [ "$rc" -ne 0 ]; then echo "failed: $* (see $log)" >&2; fi
  return "$rc"
}

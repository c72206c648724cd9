# Where each kind of recipe step runs (Kaldi's cmd.sh), shared by every recipe. Choose with
# `cmd_backend=slurm ./run.sh ...`; edit the srun options to fit your cluster (or set them in the
# environment: slurm_train_opts="--partition=gpu --gres=gpu:a100:1 --time=08:00:00").
#   local: this machine, output also on stderr       slurm: srun with the options below
# Training runs the seeds of a sweep as one job array (utils/job.sh JOB=0,1,2 ...): locally one after
# the other, under slurm one `sbatch --array=0,1,2 --wait` with slurm_train_opts, a task per seed.
cmd_backend=${cmd_backend:-local}
job="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/utils/job.sh"
case "$cmd_backend" in
  local)
    synth_cmd=$job; train_cmd=$job; decode_cmd=$job; score_cmd=$job ;;
  slurm)
    synth_cmd="$job --slurm ${slurm_cpu_opts:---cpus-per-task=$nj --time=01:00:00}"
    train_cmd="$job --slurm ${slurm_train_opts:---gres=gpu:1 --cpus-per-task=8 --time=04:00:00}"
    decode_cmd="$job --slurm ${slurm_decode_opts:---gres=gpu:1 --cpus-per-task=4 --time=01:00:00}"
    score_cmd="$job --slurm ${slurm_cpu_opts:---cpus-per-task=$nj --time=01:00:00}" ;;
  *) echo "cmd.sh: unknown cmd_backend=$cmd_backend (local, slurm)" >&2; exit 2 ;;
esac

# Where each step runs: `local` (this machine) or `slurm` (srun with $slurm_opts).
cmd_backend=${cmd_backend:-local}
slurm_opts=${slurm_opts:-"--gres=gpu:1 --cpus-per-task=8 --time=04:00:00"}

#!/usr/bin/env bash
# Mirror (copy) end to end on 2 CPU cores: synth -> train -> decode -> score -> report (stages 0-4),
# on every Mirror claim: lengths 3-5, twice as long, unseen symbols K/L, and the same inputs at 10 dB SNR.
#   ./run.sh                                  # the README's main job (make demo)
#   ./run.sh --stage 2 --stop-stage 3         # decode + score again
#   ./run.sh --stage 5 --stop-stage 7         # controls, shuffled-answer control, ablations (conf/ablation/)
#   ./run.sh --stage 8 --stop-stage 8         # robustness: 20-0 dB SNR, reverberant, the independent renderer
#   ./run.sh --conf conf/train_gpu.yaml --exp exp/mirror_gpu --device cuda --stop-stage 7
#   ./run.sh --help                           # every option (../utils/recipe.sh)
cd "$(dirname "$0")" && exec ../utils/recipe.sh --task mirror --stop-stage 4 \
  --sets "mirror/test_iid mirror/test_ood_length mirror/test_ood_symbol mirror/robust_snr10" "$@"

#!/usr/bin/env bash
# Rebuilds examples/audio/: for each task, input / reference-answer / model-answer wav triples per
# split, made by the example checkpoints, with what the scorer heard and the CTC head said
# (examples/audio/index.jsonl). Per split: the first two right answers and the first wrong one, if
# any (an honest failure). The models are each task's default (recipes/<task>/conf/train_cpu.yaml) and
# the multitask model (one checkpoint answering all three tasks), on clean, noisy, reverberant and
# independently rendered inputs; Mirror models that hear the keyed-carrier and pulse-interval
# domains (recipes/transfer, seed 0); and Mirror and Bracket models that hear espeak-ng speech, on
# voices they never trained on (recipes/{mirror/conf/tuning/train_cpu_speech_wide_readout_6k.yaml,
# bracket/conf/tuning/train_cpu_speech_wide.yaml}, seed 0).
# tests/test_examples.py decodes these inputs again and checks the answers.
#   examples/make_examples.sh            # from the repository root, jericho on PATH
set -euo pipefail
cd "$(dirname "$0")/.."
. recipes/utils/robust_sets.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=examples/audio
rm -rf "$out.new" && mkdir -p "$out.new"

# task  checkpoint  data config  splits
while read -r task ckpt conf splits; do
  for split in ${splits//,/ }; do
    d=$tmp/$task/$split/${ckpt%.pt}
    if robust=$(robust_args "$split"); then opts=(--split test_iid $robust)  # as the recipes' stage 8
    else opts=(--split "$split"); fi
    jericho synth --task "$task" "${opts[@]}" --n 12 --seed 11 --config "$conf" --quiet --out "$d/in" > /dev/null
    jericho decode --ckpt "examples/checkpoints/$ckpt" "$d/in" --device cpu --quiet --out "$d/dec" > /dev/null
    jericho score --ref "$d/in/manifest.jsonl" --hyp "$d/dec/manifest.jsonl" --quiet --out "$d/score" > /dev/null
    python - "$d" "$out.new" "$task" "$split" "$ckpt" <<'EOF'
import json, shutil, sys
from pathlib import Path
d, out, task, split, ckpt = Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:]
ref = {r["id"]: r for r in map(json.loads, (d / "in/manifest.jsonl").read_text().splitlines())}
dec = {r["id"]: r for r in map(json.loads, (d / "dec/manifest.jsonl").read_text().splitlines())}
scores = [json.loads(line) for line in (d / "score/scores.jsonl").read_text().splitlines()]
chosen = [s for s in scores if s["exact"]][:2] + [s for s in scores if not s["exact"]][:1]
chosen.sort(key=lambda s: s["id"])
stem = ckpt.removesuffix(".pt")
(out / task / split / stem).mkdir(parents=True, exist_ok=True)
with open(out / "index.jsonl", "a") as f:
    for s in chosen:
        u = s["id"]
        files = {"input": ref[u]["audio"], "reference": ref[u]["target_audio"]}
        names = {}
        for kind, src in files.items():
            names[kind] = f"{task}/{split}/{stem}/{u}.{kind}.wav"
            shutil.copy(d / "in" / src, out / names[kind])
        names["answer"] = f"{task}/{split}/{stem}/{u}.answer.wav"
        shutil.copy(d / "dec" / dec[u]["audio"], out / names["answer"])
        f.write(json.dumps({"id": u, "task": task, "split": split, "checkpoint": f"checkpoints/{ckpt}",
                            "domain": ref[u].get("meta", {}).get("domain", "tone"),
                            **names, "input_symbols": ref[u]["input"], "reference_symbols": s["ref"],
                            "heard": s["hyp"], "ctc_symbols": s.get("aux_symbols"), "exact": s["exact"],
                            "error_kind": s["error_kind"]}) + "\n")
EOF
  done
done <<'LIST'
mirror mirror_cpu_seed0.pt recipes/mirror/conf/train_cpu.yaml test_iid,test_ood_length,test_ood_symbol,robust_snr10,robust_reverb,robust_independent
bracket bracket_cpu_seed0.pt recipes/bracket/conf/train_cpu.yaml test_iid,test_ood_length,robust_snr10
mod mod_cpu_seed0.pt recipes/mod/conf/train_cpu.yaml test_iid,test_ood_length,test_ood_compose,robust_snr10
mirror multitask_cpu_seed0.pt recipes/multitask/conf/train_cpu.yaml test_iid,test_ood_length,test_ood_symbol,robust_snr10
bracket multitask_cpu_seed0.pt recipes/multitask/conf/train_cpu.yaml test_iid,test_ood_length,robust_snr10
mod multitask_cpu_seed0.pt recipes/multitask/conf/train_cpu.yaml test_iid,test_ood_compose
mirror mirror_carrier_seed0.pt recipes/transfer/conf/train_cpu.yaml robust_carrier,robust_carrier_snr10
mirror mirror_pulse_seed0.pt recipes/transfer/conf/train_cpu.yaml robust_pulse,robust_pulse_snr10
bracket bracket_speech_seed0.pt recipes/bracket/conf/tuning/train_cpu_speech_wide.yaml robust_speech_heldout,robust_speech_heldout_snr10
mirror mirror_speech_seed0.pt recipes/mirror/conf/tuning/train_cpu_speech_wide_readout_6k.yaml robust_speech_heldout,robust_speech_heldout_snr10
LIST
rm -rf "$out" && mv "$out.new" "$out"
echo "examples/audio: $(wc -l < "$out/index.jsonl") triples, $(du -sh "$out" | cut -f1)" >&2

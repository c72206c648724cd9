"""The same training on each CPU path of the SSD layer, side by side; prints markdown.

    python benchmarks/fast_path.py [--steps 300] > outputs/bench/fast_path_cpu.md

Trains the plain Mirror config (recipes/mirror/conf/tuning/train_cpu_plain.yaml, cpu_small) for `--steps` steps, one
thread, twice from the same seed (validation on 8 utterances, so that training dominates the wall time): on the compiled path (scan.c) and on the PyTorch chunked scan
(`JERICHO_SCAN=torch`; the tests hold it to the step-by-step recurrence in float64). Reports each
logged row's losses and validation side by side, the largest relative difference, and wall time.
Equal maths in float32 rounds differently, so the curves agree to float tolerance at first and
drift apart slowly as training amplifies the differences; what must hold is the same curve.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def train(out: Path, steps: int, env: dict) -> tuple[list[dict], float]:
    cmd = [sys.executable, "-m", "jericho_cli", "train", "--config", str(ROOT / "recipes/mirror/conf/tuning/train_cpu_plain.yaml"),
           "--set", f"train.steps={steps}", "--set", f"train.val_every={max(1, steps // 12)}", "--set",
           "train.val_n=8", "--set", "train.tensorboard=false", "--quiet", "--out", str(out)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": "1", **env}, capture_output=True)
    rows = [json.loads(ln) for ln in (out / "log" / "metrics.jsonl").read_text().splitlines()]
    return rows, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fast, t_fast = train(Path(tmp) / "compiled", a.steps, {})
        ref, t_ref = train(Path(tmp) / "pytorch", a.steps, {"JERICHO_SCAN": "torch"})
    print(f"# The same {a.steps}-step training on two CPU paths of the SSD layer\n")
    print(f"Demo config, seed 0, one thread. Wall time: compiled {t_fast:.0f} s, PyTorch scan {t_ref:.0f} s "
          f"({t_ref / t_fast:.2f}x).\n")
    keys = [k for k in ("spec_l1", "ctc", "val_exact") if k in fast[0]]
    print("| step | " + " | ".join(f"{k}: compiled / PyTorch" for k in keys) + " |")
    print("|---|" + "---|" * len(keys))
    worst = {k: 0.0 for k in keys}
    for f, r in zip(fast, ref):
        cells = []
        for k in keys:
            cells.append(f"{f[k]:.5g} / {r[k]:.5g}")
            if k != "val_exact" and r[k]:
                worst[k] = max(worst[k], abs(f[k] - r[k]) / abs(r[k]))
        print(f"| {f['step']} | " + " | ".join(cells) + " |")
    print("\nLargest relative difference of a logged training loss: " +
          ", ".join(f"{k} {v:.1e}" for k, v in worst.items() if k != "val_exact") + ".")


if __name__ == "__main__":
    main()

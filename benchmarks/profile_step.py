"""Where one training step of the demo config spends its time, on one thread; prints markdown.

    OMP_NUM_THREADS=1 python benchmarks/profile_step.py > outputs/bench/profile_step_cpu.md

The demo config (recipes/mirror/conf/train_cpu.yaml, cpu_small), one pre-rendered batch of 16
training utterances, the whole step (front end, blocks, answer head, losses, backward, AdamW):
seconds per step over 10 steps, then the PyTorch profiler's operators by self time over 3 steps, and
each block type's forward + backward timed alone. Run from another checkout (its own jericho_cli on
the path) it profiles that version, so a before and an after come from the same script.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from jericho_cli.config import load_config, model_config
from jericho_cli.data import pools
from jericho_cli.data.codebook import Codebook
from jericho_cli.data.render import Variation, render
from jericho_cli.model.mini_jmamba import MiniJMamba
from jericho_cli.training.batches import TrainExample
from jericho_cli.training.loop import backward


def timed(fn, n: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def main():
    cb = Codebook.load()
    cfg = load_config(["recipes/mirror/conf/train_cpu.yaml"], [])
    cfg["model"]["n_symbols"] = len(cb.alphabet)
    torch.manual_seed(0)
    model = MiniJMamba(model_config(cfg["model"]))
    rng = np.random.default_rng(0)
    exs = [pools.draw("mirror", "train", i, 0, cfg["data"]) for i in range(16)]
    batch = [TrainExample(render(e.input, cb, rng=rng, variation=Variation()), render(e.target, cb), e.target)
             for e in exs]
    sym = {s: i for i, s in enumerate(cb.alphabet)}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        backward(model, model, batch, cfg, sym, torch.device("cpu"), 0)
        opt.step()

    per_step = min(timed(step, 10) for _ in range(3))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            step()
    print(f"# One training step of the demo config, one thread\n\ntorch {torch.__version__}, threads "
          f"{torch.get_num_threads()}; best of 3 rounds of 10 steps: **{1000 * per_step:.1f} ms a step**.\n")
    print("Operators by self time over 3 steps (ms a step, share):\n")
    print("| operator | ms a step | share | calls a step |\n|---|---|---|---|")
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    for e in events[:15]:
        print(f"| `{e.key[:60]}` | {e.self_cpu_time_total / 3000:.2f} | {100 * e.self_cpu_time_total / total:.1f}% | "
              f"{e.count // 3} |")
    x = torch.randn(16, 105, model.cfg.d_model, requires_grad=True)
    pos = torch.arange(105)[None].expand(16, -1)
    print("\nEach block alone, forward + backward on (16, 105, d_model):\n\n| block | kind | ms |\n|---|---|---|")
    for i, b in enumerate(model.blocks):
        print(f"| {i} | {type(b).__name__} | {1000 * min(timed(lambda: b(x, pos).sum().backward(), 10) for _ in range(3)):.2f} |")


if __name__ == "__main__":
    main()

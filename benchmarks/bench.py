"""Speed benchmark (not a test): synthesis and scoring as multiples of real time, training steps/s,
decode real-time factor. All measured side by side in one run on this machine; prints markdown."""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import torch

from jericho_cli.config import DATA, defaults
from jericho_cli.data import pools
from jericho_cli.data.codebook import Codebook
from jericho_cli.inference import answer
from jericho_cli.config import ModelConfig
from jericho_cli.model.mini_jmamba import MiniJMamba
from jericho_cli.data.render import Variation, render
from jericho_cli.scoring.ear import Scorer
from jericho_cli.training.batches import make_targets
from jericho_cli.training.loop import compute_loss


def timed(fn, repeat=1):
    t = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - t) / repeat, out


def main():
    torch.manual_seed(0)
    cb, cfg = Codebook.load(), defaults(DATA)
    rows = []
    exs = [pools.draw(t, "test_iid", i, 0, cfg) for t in pools.TASK_SPLITS for i in range(100)]
    rng = np.random.default_rng(0)
    secs, waves = timed(lambda: [render(e.input, cb, rng=rng, variation=Variation(snr_db=20)) for e in exs])
    audio_s = sum(len(w) for w in waves) / cb.sample_rate
    rows.append(("synthesis (render inputs, 300 utt)", f"{audio_s / secs:.0f}x real time"))
    sc = Scorer(cb)
    secs, _ = timed(lambda: [sc.transcribe(w) for w in waves])
    rows.append(("scoring (transcribe, 300 utt)", f"{audio_s / secs:.0f}x real time"))
    mirror = [e for e in exs if e.meta.get("variant")][:16]
    batch_ex = [(render(e.input, cb, rng=rng, variation=Variation()), render(e.target, cb), e.target) for e in mirror]
    sym = {s: i for i, s in enumerate(cb.alphabet)}
    for name, over in [("cpu_small", {"downsample": 2}), ("appendix", {}), ("plan", {})]:
        model = MiniJMamba(ModelConfig.from_dict({"name": name, **over}))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        batch = make_targets(model, batch_ex, torch.device("cpu"))

        def step():
            loss, _ = compute_loss(model, batch, [[sym[s] for s in e[2]] for e in batch_ex], {"spec_l1": 1.0, "ctc": 0.2})
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()
        secs, _ = timed(step, 3)
        rows.append((f"train step {name} ({model.parameter_counts()['total'] / 1e6:.2f}M, batch 16 mirror len 3-10)",
                     f"{1 / secs:.2f} steps/s"))
        model.eval()
        inputs = [b[0] for b in batch_ex]
        secs, (outs, _) = timed(lambda: answer(model, inputs, cb.alphabet))
        in_s = sum(len(w) for w in inputs) / cb.sample_rate
        rows.append((f"decode {name} (batch 16, Griffin-Lim 32 it)", f"RTF {secs / in_s:.3f} (input audio)"))
    print(f"# Jericho benchmark\n\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}\n")
    print("| what | speed |\n|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} |")


if __name__ == "__main__":
    main()

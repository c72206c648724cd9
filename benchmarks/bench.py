"""Speed benchmark (not a test): synthesis and scoring as multiples of real time, training steps/s,
decode real-time factor, and time + peak memory on long audio (scoring linear in length, decode
bounded). All measured side by side in one run on this machine; prints markdown."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
from jericho_cli.training.batches import TrainExample, make_targets
from jericho_cli.training.loop import compute_loss


def timed(fn, repeat=1):
    t = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - t) / repeat, out


# a child process that runs one step on one file and reports its own peak memory
CHILD = r"""
import re, sys, time
t = time.perf_counter()
from jericho_cli.cli import app
try:
    app(sys.argv[1:])
except SystemExit as e:
    assert not e.code, e.code
# VmHWM: this process's own peak (ru_maxrss would carry the parent's over fork + exec)
hwm = re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)
print(time.perf_counter() - t, int(hwm) / 1024)
"""


def child(*args) -> tuple[float, float]:
    """(seconds, peak MB) of `jericho ARGS` in a fresh process (imports included)."""
    out = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True, text=True, check=True)
    secs, mb = out.stdout.split()[-2:]
    return float(secs), float(mb)


def long_audio_rows(cb) -> list[tuple[str, str]]:
    import soundfile as sf

    from jericho_cli.io.checkpoint import Checkpoint

    rows = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for minutes in (1, 10):
            n = 16000 * 60 * minutes
            seq = list("ABCDEFGHIJ") * (40 * minutes)  # 0.15 s a symbol: 400 symbols a minute
            files = {"white noise": (rng.standard_normal(n) * 0.1).astype(np.float32),
                     "tones at 20 dB SNR": render(seq, cb, rng=rng, variation=Variation(snr_db=20))}
            for what, y in files.items():
                folder = tmp / f"{minutes}-{what[:5]}"
                folder.mkdir()
                sf.write(folder / "long.wav", y, cb.sample_rate)
                secs, mb = child("score", "--wav-dir", folder, "--quiet", "--out", tmp / "s")
                rows.append((f"score a {minutes}-minute wav ({what})", f"{secs:.2f} s, peak {mb:.0f} MB"))
        torch.manual_seed(0)
        model = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 2, "n_symbols": len(cb.alphabet)}))
        ckpt = tmp / "cpu_small.pt"
        Checkpoint(model=model.state_dict(), model_config=model.cfg.to_dict(), codebook=cb.to_dict()).save(ckpt)
        for secs_in in (10, 60, 120):
            folder = tmp / f"dec{secs_in}"
            folder.mkdir()
            seq = list("ABCDEFGHIJ") * (secs_in * 2 // 3)
            sf.write(folder / "in.wav", render(seq, cb, rng=rng, variation=Variation())[: 16000 * secs_in], 16000)
            secs, mb = child("decode", "--ckpt", ckpt, "--wav-dir", folder, "--quiet", "--device", "cpu",
                             "--out", tmp / f"out{secs_in}")
            rows.append((f"decode a {secs_in} s wav, cpu_small (limit --max-seconds 120)",
                         f"{secs:.2f} s, peak {mb:.0f} MB"))
    return rows


def main():
    torch.manual_seed(0)
    cb, cfg = Codebook.load(), defaults(DATA)
    rows = []
    exs = [pools.draw(t, "test_iid", i, 0, cfg) for t in ("mirror", "bracket", "mod") for i in range(100)]
    rng = np.random.default_rng(0)
    secs, waves = timed(lambda: [render(e.input, cb, rng=rng, variation=Variation(snr_db=20)) for e in exs])
    audio_s = sum(len(w) for w in waves) / cb.sample_rate
    rows.append(("synthesis (render inputs, 300 utt)", f"{audio_s / secs:.0f}x real time"))
    sc = Scorer(cb)
    secs, _ = timed(lambda: [sc.transcribe(w) for w in waves])
    rows.append(("scoring (transcribe, 300 utt)", f"{audio_s / secs:.0f}x real time"))
    mirror = [e for e in exs if e.meta.get("variant")][:16]
    batch_ex = [TrainExample(render(e.input, cb, rng=rng, variation=Variation()), render(e.target, cb), e.target)
                for e in mirror]
    sym = {s: i for i, s in enumerate(cb.alphabet)}
    for name, over in [("cpu_small", {"downsample": 2}), ("appendix", {}), ("plan", {})]:
        model = MiniJMamba(ModelConfig.from_dict({"name": name, **over}))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        batch = make_targets(model, batch_ex, torch.device("cpu"))

        def step():
            loss, _ = compute_loss(model, batch, [[sym[s] for s in e.target] for e in batch_ex], {"spec_l1": 1.0, "ctc": 0.2})
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()
        secs, _ = timed(step, 3)
        rows.append((f"train step {name} ({model.parameter_counts()['total'] / 1e6:.2f}M, batch 16 mirror len 3-10)",
                     f"{1 / secs:.2f} steps/s"))
        model.eval()
        inputs = [b.audio for b in batch_ex]
        secs, _ = timed(lambda: answer(model, inputs, cb.alphabet))
        in_s = sum(len(w) for w in inputs) / cb.sample_rate
        rows.append((f"decode {name} (batch 16, Griffin-Lim 32 it)", f"RTF {secs / in_s:.3f} (input audio)"))
    rows += long_audio_rows(cb)
    from jericho_cli.runtime import cpu_model

    print(f"# Jericho benchmark\n\nMachine: {cpu_model()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}\n")
    print("Long audio: each row is a fresh `jericho` process (imports included), peak = its max RSS. Before\n"
          "issue #8 scoring a 10-minute noise file took 98 s and 2.2 GB, and decoding it tried to allocate\n"
          "14 GB for a time x time attention mask.\n")
    print("| what | speed |\n|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} |")


if __name__ == "__main__":
    main()

"""Sequence cores side by side (issue #11), measured in one run on this machine; prints markdown.

    python benchmarks/cores.py [--lengths "1000 10000 100000"] [--window 256] > outputs/bench_cores_cpu.md

Per core (the parameter-matched configs in recipes/conf/cores/ and Mini-JMamba itself, cpu_small):
- batch-1 latency of the block stack at 100 steps (the appendix's setting, F) and its ratio to the
  Transformer's;
- batch forward at each length: time per step and peak memory, each in a fresh process (VmHWM);
- streaming: time per step with the state a stream has after N steps (SSD/S4D/LSTM: a fixed-size
  state; attention: a key/value cache of min(N, window) steps), so the cost at step 100k is measured
  without running 100k steps first; memory is that state's size.
The front end and output head are left out: they cost the same for every core.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch

from jericho_cli.config import load_config, model_config
from jericho_cli.model.mini_jmamba import MiniJMamba

CORES = {"mini_jmamba": None, "transformer": "transformer", "ssd_only": "ssd_only", "lstm": "lstm",
         "s4d": "s4d", "hyena": "hyena"}
BASE = "recipes/mirror/conf/train_cpu.yaml"


def build(core: str | None, window: int | None = None) -> MiniJMamba:
    paths = [BASE] + ([f"recipes/conf/cores/{core}.yaml"] if core else [])
    cfg = load_config(paths, [f"model.attn_window={window}"] if window else [])
    return MiniJMamba(model_config(cfg["model"])).eval()


@torch.no_grad()
def stack(model, x):
    pos = torch.arange(x.shape[1])[None]
    for b in model.blocks:
        x = b(x, pos)
    return x


def timed(fn, repeat: int) -> float:
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


CHILD = r"""
import json, re, sys, time, torch
sys.path.insert(0, "benchmarks")
from cores import build, stack
core, n = (None if sys.argv[1] == "mini_jmamba" else sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
m = build(core)
x = torch.randn(1, n, m.cfg.d_model)
t = time.perf_counter()
stack(m, x)
secs = time.perf_counter() - t
hwm = int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"s": secs, "mb": hwm}))
"""


def batch_forward(core: str, n: int, timeout: float) -> dict | None:
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, core, str(n)], capture_output=True, text=True,
                             timeout=timeout, check=True)
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError):
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


@torch.no_grad()
def streaming(model, seen: int, window: int | None, steps: int = 200) -> tuple[float, float] | None:
    """(seconds per step, state MB) of `steps` steps after `seen` steps, or None (cannot stream)."""
    if any(type(b).__name__ == "HyenaBlock" for b in model.blocks):
        return None
    d = model.cfg.d_model
    states = []
    for b in model.blocks:
        kind = type(b).__name__
        if kind == "AttnBlock":
            keep = min(seen, window or seen)
            h = b.attn.n_heads
            states.append((torch.randn(1, h, keep, d // h), torch.randn(1, h, keep, d // h)))
        elif kind == "SSDBlock":
            states.append(tuple(torch.randn_like(s) for s in b.mixer.init_state(1)))
        elif kind == "S4DBlock":
            states.append(torch.randn_like(b.init_state(1)))
        else:  # LSTM
            states.append((torch.randn(1, 1, d), torch.randn(1, 1, d)))
    mb = sum(t.numel() * t.element_size() for s in states for t in (s if isinstance(s, tuple) else (s,))) / 2 ** 20
    x = torch.randn(1, d)
    t = time.perf_counter()
    for i in range(steps):
        pos = torch.tensor([seen + i])
        y = x
        for j, b in enumerate(model.blocks):
            y, new = b.step(y, states[j], pos, window)
            states[j] = new if type(b).__name__ != "AttnBlock" else tuple(c[:, :, -max(1, min(seen, window or seen)):]
                                                                       for c in new)
    return (time.perf_counter() - t) / steps, mb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="1000 10000 100000")
    ap.add_argument("--window", type=int, default=256, help="attention cache of the streaming rows")
    ap.add_argument("--timeout", type=float, default=300, help="seconds a batch forward may take")
    a = ap.parse_args()
    lengths = [int(v) for v in a.lengths.split()]
    torch.manual_seed(0)
    print("# Sequence cores, CPU\n")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; block stack only (front end and "
          f"output head excluded); streaming attention window {a.window} steps.\n")
    lat, params = {}, {}
    for name, core in CORES.items():
        m = build(core)
        x = torch.randn(1, 100, m.cfg.d_model)
        lat[name], params[name] = 1000 * timed(lambda: stack(m, x), 20), m.parameter_counts()["total"]
    rows = ["| core | parameters | batch-1 latency, 100 steps (ms) | vs Transformer |", "|---|---|---|---|"]
    rows += [f"| {n} | {params[n] / 1e3:.0f}k | {lat[n]:.2f} | {lat[n] / lat['transformer']:.2f}x |" for n in CORES]
    print("\n".join(rows) + "\n")
    head = "| core | " + " | ".join(f"batch {n}: us/step, peak MB" for n in lengths) + " | " + \
           " | ".join(f"stream after {n}: us/step, state MB" for n in lengths) + " |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(lengths)))
    for name, core in CORES.items():
        cells = []
        for n in lengths:
            r = batch_forward(name, n, a.timeout)
            cells.append(f"{1e6 * r['s'] / n:.1f}, {r['mb']:.0f}" if r else f"> {a.timeout:.0f} s")
        m = build(core, a.window if core in (None, "transformer") else None)
        for n in lengths:
            r = streaming(m, n, a.window)
            cells.append("cannot stream" if r is None else f"{1e6 * r[0]:.0f}, {r[1]:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

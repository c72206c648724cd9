"""Sequence cores side by side (issue #11), measured in one run on this machine; prints markdown.

    python benchmarks/cores.py [--lengths "1000 10000 100000"] [--window 256] > outputs/bench/bench_cores_cpu.md

Per core (the parameter-matched configs in recipes/conf/cores/ and Mini-JMamba itself, cpu_small):
- batch-1 latency of the block stack at 100 steps (the appendix's setting, F) and its ratio to the
  Transformer's;
- batch forward at each length: time per step and peak memory, each in a fresh process (VmHWM);
- streaming: time per step with the state a stream has after N steps (SSD/S4D/LSTM: a fixed-size
  state; attention: a key/value cache of min(N, window) steps), so the cost at step 100k is measured
  without running 100k steps first; memory is that state's size.
The front end and output head are left out: they cost the same for every core.
Then training steps/s at matched size (the whole model, batch 16 Mirror), synthesis and scoring as
multiples of real time (scoring at 1 and 10 minutes: linear?), and the issue's goals as ratios
measured here. `--plot FILE` draws time per step against length for every core.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch

from jericho_cli.config import load_config, model_config
from jericho_cli.model.mini_jmamba import MiniJMamba, stepper

CORES = {"mini_jmamba": None, "transformer": "transformer", "ssd_only": "ssd_only", "lstm": "lstm",
         "s4d": "s4d", "hyena": "hyena"}
# Mini-JMamba for long audio: its two attention layers see the last WINDOW steps (block-local, linear
# in length), the SSD layers carry everything older; batch forward rows only (training is the same)
LONG = "mini_jmamba_window"
BASE = "recipes/mirror/conf/tuning/train_cpu_plain.yaml"


def build(core: str | None, window: int | None = None) -> MiniJMamba:
    if core == LONG:
        core, window = None, window or 256
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
    from jericho_cli.model.attention import KVCache

    d = model.cfg.d_model
    states = []
    for b in model.blocks:
        kind = type(b).__name__
        if kind == "AttnBlock":  # the cache a stream holds after `seen` steps, filled with random keys
            h, keep = b.attn.n_heads, min(seen, window or seen)
            cache = KVCache(window)
            cache.add(torch.randn(1, h, 1, d // h), torch.randn(1, h, 1, d // h))
            cache.keys, cache.values = torch.randn(1, h, max(keep, 1), d // h), torch.randn(1, h, max(keep, 1), d // h)
            cache.n = seen
            states.append(cache)
        elif kind == "SSDBlock":
            states.append(tuple(torch.randn_like(s) for s in b.mixer.init_state(1)))
        elif kind == "S4DBlock":
            states.append(torch.randn_like(b.init_state(1)))
        else:  # LSTM
            states.append((torch.randn(1, 1, d), torch.randn(1, 1, d)))
    mb = sum(s.nbytes() if isinstance(s, KVCache) else sum(t.numel() * t.element_size() for t in
             (s if isinstance(s, tuple) else (s,))) for s in states) / 2 ** 20
    x = torch.randn(1, d)
    steps_of = [stepper(b, window) for b in model.blocks]  # as decode --stream runs them
    t = time.perf_counter()
    for i in range(steps):
        pos = torch.tensor([seen + i])
        y = x
        for j, step in enumerate(steps_of):
            y, states[j] = step(y, states[j], pos)
    return (time.perf_counter() - t) / steps, mb


def training_step(core: str | None = None, split: str = "test_iid", levels: list | None = None):
    """The model of the Mirror CPU config (with `core`'s blocks) and one optimizer step on a fixed batch
    of 16 rendered utterances of `split` (lengths `levels`, default the config's): (model, step)."""
    import numpy as np

    from jericho_cli.data import pools
    from jericho_cli.data.codebook import Codebook
    from jericho_cli.data.render import render
    from jericho_cli.training.batches import TrainExample
    from jericho_cli.training.loop import backward

    cb = Codebook.load()
    cfg = load_config([BASE] + ([f"recipes/conf/cores/{core}.yaml"] if core else []), [])
    cfg["model"]["n_symbols"] = len(cb.alphabet)
    torch.manual_seed(0)
    model = MiniJMamba(model_config(cfg["model"]))
    rng = np.random.default_rng(0)
    data = {**cfg["data"], "mirror": {**cfg["data"]["mirror"], **({"iid_levels": levels} if levels else {})}}
    exs = [pools.draw("mirror", split, i, 0, data) for i in range(16)]
    batch = [TrainExample(render(e.input, cb, rng=rng), render(e.target, cb), e.target) for e in exs]
    sym = {s: i for i, s in enumerate(cb.alphabet)}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        backward(model, model, batch, cfg, sym, torch.device("cpu"), 0)
        opt.step()

    return model, step


def train_steps_per_s(core: str | None, steps: int = 10, rounds: int = 3) -> float:
    """Optimizer steps per second of the whole model (front end to losses), batch 16 Mirror 3-10: the
    best of `rounds` rounds of `steps` steps, so that a busy neighbour on the machine counts least."""
    _, step = training_step(core, levels=[3, 10])
    return max(1 / timed(step, steps) for _ in range(rounds))


def scan_paths() -> dict[str, dict[str, float]]:
    """Training steps/s of Mini-JMamba and SSD-only on each CPU path of the SSD layer, side by side:
    compiled (scan.c: recurrence and causal conv), the fast chunked PyTorch scan, and the scan this
    project had before them (`ssd_chunked_reference` at the configured chunk of 64, shifted-add conv)."""
    from jericho_cli.model import cpu_kernels, ssd

    rates = {"compiled": {}, "pytorch": {}, "before": {}}
    saved = (cpu_kernels._lib, cpu_kernels._why, ssd.ssd_chunked, ssd.auto_chunk)
    try:
        for path in rates:
            if path != "compiled":
                cpu_kernels._lib, cpu_kernels._why = None, "benchmark: PyTorch path"
            if path == "before":
                ssd.ssd_chunked, ssd.auto_chunk = ssd.ssd_chunked_reference, lambda length, limit: limit
            if path == "compiled" and not cpu_kernels.available():
                continue
            for name in ("mini_jmamba", "ssd_only"):
                rates[path][name] = train_steps_per_s(CORES[name])
    finally:
        cpu_kernels._lib, cpu_kernels._why, ssd.ssd_chunked, ssd.auto_chunk = saved
    return rates


def decode_stream(symbols: int = 10, repeat: int = 3) -> dict[str, float]:
    """Milliseconds per model step of `decode --stream`'s model run (MiniJMamba.stream(): front end,
    every block one step at a time, output heads) on one rendered Mirror utterance, the plain Mirror model:
    with the compiled block steps (step.c) and with the PyTorch steps, side by side."""
    import numpy as np

    from jericho_cli.data.codebook import Codebook
    from jericho_cli.data.render import render
    from jericho_cli.model import cpu_kernels

    cb = Codebook.load()
    wave = render(list("ABCDEFGH" * 4)[:symbols], cb, rng=np.random.default_rng(0))
    wave, n = torch.from_numpy(wave)[None].float(), torch.tensor([len(wave)])
    m = build(None)
    out = {}
    saved = (cpu_kernels._lib, cpu_kernels._why)
    try:
        for path in ("compiled", "pytorch"):
            if path == "pytorch":
                cpu_kernels._lib, cpu_kernels._why = None, "benchmark: PyTorch path"
            elif not cpu_kernels.available():
                continue
            r = m.stream(wave, n)
            steps = int(r["in_steps"][0] + r["ans_steps"][0])
            out[path] = min(timed(lambda: m.stream(wave, n), 1) for _ in range(repeat)) / steps * 1e3
    finally:
        cpu_kernels._lib, cpu_kernels._why = saved
    out["steps"] = steps
    return out


def audio_rows() -> list[tuple[str, float]]:
    """(what, x real time): synthesis of the three tasks' inputs, scoring of 1- and 10-minute files."""
    import numpy as np

    from jericho_cli.config import DATA, defaults
    from jericho_cli.data import pools
    from jericho_cli.data.codebook import Codebook
    from jericho_cli.data.render import Variation, render
    from jericho_cli.scoring.ear import Scorer

    cb, cfg, rng = Codebook.load(), defaults(DATA), np.random.default_rng(0)
    exs = [pools.draw(t, "test_iid", i, 0, cfg) for t in ("mirror", "bracket", "mod") for i in range(100)]
    waves = []
    secs = timed(lambda: waves.append([render(e.input, cb, rng=rng, variation=Variation(snr_db=20)) for e in exs]), 1)
    rows = [("synthesis (300 utterances, 3 tasks, 20 dB SNR)", sum(map(len, waves[-1])) / cb.sample_rate / secs)]
    sc = Scorer(cb)
    for minutes in (1, 10):
        y = render(list("ABCDEFGHIJ") * (40 * minutes), cb, rng=rng, variation=Variation(snr_db=20))
        rows.append((f"scoring a {minutes}-minute file (tones, 20 dB SNR)",
                     len(y) / cb.sample_rate / timed(lambda: sc.transcribe(y), 1)))
    return rows


def plot(path: str, lengths: list[int], batch: dict, stream: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name in batch:
        xs = [n for n in lengths if batch[name].get(n)]
        axes[0].plot(xs, [1e6 * batch[name][n]["s"] / n for n in xs], marker="o", label=name)
        xs = [n for n in lengths if stream[name].get(n)]
        if xs and name != LONG:  # streams as mini_jmamba does
            axes[1].plot(xs, [1e6 * stream[name][n][0] for n in xs], marker="o", label=name)
    for ax, title in zip(axes, ("batch forward", "streaming (one step)")):
        ax.set(xscale="log", yscale="log", xlabel="sequence length (model steps)", ylabel="µs per step", title=title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def goals(lengths: list[int], batch: dict, stream: dict, audio: list[tuple[str, float]]) -> list[str]:
    """The issue's goals, each as the ratio measured in this run and whether it is met."""
    out = []
    n = 10000 if 10000 in lengths else lengths[len(lengths) // 2]
    for name, what in (("mini_jmamba", "full attention, as trained"), (LONG, "attention window 256")):
        mj, tr = batch[name].get(n), batch["transformer"].get(n)
        if mj and tr:
            r = mj["s"] / tr["s"]
            out.append(f"| Mini-JMamba ({what}) batch-1 time / Transformer's at {n} steps | ≤ 0.5x | {r:.2f}x | "
                       f"{'met' if r <= 0.5 else 'missed'} |")
    s = stream["mini_jmamba"]
    lo, hi = min(lengths), max(lengths)
    if s.get(lo) and s.get(hi):
        r = s[hi][0] / s[lo][0]
        out.append(f"| Mini-JMamba streaming time per step, {hi} vs {lo} steps | within 20% | {r:.2f}x, state "
                   f"{s[lo][1]:.2f} -> {s[hi][1]:.2f} MB | {'met' if abs(r - 1) <= 0.2 and s[hi][1] == s[lo][1] else 'missed'} |")
    for what, x in audio:
        goal = 1000 if what.startswith("synthesis") else 500
        out.append(f"| {what} | ≥ {goal}x real time | {x:.0f}x | {'met' if x >= goal else 'missed'} |")
    sc = [x for what, x in audio if what.startswith("scoring")]
    if len(sc) == 2:
        out.append(f"| scoring linear in length: speed at 10 min / at 1 min | ≈ 1 | {sc[1] / sc[0]:.2f} | "
                   f"{'met' if abs(sc[1] / sc[0] - 1) <= 0.2 else 'missed'} |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="1000 10000 100000")
    ap.add_argument("--window", type=int, default=256, help="attention cache of the streaming rows")
    ap.add_argument("--timeout", type=float, default=300, help="seconds a batch forward may take")
    ap.add_argument("--plot", help="PNG of time per step vs length")
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
    batch, stream = {}, {}
    for name, core in CORES.items():
        cells = []
        batch[name] = {n: batch_forward(name, n, a.timeout) for n in lengths}
        for n in lengths:
            r = batch[name][n]
            cells.append(f"{1e6 * r['s'] / n:.1f}, {r['mb']:.0f}" if r else f"> {a.timeout:.0f} s")
        m = build(core, a.window if core in (None, "transformer") else None)
        stream[name] = {n: streaming(m, n, a.window) for n in lengths}
        for n in lengths:
            r = stream[name][n]
            cells.append("cannot stream" if r is None else f"{1e6 * r[0]:.0f}, {r[1]:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    batch[LONG] = {n: batch_forward(LONG, n, a.timeout) for n in lengths}
    stream[LONG] = stream["mini_jmamba"]  # streaming keeps a window of keys in both
    cells = [f"{1e6 * r['s'] / n:.1f}, {r['mb']:.0f}" if r else f"> {a.timeout:.0f} s"
             for n, r in batch[LONG].items()]
    print(f"| {LONG} ({a.window}) | " + " | ".join(cells) + " | as mini_jmamba |" + " |" * (len(lengths) - 1))
    print("\nTraining, the whole model at matched size (batch 16 Mirror, lengths 3-10):\n")
    print("| core | steps/s | vs Transformer |\n|---|---|---|")
    train = {name: train_steps_per_s(core) for name, core in CORES.items()}
    for name in CORES:
        print(f"| {name} | {train[name]:.2f} | {train[name] / train['transformer']:.2f}x |")
    paths = scan_paths()
    print("\nThe SSD layer's CPU paths (training steps/s, as above; `before`: the scan this project had "
          "before the compiled and fast paths):\n")
    print("| core | compiled | fast PyTorch | before | compiled / before |\n|---|---|---|---|---|")
    for name in ("mini_jmamba", "ssd_only"):
        c, f, b = (paths[k].get(name) for k in ("compiled", "pytorch", "before"))
        print(f"| {name} | {f'{c:.2f}' if c else 'not built'} | {f:.2f} | {b:.2f} | "
              f"{f'{c / b:.2f}x' if c else '-'} |")
    dec = decode_stream()
    print(f"\n`decode --stream`: the plain Mirror model run one step at a time on a 10-symbol Mirror utterance "
          f"({dec['steps']} model steps; front end, blocks and output heads), ms per step:\n")
    print("| compiled block steps | PyTorch steps | PyTorch / compiled |\n|---|---|---|")
    c, pt = dec.get("compiled"), dec["pytorch"]
    print(f"| {f'{c:.3f}' if c else 'not built'} | {pt:.3f} | {f'{pt / c:.2f}x' if c else '-'} |")
    audio = audio_rows()
    print("\nAudio in and out (one thread of the ear and the renderer):\n\n| what | x real time |\n|---|---|")
    for what, x in audio:
        print(f"| {what} | {x:.0f}x |")
    print("\nGoals (issue #11), measured in this run:\n\n| goal | target | measured | |\n|---|---|---|---|")
    print("\n".join(goals(lengths, batch, stream, audio)))
    for name, goal in (("mini_jmamba", "Mini-JMamba"), ("ssd_only", "SSD-only")):
        r = train[name] / train["transformer"]
        print(f"| {goal} training steps/s / Transformer's, matched size | ≥ 1.0x | {r:.2f}x | "
              f"{'met' if r >= 1.0 else 'missed'} |")
    r = lat["mini_jmamba"] / lat["transformer"]
    print(f"| Mini-JMamba batch-1 latency / Transformer's at 100 steps | ≤ 1.0x | {r:.2f}x | "
          f"{'met' if r <= 1.0 else 'missed'} |")
    best = dec.get("compiled", dec["pytorch"])
    print(f"| `decode --stream` time per model step, demo model | ≤ 0.5 ms | {best:.3f} ms | "
          f"{'met' if best <= 0.5 else 'missed'} |")
    if paths["compiled"]:
        r = paths["compiled"]["mini_jmamba"] / paths["before"]["mini_jmamba"]
        print(f"| Mini-JMamba training steps/s, compiled path / before | ≥ 2x | {r:.2f}x | "
              f"{'met' if r >= 2 else 'missed'} |")
    if a.plot:
        plot(a.plot, lengths, batch, stream)


if __name__ == "__main__":
    main()

"""On a CUDA machine: mamba-ssm's Triton SSD kernel against our scan, on layers and on shipped
checkpoints, and plan-size training speed of Mini-JMamba against a Transformer core; prints markdown.

    python benchmarks/gpu.py [--steps 20] > outputs/bench/bench_gpu.md

1. Layer agreement: a plan-size Mamba2Layer (d_model 256, headdim 64, d_state 64) forward and
   backward through mamba-ssm's kernel and through our chunked scan on the same GPU (fp32, bf16
   autocast; selective and LTI), and our scan on the GPU against float64 on the CPU.
2. Checkpoint agreement: each checkpoint in examples/checkpoints/ answers 64 test_iid inputs of its
   task on the CPU (our scan, fp32) and on the GPU (the kernel, fp32): the answers' log-magnitude
   frames compared, and the scorer's transcription of both answers (how many agree; exact match of
   each against the target).
3. Training steps/s at plan size (batch 64 Mirror lengths 3-10, bf16 autocast as `train` uses on
   CUDA, pre-rendered batch, optimizer step included): Mini-JMamba with the kernel, Mini-JMamba with
   our scan, and a Transformer core (attention blocks only) of matched parameter count.
Without CUDA (or without mamba-ssm) it says so and measures what it can.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from jericho_cli.config import load_config, model_config
from jericho_cli.model import ssd
from jericho_cli.model.mini_jmamba import MiniJMamba

ROOT = Path(__file__).resolve().parents[1]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm())


def layer_rows(device: str) -> list[str]:
    rows = []
    for lti in (False, True):
        torch.manual_seed(0)
        m = ssd.Mamba2Layer(256, d_state=64, headdim=64, chunk_size=64, lti=lti)
        u = torch.randn(4, 1000, 256)
        ref = m.double()
        ud = u.double().requires_grad_(True)
        y64 = ref(ud)
        g64 = torch.autograd.grad(y64.sum(), ud)[0]
        m = m.float().to(device)
        for dtype in (torch.float32, torch.bfloat16) if device == "cuda" else (torch.float32,):
            out = {}
            for kernel in (False, True):
                if kernel and ssd._KERNEL is None:
                    continue
                m.use_kernel = kernel
                x = u.to(device).requires_grad_(True)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
                    y = m(x)
                out[kernel] = (y.float(), torch.autograd.grad(y.float().sum(), x)[0])
            name = f"{'LTI' if lti else 'selective'}, {'bf16 autocast' if dtype == torch.bfloat16 else 'fp32'}"
            ours = out[False]
            line = f"| {name} | {rel(ours[0].cpu(), y64):.1e} / {rel(ours[1].cpu(), g64):.1e} |"
            if True in out:
                k = out[True]
                line += (f" {rel(k[0].cpu(), y64):.1e} / {rel(k[1].cpu(), g64):.1e} |"
                         f" {rel(k[0], ours[0]):.1e} / {rel(k[1], ours[1]):.1e} |")
            else:
                line += " not run | not run |"
            rows.append(line)
    return rows


def checkpoint_rows(device: str, n: int = 64) -> list[str]:
    from jericho_cli.data import pools
    from jericho_cli.data.render import Variation, render
    from jericho_cli.inference import answer
    from jericho_cli.model.loading import load_model
    from jericho_cli.scoring.ear import Scorer

    rows = []
    for path in sorted((ROOT / "examples" / "checkpoints").glob("*.pt")):
        cpu_model, cb, ck = load_model(path, "cpu")
        task = ck.config["train"]["task"]
        task = task[0] if isinstance(task, list) else task
        rng = np.random.default_rng(0)
        exs = [pools.draw(task, "test_iid", i, 7, ck.config["data"]) for i in range(n)]
        waves = [render(e.input, cb, rng=rng, variation=Variation()) for e in exs]
        gpu_model, _, _ = load_model(path, device)
        with torch.no_grad():
            from jericho_cli.model.loading import pad_batch
            x, lens = pad_batch(waves, "cpu")
            a = cpu_model(x, lens)["log_mag"]
            b = gpu_model(x.to(device), lens.to(device))["log_mag"].cpu()
        sc = Scorer(cb)
        said_cpu = [sc.transcribe(w) for w in answer(cpu_model, waves, cb.alphabet)[0]]
        said_gpu = [sc.transcribe(w) for w in answer(gpu_model, waves, cb.alphabet)[0]]
        agree = sum(p == q for p, q in zip(said_cpu, said_gpu))
        right = lambda said: sum(list(s) == list(e.target) for s, e in zip(said, exs))  # noqa: E731
        kernel = "kernel" if (ssd._KERNEL is not None and not gpu_model.cfg.neg_eig) else "our scan"
        rows.append(f"| {path.name} | {task} | {kernel} | {rel(b, a):.1e} | {agree}/{n} | {right(said_cpu)} / "
                    f"{right(said_gpu)} |")
    return rows


def matched_transformer(plan_cfg: dict) -> tuple[dict, int]:
    """A Transformer core (attention blocks only) whose parameter count is nearest the plan model's."""
    target = sum(p.numel() for p in MiniJMamba(model_config(plan_cfg)).parameters())
    best = None
    for k in range(2, 40):
        cfg = {**plan_cfg, "layers": ["attn"] * k}
        count = sum(p.numel() for p in MiniJMamba(model_config(cfg)).parameters())
        if best is None or abs(count - target) < abs(best[1] - target):
            best = (cfg, count)
    return best


def train_rows(device: str, steps: int) -> list[str]:
    from jericho_cli.data import pools
    from jericho_cli.data.codebook import Codebook
    from jericho_cli.data.render import Variation, render
    from jericho_cli.training.batches import TrainExample
    from jericho_cli.training.loop import backward

    cb = Codebook.load()
    cfg = load_config([ROOT / "recipes/mirror/conf/train_gpu.yaml"], [])
    cfg["model"]["n_symbols"] = len(cb.alphabet)
    rng = np.random.default_rng(0)
    exs = [pools.draw("mirror", "train", i, 0, cfg["data"]) for i in range(cfg["train"]["batch_size"])]
    batch = [TrainExample(render(e.input, cb, rng=rng, variation=Variation()), render(e.target, cb), e.target)
             for e in exs]
    sym = {s: i for i, s in enumerate(cb.alphabet)}
    tr_cfg, _ = matched_transformer(cfg["model"])
    rows, rates = [], {}
    for name, mcfg, kernel in (("Mini-JMamba (plan), mamba-ssm kernel", cfg["model"], True),
                               ("Mini-JMamba (plan), our scan", cfg["model"], False),
                               ("Transformer core, matched size", tr_cfg, False)):
        if kernel and (ssd._KERNEL is None or device == "cpu"):
            rows.append(f"| {name} | - | - | not run (no kernel) |")
            continue
        torch.manual_seed(0)
        model = MiniJMamba(model_config(mcfg)).to(device)
        for m in model.modules():
            if isinstance(m, ssd.Mamba2Layer):
                m.use_kernel = kernel
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        run_cfg = {**cfg, "model": mcfg}

        def step():
            opt.zero_grad(set_to_none=True)
            backward(model, model, batch, run_cfg, sym, torch.device(device), 0)
            opt.step()

        for _ in range(3):
            step()
        if device != "cpu":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(steps):
            step()
        if device != "cpu":
            torch.cuda.synchronize()
        rate = steps / (time.perf_counter() - t)
        rates[name] = rate
        params = sum(p.numel() for p in model.parameters())
        kinds = model.cfg.layers
        blocks = " + ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        rows.append(f"| {name} | {params / 1e6:.2f}M | {blocks} | {rate:.2f} |")
    tr = rates.get("Transformer core, matched size")
    if tr:
        rows = [r + (f" {rates[n] / tr:.2f}x |" if (n := r.split(" | ")[0][2:]) in rates else "") for r in rows]
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20, help="timed training steps per model")
    args = ap.parse_args()
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    print("# GPU check: mamba-ssm kernels vs our scan, plan-size training speed\n")
    print(f"- device: {torch.cuda.get_device_name(0) if cuda else 'no CUDA: CPU only'}")
    print(f"- torch {torch.__version__}; mamba-ssm kernel: "
          f"{'importable' if ssd._KERNEL is not None else 'not importable (' + str(ssd._KERNEL_ERROR) + ')'}")
    try:
        import triton
        print(f"- triton {triton.__version__}")
    except ImportError:
        print("- triton: not installed")
    print("\n## 1. One plan-size SSD layer (batch 4 x 1000 steps): relative error, output / input gradient\n")
    print("| layer, precision | our scan on the GPU vs fp64 CPU | kernel vs fp64 CPU | kernel vs our scan (GPU) |")
    print("|---|---|---|---|")
    print("\n".join(layer_rows(device)), flush=True)
    print("\n## 2. Shipped checkpoints on 64 test_iid inputs: CPU (our scan) vs GPU\n")
    print("| checkpoint | task | GPU path | answer frames, relative difference | transcriptions equal | "
          "exact match CPU / GPU |")
    print("|---|---|---|---|---|---|")
    print("\n".join(checkpoint_rows(device)), flush=True)
    print(f"\n## 3. Training steps/s at plan size (batch 64 Mirror, {args.steps} timed steps, bf16 autocast)\n")
    print("| model | parameters | blocks | steps/s | vs Transformer |")
    print("|---|---|---|---|---|")
    print("\n".join(train_rows(device, args.steps)), flush=True)


if __name__ == "__main__":
    sys.exit(main())

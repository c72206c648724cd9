"""Where one training step of the demo config spends its time, on one thread; prints markdown.

    OMP_NUM_THREADS=1 python benchmarks/profile_step.py > outputs/bench/profile_step_cpu.md

The plain Mirror config (recipes/mirror/conf/tuning/train_cpu_plain.yaml, cpu_small), one pre-rendered batch of 16
training utterances, the whole step (front end, blocks, answer head, losses, backward, AdamW):
seconds per step over 10 steps, then the PyTorch profiler's operators by self time over 3 steps, and
each block type's forward + backward timed alone. Run from another checkout (its own jericho_cli on
the path) it profiles that version, so a before and an after come from the same script.
"""

from __future__ import annotations

import torch
from torch.profiler import ProfilerActivity, profile

from cores import timed, training_step  # benchmarks/cores.py, beside this file


def main():
    model, step = training_step(split="train")  # the demo config's lengths, training inputs
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

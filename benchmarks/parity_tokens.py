"""Parity on token inputs with our Mamba-2 SSD layer, eigenvalues in [0, 1] vs [-1, 1] (issue #12's
control for the audio runs): does the layer itself learn parity and extrapolate, as Grazzi et al.
(ICLR 2025, Table 3) found for Mamba? One SSD layer (d_model 16, state 8) on embedded bits, a linear
readout at the last step, lengths 2-10 in training, tested at 10, 20 (2x), 40 (4x) and 100 (10x).

    python benchmarks/parity_tokens.py [--steps 1000] [--seeds "0 1 2 3"] > outputs/parity_tokens.md
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn as nn

from jericho_cli.model.ssd import Mamba2Layer

TEST_LENGTHS = (10, 20, 40, 100)


class TokenParity(nn.Module):
    def __init__(self, neg_eig: bool, d: int = 16):
        super().__init__()
        self.emb = nn.Embedding(2, d)
        self.ssd = Mamba2Layer(d, d_state=8, headdim=8, expand=2, chunk_size=16, neg_eig=neg_eig)
        self.head = nn.Linear(d, 2)

    def forward(self, bits):
        h = self.emb(bits)
        return self.head((h + self.ssd(h))[:, -1])


def bits(gen, n: int, length: int):
    x = torch.randint(0, 2, (n, length), generator=gen)
    return x, x.sum(1) % 2


def run(neg_eig: bool, seed: int, steps: int) -> dict:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = TokenParity(neg_eig)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        x, y = bits(gen, 64, int(torch.randint(2, 11, (), generator=gen)))
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return {n: (model(x).argmax(-1) == y).float().mean().item()
                for n in TEST_LENGTHS for x, y in [bits(gen, 1000, n)]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", default="0 1 2 3")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split()]
    print(f"# Parity on tokens: our SSD layer, [0, 1] vs [-1, 1]\n\n{a.steps} steps x 64, lengths 2-10; "
          f"accuracy on 1000 fresh strings per length (chance 50%); torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}.\n")
    print("| eigenvalues | seed | " + " | ".join(f"length {n}" for n in TEST_LENGTHS) + " | s |")
    print("|---|---|" + "---|" * len(TEST_LENGTHS) + "---|")
    for neg in (False, True):
        accs = []
        for s in seeds:
            t = time.time()
            r = run(neg, s, a.steps)
            accs.append(r)
            print(f"| {'[-1, 1]' if neg else '[0, 1]'} | {s} | " + " | ".join(f"{100 * r[n]:.1f}" for n in TEST_LENGTHS)
                  + f" | {time.time() - t:.0f} |")
        best = max(accs, key=lambda r: r[40])
        print(f"| {'[-1, 1]' if neg else '[0, 1]'} | mean / best of {len(seeds)} | "
              + " | ".join(f"{100 * statistics.mean(r[n] for r in accs):.1f} / {100 * best[n]:.1f}"
                           for n in TEST_LENGTHS) + " | |")


if __name__ == "__main__":
    main()

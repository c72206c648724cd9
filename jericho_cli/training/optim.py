"""Optimizer and learning-rate schedule: AdamW (no decay on vectors and SSM scalars), warmup + cosine."""

from __future__ import annotations

import math

import torch


def build_optimizer(model: torch.nn.Module, t: dict) -> torch.optim.Optimizer:
    def decays(p):
        return p.dim() >= 2 and not getattr(p, "_no_weight_decay", False)

    params = list(model.parameters())
    return torch.optim.AdamW([{"params": [p for p in params if decays(p)], "weight_decay": t["weight_decay"]},
                              {"params": [p for p in params if not decays(p)], "weight_decay": 0.0}],
                             lr=t["lr"], betas=(0.9, 0.98))


def lr_at(step: int, t: dict) -> float:
    if step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    progress = min(1.0, (step - t["warmup"]) / max(1, t["steps"] - t["warmup"]))
    return t["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

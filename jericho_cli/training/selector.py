"""The subject selector: which task the next training batch comes from.

Base proportions come from the config (`train.mix`); with `adaptive`, a task's share grows with how
far it lags: p(task) ~ weight * max(floor, 1 - val_exact(task)). The pick for a step is a pure
function of (seed, step, current proportions), so a resumed run makes the same choices.
"""

from __future__ import annotations

import numpy as np


class SubjectSelector:
    def __init__(self, weights: dict[str, float], adaptive: bool = False, floor: float = 0.05, seed: int = 0):
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"task weights must be non-negative with a positive sum: {weights}")
        self.weights, self.adaptive, self.floor, self.seed = dict(weights), adaptive, floor, seed
        self.accuracy = {t: 0.0 for t in weights}

    @property
    def tasks(self) -> list[str]:
        return list(self.weights)

    def probs(self) -> dict[str, float]:
        raw = {t: w * (max(self.floor, 1.0 - self.accuracy[t]) if self.adaptive else 1.0)
               for t, w in self.weights.items()}
        total = sum(raw.values())
        return {t: v / total for t, v in raw.items()}

    def update(self, accuracy: dict[str, float]) -> None:
        self.accuracy.update({t: float(a) for t, a in accuracy.items() if t in self.accuracy})

    def pick(self, step: int) -> str:
        p = self.probs()
        u = np.random.default_rng([self.seed, 7919, step]).random()
        acc = 0.0
        for t, q in p.items():
            acc += q
            if u < acc:
                return t
        return self.tasks[-1]

    def state(self) -> dict:
        return {"accuracy": dict(self.accuracy)}

    def load(self, state: dict) -> None:
        self.accuracy.update(state.get("accuracy", {}))

"""Validation: a fixed val set per task, exact match of the *scored output audio*."""

from __future__ import annotations

import numpy as np
import torch

from ..data import pools
from ..data.codebook import Codebook
from ..data.render import Variation, render
from ..inference import answer
from ..scoring.ear import Scorer
from .batches import input_domain, task_list


class Validator:
    """Exact match per task, overall and up to the curriculum's current level, and of the CTC head."""

    def __init__(self, cfg: dict, cb: Codebook):
        t = cfg["train"]
        self.cb, self.scorer = cb, Scorer(cb)
        self.items = {}
        for task in task_list(t):
            self.items[task] = []
            for i in range(t["val_n"]):
                ex = pools.draw(task, "val", i, t["seed"], cfg["data"])
                rng = pools.example_rng(t["seed"], task, "val/audio", i)
                self.items[task].append((render(ex.input, cb, input_domain(t, rng), rng=rng,
                                                variation=Variation(snr_db=t["snr_db"])),
                                         ex.target, ex.meta["difficulty"]))

    def __call__(self, model, max_level: dict, batch_size=32, n_samples: int = 0) -> dict:
        """{task: {exact, exact_upto_level, aux_exact}}; the first `n_samples` answers of each task
        are kept in self.samples {task: [(tag, answer wave, log-magnitude frames, text)]}."""
        model.eval()
        result = {}
        self.samples = {}
        for task, items in self.items.items():
            hits, aux_hits = [], []
            for s in range(0, len(items), batch_size):
                chunk = items[s:s + batch_size]
                audio, aux, _ = answer(model, [wave for wave, _, _ in chunk], self.cb.alphabet)
                for (_, target, level), y, a in zip(chunk, audio, aux):
                    heard = self.scorer.transcribe(y)
                    hits.append((level, heard == target))
                    aux_hits.append(a == target)
                    if len(hits) <= n_samples:
                        with torch.no_grad():
                            dev = next(model.parameters()).device
                            spec = model.spec.log_mag(torch.as_tensor(y, dtype=torch.float32, device=dev)[None])[0]
                            spec = spec.cpu().numpy()
                        text = f"reference {''.join(target)}, heard {''.join(heard)}, CTC head {''.join(a)}"
                        self.samples.setdefault(task, []).append((f"val{len(hits) - 1}", y, spec, text))
            cap = max_level.get(task)
            upto = [h for lv, h in hits if cap is None or lv <= cap]
            result[task] = {"exact": float(np.mean([h for _, h in hits])),
                            # None: the val pool has no input this short (parity at length 2 has 4)
                            "exact_upto_level": float(np.mean(upto)) if upto else None,
                            "aux_exact": float(np.mean(aux_hits))}
        model.train()
        return result

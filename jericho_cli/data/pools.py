"""Splits: which examples each split holds, and the guarantee that no test input occurs in train.

Disjointness works by hashing: every input sequence falls in one of 100 buckets (blake2b of the
symbols). Buckets [0, train) form the *train pool*; `train` draws only from it, every other split
only from the rest (`val` and `test_iid` from their own slices). So no test input can appear in any
training data, including data generated on the fly during `jericho train`, with no shared state.
"""

from __future__ import annotations

import functools
import hashlib
import zlib

import numpy as np

from ..errors import JerichoError
from . import tasks
from .state_tasks import STATE_TASKS

COMMON_SPLITS = ("train", "val", "test_iid", "test_ood_length")
# Longer splits of the state-tracking tasks (issue #12's protocol): split -> m, the split holding
# input lengths beyond m/2 up to m times the longest training input.
LONG_SPLITS = {"test_ood_4x": 4, "test_ood_8x": 8}
TASK_SPLITS = {
    "mirror": COMMON_SPLITS + ("test_ood_symbol",),
    "bracket": COMMON_SPLITS + ("diag_equal_count",),
    "mod": COMMON_SPLITS + ("test_ood_compose", "diag_a_lt_b", "diag_a_eq_b", "diag_b_eq_1",
                            "diag_two_digit_rem"),
    **{name: COMMON_SPLITS + tuple(LONG_SPLITS) for name in STATE_TASKS},
}


def bucket(symbols) -> int:
    """Stable bucket 0..99 of an input sequence."""
    h = hashlib.blake2b("\x1f".join(symbols).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") % 100


def in_pool(symbols, split: str, pools: dict) -> bool:
    b, tr, va = bucket(symbols), pools["train"], pools["val"]
    if split == "train":
        return b < tr
    if split == "val":
        return tr <= b < tr + va
    if split == "test_iid":
        return b >= tr + va
    return b >= tr


def example_rng(seed: int, task: str, split: str, index: int) -> np.random.Generator:
    """Each utterance has its own stream: shards and reruns give identical examples."""
    return np.random.default_rng([int(seed), zlib.crc32(task.encode()), zlib.crc32(split.encode()), int(index)])


def split_levels(task: str, split: str, cfg: dict) -> list[int]:
    c = cfg[task]
    lo, hi = c["ood_length_levels"] if split == "test_ood_length" else c["iid_levels"]
    if split in LONG_SPLITS:
        m = LONG_SPLITS[split]
        lo, hi = m // 2 * hi + 1, m * hi
    if task == "bracket":
        return [n for n in range(lo, hi + 1) if n % 2 == 0]
    if split == "diag_two_digit_rem":
        if c["divisor_digits"] < 2:
            raise JerichoError("diag_two_digit_rem needs divisors of 2 digits (data config mod.divisor_digits >= 2)")
        lo = max(lo, 2)
    if split in ("diag_a_eq_b", "diag_a_lt_b"):
        hi = min(hi, c["divisor_digits"])
    return list(range(lo, hi + 1))


@functools.lru_cache(maxsize=None)
def _bracket_classes(n: int, split: str, pools: tuple) -> frozenset:
    """Which answers (V, X) the split's pool holds at length n: tiny lengths may lack one, and a
    split that then drew only the other would hand a model a length shortcut."""
    if n > 14:
        return frozenset("VX")
    pool = dict(pools)
    seqs = (["(" if (m >> i) & 1 else ")" for i in range(n)] for m in range(2 ** n))
    return frozenset("V" if tasks.is_dyck(s) else "X" for s in seqs if in_pool(s, split, pool))


def _generate(rng, task: str, split: str, level: int, cfg: dict, klass: str | None = None) -> tasks.Example:
    c = cfg[task]
    if task == "mirror":
        if split == "test_ood_symbol":
            return tasks.mirror(rng, level, c, alphabet=c["train_symbols"] + c["ood_symbols"],
                                must_include=c["ood_symbols"])
        return tasks.mirror(rng, level, c, alphabet=c["train_symbols"])
    if task == "bracket":
        return tasks.bracket(rng, level, c, force="equal_count" if split == "diag_equal_count" else klass)
    if task == "mod":
        if split == "test_ood_compose":
            steps = int(c["compose_steps"])
        elif split.startswith("diag_"):
            steps = 1
        else:
            steps = int(rng.integers(c["iid_steps"][0], c["iid_steps"][1] + 1))
        case = split[len("diag_"):] if split.startswith("diag_") else None
        return tasks.mod(rng, level, c, steps=steps, case=case)
    if task in STATE_TASKS:
        return STATE_TASKS[task][0](rng, level, c)
    raise JerichoError(f"unknown task {task!r} (available: {', '.join(TASK_SPLITS)})")


def shaping_sections(data: dict, tasks) -> dict:
    """The data config's parts that shape these tasks' examples (the pools and each task's section):
    what synth stamps and resume compare, so adding a task leaves other tasks' sets and runs alone."""
    return {k: data[k] for k in ("pools", *tasks) if k in data}


def task_symbols(task: str, cfg: dict) -> str:
    """Every symbol a task's inputs and answers can use (the codebook must have them all)."""
    if task == "mirror":
        return cfg["mirror"]["train_symbols"] + cfg["mirror"]["ood_symbols"]
    if task == "modular_arithmetic":  # its operators are configurable
        return "01234" + cfg[task]["operators"]
    if task in STATE_TASKS:
        return STATE_TASKS[task][1]
    return {"bracket": "()VX", "mod": "0123456789%"}[task]


def check_task_split(task: str, split: str) -> None:
    if task not in TASK_SPLITS:
        raise JerichoError(f"unknown task {task!r} (available: {', '.join(TASK_SPLITS)})")
    if split not in TASK_SPLITS[task]:
        raise JerichoError(f"task {task!r} has no split {split!r} (available: {', '.join(TASK_SPLITS[task])})")


def draw(task: str, split: str, index: int, seed: int, cfg: dict, max_level: int | None = None,
         rng: np.random.Generator | None = None, level_weights: dict | None = None) -> tasks.Example:
    """The `index`-th example of a split: a level, then rejection sampling into the split's pool.
    `level_weights` ({level: weight}, unnamed levels 1) tilts the level draw (train.level_mix);
    without it every level is equally likely, and the draws are what they always were."""
    check_task_split(task, split)
    rng = rng if rng is not None else example_rng(seed, task, split, index)
    levels = split_levels(task, split, cfg)
    if max_level is not None:
        levels = [lv for lv in levels if lv <= max_level] or levels[:1]
    klass = None
    if task == "bracket" and split != "diag_equal_count":  # answer first, then lengths holding both
        klass = "valid" if rng.random() < 0.5 else "invalid"
        pools = tuple(sorted(cfg["pools"].items()))
        levels = [lv for lv in levels if _bracket_classes(lv + lv % 2, split, pools) == {"V", "X"}] or levels
    p = None
    if level_weights:
        w = np.array([float(level_weights.get(lv, 1.0)) for lv in levels])
        p = w / w.sum() if w.sum() > 0 else None
    for _ in range(100):
        level = levels[int(rng.integers(len(levels)) if p is None else rng.choice(len(levels), p=p))]
        for _ in range(100):
            ex = _generate(rng, task, split, level, cfg, klass)
            if in_pool(ex.input, split, cfg["pools"]):
                ex.meta.update(length=len(ex.input), difficulty=level)
                if split.startswith("diag_"):
                    ex.meta["subset"] = split[len("diag_"):]
                return ex
    raise JerichoError(f"cannot draw a {task}/{split} example outside the other pools: "
                       "the input space at these levels is too small")

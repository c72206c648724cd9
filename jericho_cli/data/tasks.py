"""Task generators: pure functions `(rng, level, cfg) -> Example`.

`level` is the difficulty the curriculum asks for: the sequence length (Mirror, Bracket) or the
number of digits of the dividend (Mod). Each generator is deterministic given the rng state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import task_defaults


@dataclass
class Example:
    input: list[str]
    target: list[str]
    meta: dict = field(default_factory=dict)


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


# ------------------------------------------------------------------------------------- Mirror
MIRROR_VARIANTS = ("copy", "repeat", "reverse")


def mirror(rng, level: int, cfg: dict, *, alphabet: str, must_include: str = "") -> Example:
    """Copy the sequence (variants: repeat twice, reverse). `must_include`: at least one of these."""
    n = int(level)
    seq = [_pick(rng, alphabet) for _ in range(n)]
    if must_include:
        k = int(rng.integers(1, min(n, 2) + 1))  # one or two held-out symbols, anywhere
        for pos in rng.choice(n, size=k, replace=False):
            seq[int(pos)] = _pick(rng, must_include)
    variant = task_defaults("mirror", cfg)["variant"]
    target = {"copy": seq, "repeat": seq + seq, "reverse": seq[::-1]}[variant]
    return Example(seq, list(target), {"variant": variant})


# ------------------------------------------------------------------------------------ Bracket
def is_dyck(seq) -> bool:
    depth = 0
    for s in seq:
        depth += 1 if s == "(" else -1
        if depth < 0:
            return False
    return depth == 0


def _first_failure(seq) -> int:
    """Index where the sequence becomes unrecoverable (depth < 0), or len(seq) if only unclosed."""
    depth = 0
    for i, s in enumerate(seq):
        depth += 1 if s == "(" else -1
        if depth < 0:
            return i
    return len(seq)


def _random_dyck(rng, n: int) -> list[str]:
    half = n // 2
    while True:
        seq = ["("] * half + [")"] * half
        rng.shuffle(seq)
        if is_dyck(seq):
            return seq


def bracket(rng, level: int, cfg: dict, *, force: str | None = None) -> Example:
    """Dyck-1 balanced or not, answer V / X; lengths are even so length says nothing.

    Invalid cases: half keep equal counts of '(' and ')' in a wrong order (a counting shortcut
    fails on them), half flip one bracket of a valid sequence (off by one pair). `force`: 'valid',
    'invalid', or 'equal_count' (only the first invalid kind: the diagnostic subset).
    """
    n = int(level) + int(level) % 2
    want_valid = force == "valid" or (force is None and rng.random() < 0.5)
    if want_valid:
        seq = _random_dyck(rng, n)
    elif force == "equal_count" or rng.random() < 0.5:  # force "invalid": either kind
        while True:
            seq = ["("] * (n // 2) + [")"] * (n // 2)
            rng.shuffle(seq)
            if not is_dyck(seq):
                break
    else:
        seq = _random_dyck(rng, n)
        i = int(rng.integers(n))
        seq[i] = "(" if seq[i] == ")" else ")"
    valid = is_dyck(seq)
    meta = {"valid": valid, "equal_count": seq.count("(") == seq.count(")"),
            "depth": max(int(np.cumsum([1 if s == "(" else -1 for s in seq]).max()), 0)}
    if not valid:
        fail = _first_failure(seq)
        meta["fail_kind"] = "unclosed" if fail == n else ("early" if fail < n // 2 else "late")
    return Example(seq, ["V" if valid else "X"], meta)


# ---------------------------------------------------------------------------------------- Mod
def _randint(rng, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi), also beyond int64 (a Mod dividend of 30 digits): there, 30 random
    bits at a time with rejection. Ranges that fit int64 draw exactly as rng.integers always did."""
    if hi - 1 < 2 ** 63 and lo >= -(2 ** 63):
        return int(rng.integers(lo, hi))
    n, bits = hi - lo, (hi - lo - 1).bit_length()
    while True:
        v = 0
        for _ in range(-(-bits // 30)):
            v = (v << 30) | int(rng.integers(0, 2 ** 30))
        v >>= -(-bits // 30) * 30 - bits
        if v < n:
            return lo + v


def _number(rng, digits: int) -> int:
    lo = 0 if digits == 1 else 10 ** (digits - 1)
    return _randint(rng, lo, 10 ** digits)


def _divisor(rng, max_bd: int, above: int) -> int | None:
    """A divisor of 1..max_bd digits (digit count uniform, then value uniform) greater than `above`."""
    counts = [d for d in range(1, max_bd + 1) if 10 ** d - 1 > above]
    if not counts:
        return None
    d = int(counts[int(rng.integers(len(counts)))])
    return _randint(rng, max(above + 1, 1 if d == 1 else 10 ** (d - 1)), 10 ** d)


def _congruent(rng, r: int, b: int, lo: int, hi: int) -> int | None:
    """A uniformly drawn v in [lo, hi] with v % b == r (v > b where possible, so that the step is
    not a no-op that hands the answer over as a copy of its input), or None when there is none."""
    k_lo, k_hi = max(-(-(lo - r) // b), 0), (hi - r) // b
    if k_hi >= 1:
        k_lo = max(k_lo, 1)
    return None if k_lo > k_hi else r + b * _randint(rng, k_lo, k_hi + 1)


def _balanced_operands(rng, digits: int, max_bd: int, steps: int, two_digit: bool) -> list[int] | None:
    """Operands whose final remainder was drawn first: remainder digit count uniform over what the
    divisors allow, value uniform within it. Drawing A and B uniformly instead makes about half of
    all answers 0 (and 60% with two steps), so a model answering "0" to everything looks half right.
    Built backwards: last divisor > remainder, each earlier remainder congruent to the next one."""
    lo_a, hi_a = (0 if digits == 1 else 10 ** (digits - 1)), 10 ** digits - 1
    r_hi = min(hi_a, 10 ** max_bd - 2)  # a remainder is below its divisor
    n_digits = 2 if two_digit else int(rng.integers(1, len(str(r_hi)) + 1))
    r = _randint(rng, 0 if n_digits == 1 else 10 ** (n_digits - 1), min(10 ** n_digits - 1, r_hi) + 1)
    divisors, cur = [], r
    for i in range(steps, 0, -1):
        b = _divisor(rng, max_bd, cur)
        if b is None:
            return None
        divisors.insert(0, b)
        # the value before this step: the dividend A itself, or a remainder below some divisor
        lo, hi = (lo_a, hi_a) if i == 1 else (0, 10 ** max_bd - 2)
        cur = _congruent(rng, cur, b, lo, hi)
        if cur is None:
            return None
    return [cur] + divisors


def mod(rng, level: int, cfg: dict, *, steps: int, case: str | None = None) -> Example:
    """`A % B [% C ...]` with `steps` operators; answer = the remainder's digits.

    level = digits of A; divisors have 1..cfg['divisor_digits'] digits (never more than A), never 0.
    `case` forces a diagnostic: 'a_lt_b', 'a_eq_b', 'b_eq_1', 'two_digit_rem'. Without it, edge
    cases still occur naturally and with a small extra probability (cfg['edge_prob']). Unless
    cfg['balance_remainders'] is false, the remainder is drawn first (see _balanced_operands).
    """
    cfg = task_defaults("mod", cfg)
    digits = int(level)
    max_bd = max(1, min(int(cfg["divisor_digits"]), digits))
    if case is None and rng.random() < float(cfg["edge_prob"]):
        # A < B and A = B need a dividend no longer than the divisors allow
        case = _pick(rng, ("a_lt_b", "a_eq_b", "b_eq_1") if digits <= max_bd else ("b_eq_1",))
    if case in ("a_eq_b", "a_lt_b"):  # B >= A must stay a divisor of the allowed size
        digits = min(digits, max_bd)
    balanced = cfg["balance_remainders"] and case in (None, "two_digit_rem")
    for _ in range(10000):
        if balanced:
            operands = _balanced_operands(rng, digits, max_bd, steps, case == "two_digit_rem")
            if operands is None:
                continue
            a, divisors = operands[0], operands[1:]
        else:
            a = _number(rng, digits)
            divisors = [max(1, _number(rng, int(rng.integers(1, max_bd + 1)))) for _ in range(steps)]
        if case == "a_eq_b":
            if a == 0:
                continue
            divisors[0] = a
        elif case == "b_eq_1":
            divisors[0] = 1
        elif case == "a_lt_b" and not a < divisors[0]:
            continue
        r = a
        for b in divisors:
            r %= b
        if case == "two_digit_rem" and r < 10:
            continue
        break
    else:  # pragma: no cover - only for impossible configs (e.g. two-digit remainders of 1-digit B)
        raise ValueError(f"cannot draw a mod example with case={case} at level {level}")
    seq = list(str(a))
    for b in divisors:
        seq += ["%"] + list(str(b))
    meta = {"steps": steps, "operands": [a] + divisors, "remainder": r}
    if a < divisors[0]:
        meta["case"] = "a_lt_b"
    elif a == divisors[0]:
        meta["case"] = "a_eq_b"
    elif divisors[0] == 1:
        meta["case"] = "b_eq_1"
    return Example(seq, list(str(r)), meta)


"""State-tracking tasks (issue #12): the appendix's algorithmic levels and the Chomsky-hierarchy tasks.

Each task is a pure function `(rng, length) -> Example` over the default codebook's symbols; `length`
is the input's length in symbols (the curriculum's level, as for Mirror and Bracket). Definitions:

- appendix D levels: `count` (n symbols heard, any of A-J -> n), `depth` (a balanced bracket string ->
  its maximum nesting depth), `program` (INC/DEC as + / - from 0 -> the counter, `-` before a negative
  value), `binary_addition` with `little_endian: false` (`101+011` -> `1000`); the appendix's parity is
  `parity_check`.
- Delétang et al., "Neural Networks and the Chomsky Hierarchy" (ICLR 2023), as its repository
  (google-deepmind/neural_networks_chomsky_hierarchy) defines them: `even_pairs` (is the number of
  unequal neighbours 01/10 even: answer 0, odd: 1), `parity_check` (number of 1s mod 2),
  `cycle_navigation` (moves stay/right/left as 0 + - on a cycle of 5 from 0 -> the final position),
  `modular_arithmetic` (digits 0-4 and + - x without brackets, x first, mod 5 -> one digit; odd
  lengths; the codebook's X, a times sign, is the multiplication: no new tone needed), `reverse_string`, `duplicate_string` (binary strings), `binary_addition` (little-endian
  binary numbers with `+` between, the sum little-endian without trailing zeros; the benchmark's
  termination token and padding are not needed: an answer in sound ends where it ends).
Our code, written from those definitions.
"""

from __future__ import annotations

import numpy as np

from ..config import task_defaults
from .tasks import Example, _randint, _random_dyck

BITS = "01"


def _bits(rng, n: int) -> list[str]:
    return [BITS[int(b)] for b in rng.integers(0, 2, size=n)]


COUNTED = "ABCDEFGHIJ"  # any of Mirror's letters: the input space is large enough to split


def count(rng, n: int, cfg: dict) -> Example:
    seq = [COUNTED[int(i)] for i in rng.integers(0, len(COUNTED), size=n)]
    return Example(seq, list(str(n)), {"count": n})


def depth(rng, n: int, cfg: dict) -> Example:
    seq = _random_dyck(rng, n + n % 2)
    d = int(np.cumsum([1 if s == "(" else -1 for s in seq]).max())
    return Example(seq, list(str(d)), {"depth": d})


def program(rng, n: int, cfg: dict) -> Example:
    seq = ["+" if b else "-" for b in rng.integers(0, 2, size=n)]
    value = seq.count("+") - seq.count("-")
    return Example(seq, list(str(value)), {"value": value})


def parity_check(rng, n: int, cfg: dict) -> Example:
    seq = _bits(rng, n)
    return Example(seq, [str(seq.count("1") % 2)], {"ones": seq.count("1")})


def even_pairs(rng, n: int, cfg: dict) -> Example:
    seq = _bits(rng, n)
    unequal = sum(a != b for a, b in zip(seq, seq[1:]))
    return Example(seq, [str(unequal % 2)], {"unequal_pairs": unequal})


CYCLE_MOVES = {"0": 0, "+": 1, "-": -1}


def cycle_navigation(rng, n: int, cfg: dict) -> Example:
    moves = list(CYCLE_MOVES)
    seq = [moves[int(i)] for i in rng.integers(0, 3, size=n)]
    pos = sum(CYCLE_MOVES[s] for s in seq) % int(task_defaults("cycle_navigation", cfg)["cycle"])
    return Example(seq, [str(pos)], {"position": pos})


def modular_arithmetic(rng, n: int, cfg: dict) -> Example:
    """Numbers 0..m-1 and operators alternate (odd length; an even length loses one symbol)."""
    m, ops = 5, task_defaults("modular_arithmetic", cfg)["operators"]
    n = max(1, n - (1 - n % 2))
    seq = [str(int(rng.integers(m))) if i % 2 == 0 else ops[int(rng.integers(len(ops)))] for i in range(n)]
    return Example(seq, [str(evaluate_mod(seq, m))], {})


def evaluate_mod(seq: list[str], m: int) -> int:
    """Value of `a op b op c ...` mod m with X (times) before + and - (a - b is a + (-b))."""
    total, term, sign = 0, int(seq[0]), 1
    for op, v in zip(seq[1::2], seq[2::2]):
        if op == "X":
            term *= int(v)
        else:
            total += sign * term
            term, sign = int(v), (1 if op == "+" else -1)
    return (total + sign * term) % m


def reverse_string(rng, n: int, cfg: dict) -> Example:
    seq = _bits(rng, n)
    return Example(seq, seq[::-1], {})


def duplicate_string(rng, n: int, cfg: dict) -> Example:
    seq = _bits(rng, n)
    return Example(seq, seq + seq, {})


def binary_addition(rng, n: int, cfg: dict) -> Example:
    """Two binary numbers of lengths k and n-1-k (each >= 1, no leading zero: drawn in [1, 2^k)),
    written little-endian unless `little_endian` is false; answer their sum in the same order."""
    n = max(3, n)
    k = int(rng.integers(1, n - 1))
    a, b = _randint(rng, 1, 2 ** k), _randint(rng, 1, 2 ** (n - 1 - k))
    little = task_defaults("binary_addition", cfg)["little_endian"]

    def digits(x: int, width: int) -> list[str]:
        s = format(x, "b").zfill(width)
        return list(s[::-1] if little else s)

    return Example(digits(a, k) + ["+"] + digits(b, n - 1 - k), digits(a + b, 0), {"a": a, "b": b})


# name -> (generator, every symbol of inputs and answers); lengths and options: config.DATA[name]
STATE_TASKS = {
    "count": (count, "ABCDEFGHIJ0123456789"),
    "depth": (depth, "()0123456789"),
    "program": (program, "+-0123456789"),
    "parity_check": (parity_check, "01"),
    "even_pairs": (even_pairs, "01"),
    "cycle_navigation": (cycle_navigation, "0+-1234"),
    "modular_arithmetic": (modular_arithmetic, "01234+-X"),
    "reverse_string": (reverse_string, "01"),
    "duplicate_string": (duplicate_string, "01"),
    "binary_addition": (binary_addition, "01+"),
}

"""The state-tracking tasks (issue #12): every generator's answer against an independent reference
computed from the input alone, on random inputs of every length, and split disjointness."""

import numpy as np
import pytest

from jericho_cli.config import DATA, defaults
from jericho_cli.data import pools
from jericho_cli.data.state_tasks import STATE_TASKS


def _depth_by_peeling(s: str) -> int:  # rounds of deleting every "()" until nothing is left
    rounds = 0
    while s:
        s, rounds = s.replace("()", ""), rounds + 1
    return rounds


def _little(bits: str) -> int:
    return int(bits[::-1], 2)


REFERENCE = {
    "count": lambda s, c: str(len(s)),
    "depth": lambda s, c: str(_depth_by_peeling(s)),
    "program": lambda s, c: str(eval("0" + "".join(x + "1" for x in s))),
    "parity_check": lambda s, c: str(bin(int(s, 2)).count("1") % 2),
    "even_pairs": lambda s, c: "0" if s[0] == s[-1] else "1",  # unequal neighbours even <=> ends equal
    "cycle_navigation": lambda s, c: str(eval("0" + "".join({"0": "+0", "+": "+1", "-": "-1"}[x] for x in s)) % 5),
    "modular_arithmetic": lambda s, c: str(eval(s.replace("X", "*")) % 5),  # Python: * before + and -
    "reverse_string": lambda s, c: s[::-1],
    "duplicate_string": lambda s, c: s + s,
    "binary_addition": lambda s, c: (format(sum(map(_little, s.split("+"))), "b")[::-1] if c["little_endian"]
                                     else format(sum(int(x, 2) for x in s.split("+")), "b")),
}


@pytest.mark.parametrize("task,little_endian", [(t, True) for t in sorted(STATE_TASKS)] + [("binary_addition", False)])
def test_answers_match_an_independent_reference(task, little_endian):
    cfg = defaults(DATA)
    cfg["binary_addition"]["little_endian"] = little_endian
    lo, hi = cfg[task]["ood_length_levels"]
    for seed in range(300):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, hi + 1))
        ex = STATE_TASKS[task][0](rng, n, cfg[task])
        s = "".join(ex.input)
        assert "".join(ex.target) == REFERENCE[task](s, cfg[task]), (task, s, ex.target)
        assert set(s + "".join(ex.target)) <= set(pools.task_symbols(task, cfg))


def test_modular_arithmetic_examples_of_the_benchmark():
    from jericho_cli.data.state_tasks import evaluate_mod
    for expr, value in (("1+2X3", 2), ("1-1-1", 4), ("0X1+4X3-2", 0)):  # its docstring's examples, mod 5
        assert evaluate_mod(list(expr), 5) == value


@pytest.mark.parametrize("task", sorted(STATE_TASKS))
def test_splits_are_disjoint_and_ood_is_longer(task):
    cfg = defaults(DATA)
    train = {tuple(pools.draw(task, "train", i, 0, cfg).input) for i in range(300)}
    test = [pools.draw(task, "test_iid", i, 0, cfg).input for i in range(60)]
    assert not train & {tuple(x) for x in test}
    lo, hi = cfg[task]["iid_levels"]
    assert all(lo <= len(x) <= hi + 1 for x in test)  # Dyck and odd-length tasks round by one
    ood = [pools.draw(task, "test_ood_length", i, 0, cfg).input for i in range(30)]
    assert min(map(len, ood)) > hi - 1
    for split, k in (("test_ood_4x", 2), ("test_ood_8x", 4)):  # (k x hi, 2k x hi], rounded as above
        xs = [pools.draw(task, split, i, 0, cfg).input for i in range(30)]
        assert k * hi - 1 <= min(map(len, xs)) and max(map(len, xs)) <= 2 * k * hi + 1, split


def test_every_state_task_has_its_defaults_in_config_and_only_there():
    from jericho_cli.config import DATA, STATE_TASK_LEVELS, TASKS
    assert set(STATE_TASKS) == set(STATE_TASK_LEVELS) and set(STATE_TASKS) <= set(TASKS)
    assert all(len(entry) == 2 for entry in STATE_TASKS.values())  # generator, alphabet: no defaults here
    assert DATA["cycle_navigation"]["cycle"].default == 5  # a real key now: settable with --set
    rng = np.random.default_rng(0)
    ex = STATE_TASKS["cycle_navigation"][0](rng, 12, {"cycle": 3})
    assert int(ex.target[0]) < 3

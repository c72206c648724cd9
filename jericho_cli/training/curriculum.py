"""The curriculum: a max level per task that rises when validation up to it passes a threshold."""

from __future__ import annotations


def curriculum_start(cur: dict, task: str, levels: list[int]) -> int | None:
    """First max level of `task`, or None (all levels from the start). `enabled` is a bool or a list
    of tasks; `start` a level or {task: level}: a task's shortest levels can be too small a pool to
    learn anything but the pool itself (Bracket length 4, Mod with one-digit dividends)."""
    enabled = cur["enabled"]
    if not (task in enabled if isinstance(enabled, (list, tuple)) else enabled):
        return None
    start = cur["start"].get(task) if isinstance(cur["start"], dict) else cur["start"]
    return start or levels[0]


def advance(max_level: dict, levels: dict, per_task: dict, threshold: float) -> list[str]:
    """Raise each task's level whose validation up to it passed `threshold`, or that no validation
    input is short enough to check (nothing holds it back); returns log lines."""
    lines = []
    for task, r in per_task.items():
        lv, upto = max_level[task], r["exact_upto_level"]
        if lv is not None and lv < levels[task][-1] and (upto is None or upto >= threshold):
            max_level[task] = lv + 1
            lines.append(f"curriculum: {task} max level -> {lv + 1}" + (" (no val input up to it)" if upto is None else ""))
    return lines


def complete(max_level: dict, levels: dict) -> bool:
    """Every task trains on all its levels (only then is a model a candidate for best.pt)."""
    return all(lv is None or lv >= levels[task][-1] for task, lv in max_level.items())

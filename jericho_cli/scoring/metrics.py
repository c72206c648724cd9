"""Sequence metrics: edit distance with its error kinds, and grouped summaries."""

from __future__ import annotations

from collections import defaultdict


def align(ref: list[str], hyp: list[str]) -> dict:
    """Levenshtein alignment: distance and counts of substitutions, insertions, deletions."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    i, j, sub, ins, dele = n, m, 0, 0, 0
    while i > 0 or j > 0:  # backtrace, preferring matches/substitutions
        if i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            sub += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and d[i][j] == d[i - 1][j] + 1:
            dele, i = dele + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return {"edit_distance": d[n][m], "substitutions": sub, "insertions": ins, "deletions": dele}


def error_kind(a: dict) -> str:
    kinds = [k for k in ("substitution", "insertion", "deletion") if a[k + "s"]]
    return "none" if not kinds else kinds[0] if len(kinds) == 1 else "mixed"


def compare(ref: list[str], hyp: list[str]) -> dict:
    """Per-utterance score. token_acc = max(0, 1 - edit_distance / len(ref))."""
    a = align(ref, hyp)
    return {"exact": ref == hyp, "token_acc": max(0.0, 1 - a["edit_distance"] / max(1, len(ref))),
            **a, "error_kind": error_kind(a)}


BREAKDOWNS = ("length", "difficulty", "steps", "subset", "snr_db")


def _stats(rows: list[dict]) -> dict:
    n = len(rows)
    s = {"count": n,
         "exact_match": sum(r["exact"] for r in rows) / n,
         "token_acc": sum(r["token_acc"] for r in rows) / n,
         "edit_distance": sum(r["edit_distance"] for r in rows) / n,
         "errors": {k: sum(r[k] for r in rows) for k in ("substitutions", "insertions", "deletions")},
         "error_kinds": dict(sorted(_count(r["error_kind"] for r in rows if not r["exact"]).items()))}
    diag = [r["diagnosis"] for r in rows if r.get("diagnosis")]
    if diag:
        s["diagnosis"] = dict(sorted(_count(diag).items()))
    return s


def _count(items) -> dict:
    c: dict = defaultdict(int)
    for x in items:
        c[x] += 1
    return dict(c)


def summarize(rows: list[dict]) -> dict:
    """Overall stats, plus per task/split group with breakdowns by length, difficulty, steps, subset."""
    groups = defaultdict(list)
    for r in rows:
        groups[f"{r.get('task') or '-'}/{r.get('split') or '-'}"].append(r)
    out = {"overall": _stats(rows), "groups": {}}
    for key in sorted(groups):
        g = groups[key]
        stats = {**_stats(g), "majority_ref": _most_common([r["ref"] for r in g]),
                 "top_hyp": _most_common([r["hyp"] for r in g])}
        for field in BREAKDOWNS:
            by = defaultdict(list)
            for r in g:
                if r.get("meta", {}).get(field) is not None:
                    by[str(r["meta"][field])].append(r)
            if by:
                stats["by_" + field] = {k: _stats(v) for k, v in sorted(by.items(), key=lambda kv: _num(kv[0]))}
        out["groups"][key] = stats
    return out


def _most_common(answers: list[list[str]]) -> dict:
    """The most frequent answer and its share: for references, the exact match of always giving that
    one answer (what a model deaf to its input can reach); for hypotheses, what the model says most."""
    counts = _count("".join(a) for a in answers)
    answer = min(counts, key=lambda a: (-counts[a], a))  # ties: the first in sorted order, for stable bytes
    return {"answer": answer, "share": counts[answer] / len(answers)}


def _num(s: str):
    try:
        return (0, float(s))
    except ValueError:
        return (1, s)

"""Tables (`jericho report`): summary.json files -> markdown, csv or latex tables, and PNG plots."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tabulate import tabulate

from ..errors import JerichoError
from ..io.files import check_out_path, read_json
from ..scoring.metrics import BREAKDOWNS

COLUMNS = ["run", "task", "split", "n", "exact_match", "token_acc", "edit_dist", "sub", "ins", "del"]


NUMBER = (int, float)
STATS = {"count": int, "exact_match": NUMBER, "token_acc": NUMBER, "edit_distance": NUMBER, "errors": dict}
OPTIONAL = {"error_kinds": dict, "diagnosis": dict, "majority_ref": dict, "top_hyp": dict,
            "aux_exact_match": NUMBER, "aux_confidence": NUMBER}


def _bad(what: str, p: Path):
    return JerichoError(f"not a jericho summary.json ({what})", str(p))


def _check_stats(g, key: str, p: Path, breakdowns: bool) -> None:
    """The fields `jericho score` writes for one group (or one breakdown value), with their types."""
    if not isinstance(g, dict):
        raise _bad(f"{key} is not a mapping", p)
    for k, kind in STATS.items():
        if not isinstance(g.get(k), kind) or isinstance(g.get(k), bool):
            raise _bad(f"{key} lacks {k}", p)
    if not all(isinstance(g["errors"].get(k), int) for k in ("substitutions", "insertions", "deletions")):
        raise _bad(f"{key}: bad 'errors'", p)
    for k, kind in OPTIONAL.items():
        if k in g and not isinstance(g[k], kind):
            raise _bad(f"{key}: bad {k!r}", p)
    for k in ("error_kinds", "diagnosis"):
        if not all(isinstance(v, int) for v in g.get(k, {}).values()):
            raise _bad(f"{key}: bad {k!r}", p)
    for k in ("majority_ref", "top_hyp"):
        if k in g and not (isinstance(g[k].get("answer"), str) and isinstance(g[k].get("share"), NUMBER)):
            raise _bad(f"{key}: bad {k!r}", p)
    if breakdowns:
        for field in BREAKDOWNS:
            by = g.get("by_" + field, {})
            if not isinstance(by, dict):
                raise _bad(f"{key}: bad 'by_{field}'", p)
            for value, b in by.items():
                _check_stats(b, f"{key} by_{field} {value}", p, breakdowns=False)


def load_summary(path: str | Path) -> dict:
    """A summary.json written by `jericho score`, its structure checked (report reads nothing else)."""
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    s = read_json(p, "summary")
    groups = s.get("groups")
    if not isinstance(groups, dict) or not isinstance(s.get("overall"), dict):
        raise _bad("no 'groups' / 'overall'", p)
    for key in ("aux_exact_match", "aux_confidence"):
        if key in s["overall"] and not isinstance(s["overall"][key], NUMBER):
            raise _bad(f"bad overall {key!r}", p)
    for key, g in groups.items():
        if "/" not in key:
            raise _bad(f"group {key!r} is not task/split", p)
        _check_stats(g, f"group {key!r}", p, breakdowns=True)
    return s


def run_name(path: str | Path) -> str:
    """exp/mirror/score_test_iid/summary.json -> mirror/score_test_iid."""
    p = Path(path)
    if p.name == "summary.json":
        p = p.parent
    return "/".join(p.parts[-2:])


def summary_rows(summaries: dict[str, dict]) -> list[list]:
    rows = []
    for name, s in summaries.items():
        for key, g in s["groups"].items():
            task, split = key.split("/", 1)
            e = g["errors"]
            rows.append([name, task, split, g["count"], 100 * g["exact_match"], 100 * g["token_acc"],
                         g["edit_distance"], e["substitutions"], e["insertions"], e["deletions"]])
    return rows


FORMATS = ("md", "csv", "latex")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise JerichoError(f"unknown --format {fmt!r} ({', '.join(FORMATS)})")


def check_by(by: str | None) -> None:
    """A breakdown field (`--by`), or None for no breakdown table."""
    if by not in (None,) + BREAKDOWNS:
        raise JerichoError(f"unknown --by {by!r} ({', '.join(BREAKDOWNS)}, none)")


def render_table(header: list[str], rows: list[list], fmt: str = "md") -> str:
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows([[f"{x:.4f}" if isinstance(x, float) else x for x in r] for r in rows])
        return buf.getvalue()
    tablefmt = {"md": "github", "latex": "latex_booktabs"}.get(fmt)
    if tablefmt is None:
        raise JerichoError(f"unknown format {fmt!r} (md, csv, latex)")
    return tabulate(rows, headers=header, tablefmt=tablefmt, floatfmt=".2f") + "\n"


def breakdown_rows(summaries: dict[str, dict], field: str = "length") -> list[list]:
    rows = []
    for name, s in summaries.items():
        for key, g in s["groups"].items():
            for value, b in g.get("by_" + field, {}).items():
                rows.append([name, key, value, b["count"], 100 * b["exact_match"], 100 * b["token_acc"]])
    return rows


def diagnosis_rows(summaries: dict[str, dict]) -> list[list]:
    rows = []
    for name, s in summaries.items():
        for key, g in s["groups"].items():
            d = g.get("diagnosis")
            if d:
                rows.append([name, key, g["count"] - round(g["exact_match"] * g["count"]),
                             d.get("reasoning", 0), d.get("rendering", 0)])
    return rows


def report(paths: list[str], fmt: str = "md", plots: str | None = None, by: str | None = "length",
           spectrogram: str | None = None) -> str:
    if not paths:
        raise JerichoError("give at least one summary.json")
    check_format(fmt)
    check_by(by)
    if spectrogram and not plots:
        raise JerichoError("--spectrogram needs --plots DIR (where spectrogram.png goes)")
    if plots:
        check_out_path(plots, "--plots")
    from .analysis import is_analysis, load_analysis, markdown

    analyses = [p for p in paths if is_analysis(p)]
    if analyses and fmt != "md":
        raise JerichoError(f"probe/prune summaries are reported as markdown only (--format md): {analyses[0]}")
    parts = [markdown(load_analysis(p), run_name(p)) for p in analyses]
    paths = [p for p in paths if p not in analyses]
    if not paths:
        return "\n".join(parts)
    summaries = {run_name(p): load_summary(p) for p in paths}
    title = (lambda t: f"## {t}\n\n") if fmt == "md" else (lambda t: "")
    parts.append(title("Results") + render_table(COLUMNS, summary_rows(summaries), fmt))
    if by:
        rows = breakdown_rows(summaries, by)
        if rows:
            parts.append(title(f"Exact match by {by}") +
                         render_table(["run", "task/split", by, "n", "exact_match", "token_acc"], rows, fmt))
    diag = diagnosis_rows(summaries)
    if diag:
        parts.append(title("Errors: reasoning vs rendering (auxiliary CTC symbols)") +
                     render_table(["run", "task/split", "errors", "reasoning", "rendering"], diag, fmt))
    if plots:
        from .plots import plot_accuracy_vs_length, plot_accuracy_vs_snr, plot_spectrograms

        out = Path(plots)
        out.mkdir(parents=True, exist_ok=True)
        plot_accuracy_vs_length(summaries, out / "accuracy_vs_length.png")
        plot_accuracy_vs_snr(summaries, out / "accuracy_vs_snr.png")
        if spectrogram:
            plot_spectrograms(spectrogram, out / "spectrogram.png")
    return "\n".join(parts)

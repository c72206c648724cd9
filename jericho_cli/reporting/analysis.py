"""Tables and plots of `jericho probe` and `jericho prune` summaries (summary.json with "analysis")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import JerichoError
from ..io.files import read_json
from .plots import _save, plt

KINDS = ("state-norms", "linear-probes", "structure", "predictability", "prune")


def is_analysis(path: str | Path) -> bool:
    """Whether a summary.json (or its folder) was written by probe or prune rather than score."""
    p = Path(path)
    p = p / "summary.json" if p.is_dir() else p
    try:
        return "analysis" in read_json(p, "summary")
    except JerichoError:
        return False


def load_analysis(path: str | Path) -> dict:
    """A probe/prune summary.json, its structure checked."""
    p = Path(path)
    p = p / "summary.json" if p.is_dir() else p
    s = read_json(p, "summary")
    if s.get("analysis") not in KINDS or not isinstance(s.get("table"), list) or \
            not all(isinstance(r, dict) for r in s["table"]):
        raise JerichoError(f"not a jericho probe/prune summary.json (analysis one of {', '.join(KINDS)}, "
                           "table a list of rows)", str(p))
    return s


def _f(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def _growth(g) -> str:
    return "-" if g is None else f"{100 * g:+.0f}%"


def markdown(summary: dict, name: str = "") -> str:
    """One markdown table for one analysis summary."""
    a, t = summary["analysis"], summary["table"]
    head = f"**{name or summary.get('checkpoint', '')}** ({summary.get('task', '')}, {a})\n\n"
    if a == "state-norms":
        lines = ["| SSD layer | length (symbols) | n | mean final norm | sd | mean norm over steps | growth |",
                 "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['layer']} | {r['length']} | {r['n']} | {r['final_norm']:.2f} | {r['final_norm_sd']:.2f} | "
                  f"{r['mean_norm']:.2f} | {_growth(r['growth'])} |" for r in t]
    elif a == "linear-probes":
        lines = ["| representation | variable | metric | probe | shuffled labels | chance | n train / eval |",
                 "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['rep']} | {r['variable']} | {r['metric']} | {_f(r['value'])} | {_f(r['shuffled'])} | "
                  f"{_f(r['chance'])} | {r['n_train']} / {r['n_eval']} |" for r in t]
    elif a == "structure":
        lines = ["| representation | condition | variance ratio [95% CI] | permuted | top-25% confident | "
                 "entropy reduction (nats) | clusters (effective) | excluded |", "|---|---|---|---|---|---|---|---|"]
        for r in t:
            conf = {c["keep"]: c["ratio"] for c in r["confidence_curve"]}
            lines.append(f"| {r['rep']} | {r['condition']} | {_f(r['ratio'])} [{_f(r['ratio_ci'][0])}, "
                         f"{_f(r['ratio_ci'][1])}] | {_f(r['permuted_ratio'])} | {_f(conf.get(0.25))} | "
                         f"{_f(r['entropy_reduction_nats'], 2)} | {r['clusters']} ({r['effective_clusters']}) | "
                         f"{_pct(r['excluded_eval_share'])}% |")
    elif a == "predictability":
        lines = ["| representation | horizon k | dims | NLL conditional | NLL baseline | Delta NLL [95% CI] | "
                 "median | trimmed mean |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['rep']} | {r['horizon']} | {r['dims']} | {_f(r['nll_conditional'], 2)} | "
                  f"{_f(r['nll_baseline'], 2)} | {_f(r['delta_nll'], 2)} [{_f(r['ci'][0], 2)}, {_f(r['ci'][1], 2)}] | "
                  f"{_f(r['median'], 2)} | {_f(r['trimmed_mean'], 2)} |" for r in t]
    elif a == "prune":
        lines = ["| mode | keep k | kept channels | SSD layers |", "|---|---|---|---|"]
        lines += [f"| {r['mode']} | {r['keep']:.2f} | {r['kept']}/{r['total']} | {r['layers']} |" for r in t]
    else:
        raise ValueError(f"unknown analysis {a!r}")
    return head + "\n".join(lines) + "\n"


def plot_analysis(summary: dict, path: Path) -> None:
    a, t = summary["analysis"], summary["table"]
    fig, ax = plt.subplots(figsize=(7, 4))
    if a == "state-norms":
        for layer in sorted({r["layer"] for r in t}):
            rs = [r for r in t if r["layer"] == layer]
            ax.errorbar([r["length"] for r in rs], [r["final_norm"] for r in rs],
                        yerr=[r["final_norm_sd"] for r in rs], marker="o", capsize=3, label=f"SSD layer {layer}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("input length (symbols)")
        ax.set_ylabel("||h|| at the end of the input")
    elif a == "linear-probes":
        labels = [f"{r['rep']}:{r['variable']}" for r in t]
        x = np.arange(len(t))
        ax.bar(x - 0.2, [r["value"] for r in t], 0.4, label="probe")
        ax.bar(x + 0.2, [r["shuffled"] for r in t], 0.4, label="shuffled labels")
        ax.scatter(x, [r["chance"] for r in t], color="k", marker="_", s=200, label="chance", zorder=3)
        ax.set_xticks(x, labels, rotation=90, fontsize=6)
        ax.set_ylabel("held-out accuracy / R^2")
        ax.set_ylim(min(0.0, min((r["shuffled"] for r in t), default=0)), 1.05)
    elif a == "structure":
        for r in t:
            c = r["confidence_curve"]
            ax.plot([100 * p["keep"] for p in c], [p["ratio"] for p in c], marker="o",
                    label=f"{r['rep']} {r['condition']}")
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set_xlabel("kept: most confident assignments (%)")
        ax.set_ylabel("within / total variance of the step change")
        ax.invert_xaxis()
    elif a == "predictability":
        for rep in dict.fromkeys(r["rep"] for r in t):
            rs = [r for r in t if r["rep"] == rep]
            ax.errorbar([r["horizon"] for r in rs], [r["delta_nll"] for r in rs],
                        yerr=np.abs(np.array([[r["delta_nll"] - r["ci"][0], r["ci"][1] - r["delta_nll"]]
                                              for r in rs]).T), marker="o", capsize=3, label=rep)
        ax.axhline(0.0, color="k", lw=0.8, ls="--")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("horizon k (context ends k steps before the target)")
        ax.set_ylabel("Delta NLL (nats per step; < 0 = predictable)")
    elif a == "prune":
        for r in t:
            ax.bar(range(len(r["per_layer"])), r["per_layer"], label=f"{r['mode']} k={r['keep']:.2f}")
        ax.set_xlabel("SSD layer")
        ax.set_ylabel("kept share of state channels")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    _save(fig, path)

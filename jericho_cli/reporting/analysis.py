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
    elif a == "linear-probes":  # one row per hidden variable, one column per representation probed
        reps = list(dict.fromkeys(r["rep"] for r in t))
        head = head.replace(")\n\n", "; each cell: the probe, on shuffled labels in brackets)\n\n")
        lines = ["| variable (metric, chance) | n train / eval | " + " | ".join(reps) + " |",
                 "|---|---|" + "---|" * len(reps)]
        for var in dict.fromkeys(r["variable"] for r in t):
            rows = {r["rep"]: r for r in t if r["variable"] == var}
            first = next(iter(rows.values()))
            cells = [f"{_f(rows[rep]['value'])} ({_f(rows[rep]['shuffled'])})" if rep in rows else "-" for rep in reps]
            lines.append(f"| {var} ({first['metric']}, {_f(first['chance'])}) | {first['n_train']} / {first['n_eval']} | "
                         + " | ".join(cells) + " |")
    elif a == "structure":
        lines = ["| representation | condition | variance ratio [95% CI] | permuted | top-25% confident | "
                 "entropy reduction (nats) | clusters (effective) | excluded | ratio by input length |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for r in t:
            conf = {c["keep"]: c["ratio"] for c in r["confidence_curve"]}
            by_len = ", ".join(f"{k}: {_f(v['ratio'], 2)}" for k, v in sorted(r.get("by_length", {}).items(),
                                                                              key=lambda kv: int(kv[0])))
            lines.append(f"| {r['rep']} | {r['condition']} | {_f(r['ratio'])} [{_f(r['ratio_ci'][0])}, "
                         f"{_f(r['ratio_ci'][1])}] | {_f(r['permuted_ratio'])} | {_f(conf.get(0.25))} | "
                         f"{_f(r['entropy_reduction_nats'], 2)} | {r['clusters']} ({r['effective_clusters']}) | "
                         f"{_pct(r['excluded_eval_share'])}% | {by_len or '-'} |")
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


# ------------------------------------------------------------------------------ the results book
# The appendix's tables (../shared/seeds/001, B.1-B.4: its own model and measure), shown beside ours
APPENDIX = {
    "state-norms": "Appendix B.1 (mean state norm): 4 symbols 12.3, 8: 18.7 (+52%), 13: 24.1 (+29%), "
                   "16: 28.9 (+20%), 32: 45.2 (+56%).",
    "sweep": "Appendix B.2 (CTC mean max-prob, 32 symbols, 10 seeds): k 1.0 97.4%, 0.7 97.2% (-0.2 pp), "
             "0.5 94.8% (-2.6), 0.3 82.9% (-14.5). B.3: random 50% 49.2% vs selective 50% 94.8%.",
    "long": "Appendix B.2 (k = 0.7 vs 1.0, CTC mean max-prob): 32 symbols 97.8 vs 97.4, 64: 91.4 vs 89.2, "
            "96: 83.6 vs 82.1, 128: 76.0 vs 74.3.",
    "learned": "Appendix B.4: learned k 0.50 -> 0.68 -> 0.70 -> 0.7048 over 30 epochs (val EM 43%).",
}
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 12: 2.18,
       15: 2.13, 20: 2.09, 30: 2.04}


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% t-interval (0 for a single value)."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return float(v.mean()), 0.0
    df = len(v) - 1
    t = T95.get(df) or T95[max(k for k in T95 if k <= df)] if df <= 30 else 1.96
    return float(v.mean()), float(t * v.std(ddof=1) / np.sqrt(len(v)))


def _ci_pct(values) -> str:
    if not values:
        return "-"
    m, h = mean_ci(values)
    return f"{100 * m:.1f} ± {100 * h:.1f}" if len(values) > 1 else f"{100 * m:.1f}"


def _exp_of(path: Path, analysis: str) -> str:
    """The analysis folder a summary belongs to: <exp>/probe_x or <exp>/prune/<name>."""
    return (path.parent.parent.parent if analysis == "prune" else path.parent.parent).name


def _scores(prune_dir: Path) -> dict[str, dict]:
    return {p.parent.name[len("score_"):]: read_json(p, "summary")["overall"]
            for p in sorted(prune_dir.glob("score_*/summary.json"))}


def analysis_sections(paths: list[str], title) -> list[str]:
    items = []
    for p in paths:
        p = Path(p)
        p = p / "summary.json" if p.is_dir() else p
        s = load_analysis(p)
        items.append((_exp_of(p, s["analysis"]), p, s))
    parts = []
    heads = {"state-norms": "State norms vs input length (probe state-norms)",
             "linear-probes": "Linear probes of the state: held-out accuracy / R^2 vs shuffled labels",
             "structure": "Latent structure (Phase 0): variance of the step change within context clusters",
             "predictability": "Predictability (Phase 1): Delta NLL of an MDN given a stale context window"}
    for a, head in heads.items():
        chosen = [(e, s) for e, _, s in items if s["analysis"] == a]
        if chosen:
            note = f"{APPENDIX[a]}\n\n" if a in APPENDIX else ""
            parts.append(title(head) + note + "\n".join(markdown(s, e) for e, s in chosen))
    prunes = [(e, p, s) for e, p, s in items if s["analysis"] == "prune"]
    for exp in sorted({e for e, _, _ in prunes}):
        parts += pruning_tables(exp, [(p, s) for e, p, s in prunes if e == exp], title)
    return parts


def pruning_tables(exp: str, runs: list[tuple[Path, dict]], title) -> list[str]:
    """k-sweep (mean ± 95% CI over seeds, paired change vs k = 1.0), long inputs, learned k."""
    rows: dict = {}
    for p, s in runs:
        prm = s["params"]
        key = (prm["mode"], prm["keep"] if prm["mode"] != "learned" else None)
        for test, overall in _scores(p.parent).items():
            rows.setdefault((key, test), {})[prm["seed"]] = (overall["exact_match"], overall.get("aux_confidence"),
                                                             s["table"][0]["keep"], s)
    out = []
    base = {test: r for (key, test), r in rows.items() if key == ("selective", 1.0)}
    lines = ["| pruning | k | seeds | exact match % (95% CI) | change vs k = 1.0 (pp, paired) | "
             "CTC mean max-prob % | change (pp) |", "|---|---|---|---|---|---|---|"]
    sweep = [((k, t), r) for (k, t), r in rows.items() if t == "test_iid" and k[0] != "learned"]
    for (key, test), r in sorted(sweep, key=lambda kr: (kr[0][0][0] != "selective", -kr[0][0][1])):
        ref = base.get(test, {})
        paired = [s for s in r if s in ref]
        d_em = [r[s][0] - ref[s][0] for s in paired]
        d_cf = [r[s][1] - ref[s][1] for s in paired if r[s][1] is not None and ref[s][1] is not None]
        lines.append(f"| {key[0]} | {key[1]:.1f} | {len(r)} | {_ci_pct([v[0] for v in r.values()])} | "
                     f"{_ci_pct(d_em) if key != ('selective', 1.0) else '-'} | "
                     f"{_ci_pct([v[1] for v in r.values() if v[1] is not None])} | "
                     f"{_ci_pct(d_cf) if key != ('selective', 1.0) else '-'} |")
    if len(lines) > 2:
        out.append(title(f"Pruning {exp}: keep ratio k sweep on test_iid (decoded audio, scored)") +
                   APPENDIX["sweep"] + "\n\n" + "\n".join(lines) + "\n")
    long_tests = sorted({t for (_, t) in rows if t.startswith("long_")}, key=lambda t: int(t.split("_")[1]))
    if long_tests:
        lines = ["| input length (symbols) | exact % k=1.0 | exact % k=0.7 | CTC max-prob % k=1.0 | k=0.7 | change (pp) |",
                 "|---|---|---|---|---|---|"]
        for t in long_tests:
            a, b = rows.get((("selective", 1.0), t), {}), rows.get((("selective", 0.7), t), {})
            ca, cb = [v[1] for v in a.values() if v[1] is not None], [v[1] for v in b.values() if v[1] is not None]
            change = f"{100 * (np.mean(cb) - np.mean(ca)):+.1f}" if ca and cb else "-"
            lines.append(f"| {t.split('_')[1]} | {_ci_pct([v[0] for v in a.values()])} | "
                         f"{_ci_pct([v[0] for v in b.values()])} | {_ci_pct(ca)} | {_ci_pct(cb)} | {change} |")
        out.append(title(f"Pruning {exp}: long inputs, k = 0.7 vs 1.0 (selective)") + APPENDIX["long"] + "\n\n" +
                   "\n".join(lines) + "\n")
    learned = [(test, r) for (key, test), r in rows.items() if key[0] == "learned"]
    if learned:
        lines = ["| test set | learned k (gates > 0.5) | soft k: start -> end | exact match % | CTC max-prob % |",
                 "|---|---|---|---|---|"]
        for test, r in learned:
            for seed, (em, cf, k, s) in sorted(r.items()):
                traj = s.get("trajectory", [])
                soft = f"{traj[0]['soft_k']:.3f} -> {traj[-1]['soft_k']:.3f}" if traj else "-"
                lines.append(f"| {test} | {k:.3f} | {soft} | {100 * em:.1f} | {_pct(cf)} |")
        out.append(title(f"Pruning {exp}: learned keep ratio") + APPENDIX["learned"] + "\n\n" + "\n".join(lines) + "\n")
    return out

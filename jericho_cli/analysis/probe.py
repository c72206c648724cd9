"""`jericho probe`: what a trained model's state holds (issue #10).

Analyses (each writes OUT/scores.jsonl rows, OUT/summary.json for `jericho report`, and a PNG):
- state-norms     ||h_t|| of every SSD layer vs input length, beyond the training lengths
                  (the appendix's B.1 table: mean norm and growth between lengths);
- linear-probes   ridge / logistic probes from each step's state (and block outputs, input
                  features) to the task's hidden variables, next to the same probe on shuffled labels;
- structure       the latent-dynamics brief's Phase 0: do coarse clusters of the recent context
                  predict the next step's change? variance ratio, permuted control, confidence curve;
- predictability  its Phase 1: a mixture density network for the change given a (stale) context
                  window at horizons k, against an unconditional Gaussian (Delta NLL, nats per step).

Hidden variables are timed by the input audio itself: the scorer's ear finds each input tone, and a
symbol counts as heard from the model step in which its tone ends (utterances whose transcription
does not match their `input` are skipped and counted).
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from ..config import PROBE_ANALYSES
from ..data.render import Variation, render
from ..errors import JerichoError, UsageError
from ..model.loading import load_model
from ..io.audio import read_wav
from ..io.files import write_json_atomic
from ..io.folders import stamped_folder
from ..io.manifest import read_manifest, resolve, write_manifest
from ..logs import log
from ..scoring.ear import Scorer
from . import stats
from .states import TASK_VARIABLES, heard_counts, record, variables

DEFAULT_LENGTHS = (4, 8, 13, 16, 32, 64, 128)


# ------------------------------------------------------------------------------ inputs
def load_items(manifest: str, cb, limit: int | None) -> list[dict]:
    """Records with `audio` and `input` (the symbols heard), their waveforms read once."""
    recs = read_manifest(manifest, required=("id", "audio", "input", "task"))
    if limit:
        recs = recs[:limit]
    for r in recs:
        if r["task"] not in TASK_VARIABLES:
            raise JerichoError(f"task {r['task']!r} has no probe variables ({', '.join(TASK_VARIABLES)})",
                               f"{manifest}:{r['_line']}")
        r["wave"] = read_wav(resolve(r), cb.sample_rate)
    return recs


def run_batches(model, waves: list[np.ndarray], batch_size: int, keep_states: bool, quiet: bool, desc: str):
    """record() over batches of similar length; per utterance {"input", "block<i>", "ssd<j>", norms}."""
    order = sorted(range(len(waves)), key=lambda i: len(waves[i]))
    out: list[dict | None] = [None] * len(waves)
    for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch", disable=quiet):
        chunk = order[start:start + batch_size]
        rec = record(model, [waves[i] for i in chunk], keep_states)
        for j, i in enumerate(chunk):
            reps = {"input": rec.features[j]}
            reps.update({f"block{b}": blk[j] for b, blk in enumerate(rec.blocks)})
            if keep_states:
                reps.update({f"ssd{s}": st[j] for s, st in enumerate(rec.states)})
            out[i] = {"reps": reps, "norms": [n[j] for n in rec.state_norms], "steps": rec.in_steps[j]}
    return out


def step_seconds(model) -> float:
    return model.cfg.hop * model.cfg.downsample / model.cfg.sample_rate


# ------------------------------------------------------------------------------ state norms
def state_norms(model, cb, ck, task: str, lengths, n: int, seed: int, batch_size: int, quiet: bool):
    """Random inputs from the task's own symbols at each length, rendered with the default jitter."""
    alphabets = {"mirror": ck.config["data"]["mirror"]["train_symbols"], "bracket": "()",
                 "mod": "0123456789%", "parity_check": "01", "even_pairs": "01"}  # its training inputs' symbols
    if task not in alphabets:
        raise JerichoError(f"state-norms: the checkpoint's task {task!r} has no input alphabet here "
                           f"({', '.join(alphabets)})")
    alphabet = alphabets[task]
    rows = []
    for L in lengths:
        waves = []
        for i in range(n):
            rng = np.random.default_rng([seed, L, i])
            waves.append(render(list(rng.choice(list(alphabet), L)), cb, rng=rng, variation=Variation()))
        for i, r in enumerate(run_batches(model, waves, batch_size, False, quiet, f"state-norms {L}")):
            for layer, norms in enumerate(r["norms"]):
                total = np.sqrt((norms ** 2).sum(1))  # over heads: ||h_t|| of the whole layer
                rows.append({"length": L, "utt": i, "layer": layer, "steps": r["steps"],
                             "final_norm": float(total[-1]), "mean_norm": float(total.mean()),
                             "final_norm_per_head": [round(float(v), 5) for v in norms[-1]]})
    table = []
    for layer in sorted({r["layer"] for r in rows}):
        prev = None
        for L in lengths:
            v = np.array([r["final_norm"] for r in rows if r["layer"] == layer and r["length"] == L])
            m = np.array([r["mean_norm"] for r in rows if r["layer"] == layer and r["length"] == L])
            table.append({"layer": layer, "length": L, "n": len(v), "final_norm": float(v.mean()),
                          "final_norm_sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                          "mean_norm": float(m.mean()),
                          "growth": None if prev is None else float(v.mean() / prev - 1)})
            prev = v.mean()
    return rows, table


# ------------------------------------------------------------------------------ probes
def timed_utterances(model, cb, items, batch_size, quiet):
    """Run the model on manifest items, keeping those whose input the ear hears as written."""
    ear, step_s = Scorer(cb), step_seconds(model)
    kept, skipped = [], 0
    for r in items:
        segs = ear.segments(r["wave"])
        if [s.symbol for s in segs] != r["input"]:
            skipped += 1
            continue
        r["ends"] = [s.end for s in segs]
        kept.append(r)
    if skipped:
        log.warning(f"probe: {skipped} of {len(items)} utterances skipped (the ear does not hear their "
                    "`input` in their audio, so their steps cannot be timed)")
    if len(kept) < 4:
        raise JerichoError(f"only {len(kept)} utterances could be timed; a probe needs at least 4")
    runs = run_batches(model, [r["wave"] for r in kept], batch_size, True, quiet, "record")
    for r, run in zip(kept, runs):
        r.update(run)
        r["vars"] = variables(r["task"], r["input"], heard_counts(r["ends"], run["steps"], step_s))
    return kept, skipped


def _samples(utts, rep: str, var: str, stride: int):
    xs, ys, gs = [], [], []
    for u, r in enumerate(utts):
        if var not in r["vars"]:
            continue
        idx = np.arange(0, r["steps"], stride)
        y = r["vars"][var][idx]
        ok = np.array([not (isinstance(v, float) and np.isnan(v)) for v in y], bool)
        xs.append(r["reps"][rep][idx][ok])
        ys.append(y[ok])
        gs.append(np.full(ok.sum(), u))
    if not xs:
        return None
    return np.concatenate(xs).astype(np.float64), np.concatenate(ys), np.concatenate(gs)


def probe_one(x_train, y_train, x_eval, y_eval, kind: str, seed: int) -> dict:
    """One probe and its shuffled-label control: accuracy (classes) or R^2 (position)."""
    xtr, xev = stats.standardize(x_train, x_eval)
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(y_train)
    if kind == "regression":
        yt, ye, ys = (np.asarray(a, float) for a in (y_train, y_eval, shuffled))
        return {"metric": "r2", "value": stats.r2(ye, stats.ridge(xtr, yt, xev)),
                "shuffled": stats.r2(ye, stats.ridge(xtr, ys, xev)), "chance": 0.0}
    classes = sorted(set(y_train.tolist()), key=str)
    index = {c: i for i, c in enumerate(classes)}
    yt = np.array([index[c] for c in y_train])
    ys = np.array([index[c] for c in shuffled])
    ye = np.array([index.get(c, -1) for c in y_eval])  # a class unseen in training is always wrong
    majority = np.bincount(yt).argmax()
    acc = lambda pred: float((pred == ye).mean())  # noqa: E731
    return {"metric": "accuracy", "value": acc(stats.logistic(xtr, yt, xev, len(classes), seed=seed)),
            "shuffled": acc(stats.logistic(xtr, ys, xev, len(classes), seed=seed)),
            "chance": float((ye == majority).mean()), "classes": len(classes)}


def linear_probes(utts, reps, stride: int, seed: int, quiet: bool):
    train = [r for i, r in enumerate(utts) if i % 2 == 0]  # alternate utterances: held out by utterance
    held = [r for i, r in enumerate(utts) if i % 2 == 1]
    names = list(dict.fromkeys(v for r in utts for v in r["vars"]))  # first-seen order
    table = []
    for rep in tqdm(reps, desc="probes", disable=quiet):
        for var in names:
            a, b = _samples(train, rep, var, stride), _samples(held, rep, var, stride)
            if a is None or b is None or len(set(a[1].tolist())) < 2:
                continue
            kind = "regression" if var == "position" else "class"
            row = {"rep": rep, "variable": var, "n_train": len(a[1]), "n_eval": len(b[1]),
                   **probe_one(a[0], a[1], b[0], b[1], kind, seed)}
            table.append(row)
    if not table:
        raise JerichoError(f"no variable could be probed: at --stride {stride} too few steps are sampled, or each "
                           f"variable takes one value only (use a smaller --stride or more utterances)")
    return table


# ------------------------------------------------------------------------------ structure
def reduced_sequences(utts, rep: str, train_mask, dims: int) -> list[np.ndarray]:
    """Each utterance's sequence of `rep`, projected on `dims` principal axes fitted on training
    utterances when wider (model states are thousands of channels)."""
    seqs = [r["reps"][rep].astype(np.float64) for r in utts]
    if seqs[0].shape[1] <= dims:
        return seqs
    pca = stats.PCA(dims).fit(np.concatenate([s for s, t in zip(seqs, train_mask) if t]))
    return [pca.transform(s) for s in seqs]


def _no_context(seqs, window: int, lag: int) -> JerichoError:
    return JerichoError(f"no step has --window {window} + --lag/horizon {lag} steps before it (the longest "
                        f"utterance has {max(len(x) for x in seqs)} steps): use a smaller window or lag")


def context_samples(seqs, window: int, lag: int):
    """(context (n, W, D), delta (n, D), utterance index (n,), step (n,)): the window ends `lag`
    steps before step t, the target is x_t - x_{t-1}."""
    ctx, delta, utt, step = [], [], [], []
    for u, x in enumerate(seqs):
        for t in range(window + lag - 1, len(x)):
            if t < 1:
                continue
            end = t - lag
            ctx.append(x[end - window + 1:end + 1])
            delta.append(x[t] - x[t - 1])
            utt.append(u)
            step.append(t)
    if not ctx:
        return None
    return np.array(ctx), np.array(delta), np.array(utt), np.array(step)


def _ratio(d: np.ndarray, lab: np.ndarray) -> float:
    """Within-cluster SSE over total SSE, both on exactly the samples given."""
    total = float(((d - d.mean(0)) ** 2).sum())
    if total <= 0 or len(d) < 2:
        return float("nan")
    within = 0.0
    for c in np.unique(lab):
        m = lab == c
        within += float(((d[m] - d[m].mean(0)) ** 2).sum())
    return within / total


def variance_ratio_study(keys_train, delta_train, keys_eval, delta_eval, groups_eval, *, k: int,
                         min_count: int, seed: int, extra_groups: dict | None = None) -> dict:
    """Phase 0 on keys (coarse context representations): k-means on training keys, effective
    clusters (>= min_count training members), ratio on the held-out samples in them, the permuted
    control on exactly those samples, the confidence curve, bootstrap CI and per-group ratios."""
    rng = np.random.default_rng(seed)
    mu, sd = delta_train.mean(0), np.maximum(delta_train.std(0), 1e-6)
    d_eval = (delta_eval - mu) / sd
    cent = stats.kmeans(keys_train, k, rng)
    lab_tr, _ = stats.assign(keys_train, cent)
    effective = np.flatnonzero(np.bincount(lab_tr, minlength=len(cent)) >= min_count)
    lab, dist = stats.assign(keys_eval, cent)
    inc = np.isin(lab, effective)
    if inc.sum() < 2:
        raise JerichoError(f"too few samples: {int(inc.sum())} held-out steps fall in a cluster with >= {min_count} "
                           f"training members ({len(keys_train)} training steps); use more utterances, fewer "
                           f"--clusters or a smaller --min-count")
    d, lab, dist, groups = d_eval[inc], lab[inc], dist[inc], groups_eval[inc]
    out = {"clusters": int(len(cent)), "effective_clusters": int(len(effective)),
           "excluded_eval_share": float(1 - inc.mean()), "n_eval": int(inc.sum()),
           "ratio": _ratio(d, lab), "permuted_ratio": _ratio(d, rng.permutation(lab))}
    # CI: resample utterances, squared deviations from the full sample's means (a resample's own means
    # would shrink with every duplicated utterance and bias the ratio down)
    means = {c: d[lab == c].mean(0) for c in np.unique(lab)}
    dev_within = ((d - np.array([means[c] for c in lab])) ** 2).sum(1)
    dev_total = ((d - d.mean(0)) ** 2).sum(1)
    out["ratio_ci"] = stats.bootstrap_ci(groups, lambda idx: dev_within[idx].sum() / dev_total[idx].sum(),
                                         seed=seed)
    # diagonal-Gaussian entropy reduction: 1/2 sum log var, unconditional vs within clusters
    h_all = 0.5 * np.log(np.maximum(d.var(0), 1e-12)).sum()
    h_cond = sum((lab == c).mean() * 0.5 * np.log(np.maximum(d[lab == c].var(0), 1e-12)).sum()
                 for c in np.unique(lab) if (lab == c).sum() > 1)
    out["entropy_reduction_nats"] = float(h_all - h_cond)
    curve = []
    for q in (1.0, 0.75, 0.5, 0.25, 0.1):
        keep = dist <= np.quantile(dist, q)
        curve.append({"keep": q, "n": int(keep.sum()), "ratio": _ratio(d[keep], lab[keep])})
    out["confidence_curve"] = curve
    for name, g in (extra_groups or {}).items():  # within: the full sample's cluster means (as the CI)
        g = g[inc]
        out[f"by_{name}"] = {str(v): {"n": int((g == v).sum()),
                                      "ratio": float(dev_within[g == v].sum() /
                                                     ((d[g == v] - d[g == v].mean(0)) ** 2).sum())}
                             for v in np.unique(g) if (g == v).sum() >= 2 * min_count}
    return out


def structure(utts, reps, window: int, lag: int, k: int, min_count: int, dims: int, seed: int, quiet: bool):
    train_mask = np.arange(len(utts)) % 2 == 0
    table = []
    for rep in tqdm(reps, desc="structure", disable=quiet):
        seqs = reduced_sequences(utts, rep, train_mask, dims)
        s = context_samples(seqs, window, lag)
        if s is None:
            raise _no_context(seqs, window, lag)
        ctx, delta, utt, _ = s
        tr, ev = train_mask[utt], ~train_mask[utt]
        groups = {"task": np.array([utts[u]["task"] for u in utt]),
                  "length": np.array([len(utts[u]["input"]) for u in utt])}
        flat_pca = stats.PCA(8).fit(ctx[tr].reshape(tr.sum(), -1))
        for cond, keys in (("mean_kmeans", ctx.mean(1)), ("pca8_kmeans", flat_pca.transform(ctx.reshape(len(ctx), -1)))):
            res = variance_ratio_study(keys[tr], delta[tr], keys[ev], delta[ev], utt[ev], k=k,
                                       min_count=min_count, seed=seed,
                                       extra_groups={g: v[ev] for g, v in groups.items()})
            table.append({"rep": rep, "condition": cond, **res})
    return table


# ------------------------------------------------------------------------------ predictability
def delta_nll(ctx_train, y_train, ctx_eval, y_eval, groups_eval, seed: int, epochs: int = 40) -> dict:
    """Delta NLL (nats per step) of an MDN p(y | context) against a diagonal Gaussian p(y) fitted on
    the training targets; negative = the context predicts. Robust summaries over held-out steps."""
    mu, sd = y_train.mean(0), np.maximum(y_train.std(0), 1e-6)
    yt, ye = (y_train - mu) / sd, (y_eval - mu) / sd
    xt, xe = stats.standardize(ctx_train, ctx_eval)
    base = stats.diag_gauss_nll(ye, yt.mean(0), np.maximum(yt.var(0), 1e-6))
    cond = stats.fit_mdn(xt, yt, xe, ye, epochs=epochs, seed=seed)
    diff = cond - base
    return {"n_eval": len(diff), "nll_conditional": float(cond.mean()), "nll_baseline": float(base.mean()),
            "delta_nll": float(diff.mean()), "median": float(np.median(diff)),
            "trimmed_mean": stats.trimmed_mean(diff), "per_dim": float(diff.mean() / y_train.shape[1]),
            "ci": stats.bootstrap_ci(groups_eval, lambda idx: float(diff[idx].mean()), seed=seed)}


def predictability(utts, reps, window: int, horizons, dims: int, seed: int, epochs: int, quiet: bool):
    train_mask = np.arange(len(utts)) % 2 == 0
    table = []
    for rep in reps:
        seqs = reduced_sequences(utts, rep, train_mask, dims)
        for h in tqdm(horizons, desc=f"predictability {rep}", disable=quiet):
            s = context_samples(seqs, window, h)
            if s is None:
                raise _no_context(seqs, window, h)
            ctx, delta, utt, _ = s
            tr, ev = train_mask[utt], ~train_mask[utt]
            flat = ctx.reshape(len(ctx), -1)
            table.append({"rep": rep, "horizon": h, "dims": int(delta.shape[1]),
                          **delta_nll(flat[tr], delta[tr], flat[ev], delta[ev], utt[ev], seed, epochs)})
    return table


# ------------------------------------------------------------------------------ driver
def default_reps(model, requested: list[str] | None) -> list[str]:
    n_ssd, n_blocks = len(model.ssd_mixers()), len(model.blocks)
    valid = ["input"] + [f"block{i}" for i in range(n_blocks)] + [f"ssd{i}" for i in range(n_ssd)]
    if not requested:
        return valid
    bad = [r for r in requested if r not in valid]
    if bad:
        raise UsageError(f"unknown representation(s) {', '.join(bad)}; this model has {', '.join(valid)}")
    return requested


def run(analysis: str, ckpt: str, manifest: str | None, out: str, *, lengths=DEFAULT_LENGTHS, n: int = 8,
        reps: list[str] | None = None, limit: int | None = None, stride: int = 2, window: int = 8,
        lag: int = 1, clusters: int = 32, min_count: int = 20, dims: int = 16, horizons=(1, 2, 4, 8),
        epochs: int = 40, seed: int = 0, batch_size: int = 8, device: str = "cpu", overwrite: bool = False,
        quiet: bool = False) -> dict:
    if analysis not in PROBE_ANALYSES:
        raise UsageError(f"unknown analysis {analysis!r} ({', '.join(PROBE_ANALYSES)})")
    if analysis != "state-norms" and not manifest:
        raise UsageError(f"{analysis} needs a manifest of input audio (with `input` symbols)")
    torch.manual_seed(seed)
    model, cb, ck = load_model(ckpt, device)
    names = default_reps(model, reps)
    tasks = ck.config["train"]["task"]
    task = tasks if isinstance(tasks, str) else tasks[0]
    params = {"analysis": analysis, "ckpt": str(ckpt), "manifest": manifest, "lengths": list(lengths), "n": n,
              "reps": reps, "limit": limit, "stride": stride, "window": window, "lag": lag, "clusters": clusters,
              "min_count": min_count, "dims": dims, "horizons": list(horizons), "epochs": epochs, "seed": seed}
    with stamped_folder(out, "probe.json", params, overwrite=overwrite, command="probe",
                        owned=("summary.json", "scores.jsonl")) as out_dir:
        rows, skipped = [], 0
        if analysis == "state-norms":
            rows, table = state_norms(model, cb, ck, task, lengths, n, seed, batch_size, quiet)
        else:
            items = load_items(manifest, cb, limit)
            utts, skipped = timed_utterances(model, cb, items, batch_size, quiet)
            if analysis == "linear-probes":
                table = linear_probes(utts, names, stride, seed, quiet)
            elif analysis == "structure":
                table = structure(utts, names, window, lag, clusters, min_count, dims, seed, quiet)
            else:
                table = predictability(utts, names, window, horizons, dims, seed, epochs, quiet)
            rows = table
        summary = {"analysis": analysis, "checkpoint": str(ckpt), "task": task, "manifest": manifest,
                   "skipped_utterances": skipped, "params": params, "table": table}
        write_manifest(out_dir / "scores.jsonl", rows)
        write_json_atomic(out_dir / "summary.json", summary)
        from ..reporting.analysis import plot_analysis
        plot_analysis(summary, out_dir / f"{analysis}.png")
    return summary

"""`jericho prune`: keep a fraction k of each SSD layer's state channels (issue #10).

A state channel is one (head, n) slice of a layer's state h_t (headdim x d_state per head). A pruned
channel is never read: its entry of C_t is zeroed (Mamba2Layer.state_mask), so the model runs unchanged
otherwise and `decode` needs nothing new. Modes (each keeps round(k * d_state) channels per head):
- selective: the channels with the most energy E[sum_p h_t[p, n]^2], measured on a calibration manifest;
- random:    the same count, drawn with a seed (the appendix's "dropout" comparison, B.3);
- learned:   a sigmoid gate per channel trained on the task with the model frozen and a sparsity term;
             the keep ratio it settles on is reported with its trajectory (B.4); gates > 0.5 are kept.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..config import PRUNE_MODES
from ..errors import JerichoError, UsageError
from ..model.loading import load_model, pad_batch
from ..io.audio import read_wav
from ..io.files import write_json_atomic
from ..io.folders import stamped_folder
from ..io.manifest import read_manifest, resolve
from ..logs import log
from .states import state_sequence


@torch.no_grad()
def channel_energy(model, waves: list[np.ndarray], batch_size: int = 8) -> list[torch.Tensor]:
    """Per SSD layer (heads, d_state): mean over utterances and steps (input and answer slot) of
    sum_p h_t[p, n]^2."""
    mixers = model.ssd_mixers()
    sums = [torch.zeros(m.nheads, m.d_state, dtype=torch.float64) for m in mixers]
    count = 0
    device = next(model.parameters()).device
    for start in range(0, len(waves), batch_size):
        wave, n = pad_batch(waves[start:start + batch_size], device)
        t_in = model.input_steps(n)
        valid = t_in + model.answer_steps(t_in)

        def hook(layer, x, dt, A, B, C):
            S = state_sequence(x.float(), dt.float(), A.float(), B.float(), layer.neg_eig)  # (b,l,h,p,n)
            keep = (torch.arange(S.shape[1], device=S.device)[None] < valid[:, None]).to(S.dtype)
            e = (S ** 2).sum(3) * keep[:, :, None, None]
            sums[mixers.index(layer)] += e.sum((0, 1)).double().cpu()

        for m in mixers:
            m.ssm_hooks.append(hook)
        try:
            model(wave, n)
        finally:
            for m in mixers:
                m.ssm_hooks.remove(hook)
        count += int(valid.sum())
    return [s / max(count, 1) for s in sums]


def keep_count(keep: float, d_state: int) -> int:
    return max(1, min(d_state, int(round(keep * d_state))))


def top_mask(score: torch.Tensor, keep: float) -> torch.Tensor:
    """1 for the round(keep * n) highest-scoring channels of each head (ties: lower index)."""
    m = keep_count(keep, score.shape[1])
    idx = torch.argsort(-score, dim=1, stable=True)[:, :m]
    return torch.zeros_like(score, dtype=torch.float32).scatter_(1, idx, 1.0)


def random_mask(shape, keep: float, gen: torch.Generator) -> torch.Tensor:
    return top_mask(torch.rand(shape, generator=gen, dtype=torch.float64), keep)


def learn_gates(model, ck, cb, *, steps: int, sparsity: float, init_keep: float, lr: float, seed: int,
                quiet: bool) -> tuple[list[torch.Tensor], list[dict]]:
    """Sigmoid gates per state channel, trained on the checkpoint's task with the model frozen; the
    loss is the checkpoint's own training loss + sparsity * mean gate. Returns gates and trajectory."""
    from ..training.batches import Batches, make_targets, task_list
    from ..training.loop import compute_loss

    cfg = copy.deepcopy(ck.config)
    cfg["train"]["seed"] = seed
    batches = Batches(cfg, cb)
    tasks = task_list(cfg["train"])
    sym_index = {s: i + 1 for i, s in enumerate(cb.alphabet)}
    device = next(model.parameters()).device
    for p in model.parameters():
        p.requires_grad_(False)
    model.train()
    mixers = model.ssd_mixers()
    logit = math.log(init_keep / (1 - init_keep))
    gates = [torch.full((m.nheads, m.d_state), logit, device=device, requires_grad=True) for m in mixers]
    opt = torch.optim.Adam(gates, lr=lr)
    trajectory = []
    for step in tqdm(range(steps), desc="learn gates", disable=quiet):
        for m, g in zip(mixers, gates):
            m.set_state_mask(torch.sigmoid(g))
        exs = batches.examples(step, tasks[step % len(tasks)], None)
        batch = make_targets(model, exs, device)
        task_loss, _ = compute_loss(model, batch, [[sym_index[s] for s in e.target] for e in exs],
                                    cfg["train"]["loss"])
        soft_k = torch.cat([torch.sigmoid(g).flatten() for g in gates]).mean()
        loss = task_loss + sparsity * soft_k
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, steps // 20) == 0 or step == steps - 1:
            with torch.no_grad():
                hard = torch.cat([(g > 0).float().flatten() for g in gates]).mean()
            trajectory.append({"step": step, "soft_k": float(soft_k.detach()), "hard_k": float(hard),
                               "task_loss": task_loss.item()})
    model.eval()
    for m in mixers:
        m.set_state_mask(None)
    return [g.detach() for g in gates], trajectory


def calibration_waves(manifest: str, cb, limit: int) -> list[np.ndarray]:
    recs = read_manifest(manifest, required=("id", "audio"))[:limit]
    if not recs:
        raise JerichoError("calibration manifest has no utterances", manifest)
    return [read_wav(resolve(r), cb.sample_rate) for r in recs]


def run(ckpt: str, mode: str, keep: float, out: str, *, calib: str | None = None, limit: int = 64,
        seed: int = 0, steps: int = 200, sparsity: float = 0.05, init_keep: float = 0.5, lr: float = 0.05,
        device: str = "cpu", overwrite: bool = False, quiet: bool = False) -> dict:
    if mode not in PRUNE_MODES:
        raise UsageError(f"unknown mode {mode!r} ({', '.join(PRUNE_MODES)})")
    if mode != "learned" and not 0 < keep <= 1:
        raise UsageError(f"--keep must be in (0, 1], got {keep}")
    if mode == "learned" and keep != 1.0:
        raise UsageError("--keep is for selective and random pruning; learned pruning finds its own share "
                         "(set it with --sparsity)")
    for name, v in (("--sparsity", sparsity), ("--lr", lr)):
        if not math.isfinite(v) or v < 0:
            raise UsageError(f"{name} must be a finite number >= 0, got {v}")
    if mode == "selective" and not calib:
        raise UsageError("selective pruning needs --calib MANIFEST (energies are measured on its audio)")
    if not 0 < init_keep < 1:
        raise UsageError(f"--init-keep must be in (0, 1), got {init_keep}")
    model, cb, ck = load_model(ckpt, device)
    mixers = model.ssd_mixers()
    if not mixers:
        raise JerichoError(f"has no SSD layer (layers {model.cfg.layers}): no state channels to prune", str(ckpt))
    if any(m.state_mask is not None for m in mixers):
        raise JerichoError("checkpoint is already pruned; prune the original", str(ckpt))
    params = {"ckpt": str(ckpt), "mode": mode, "keep": keep, "calib": calib, "limit": limit, "seed": seed,
              "steps": steps, "sparsity": sparsity, "init_keep": init_keep, "lr": lr}
    with stamped_folder(out, "prune.json", params, overwrite=overwrite, command="prune",
                        owned=("pruned.pt", "summary.json")) as out_dir:
        extra: dict = {}
        if mode == "selective":
            energy = channel_energy(model, calibration_waves(calib, cb, limit))
            masks = [top_mask(e, keep) for e in energy]
            extra["energy"] = [e.tolist() for e in energy]
        elif mode == "random":
            gen = torch.Generator().manual_seed(seed)
            masks = [random_mask((m.nheads, m.d_state), keep, gen) for m in mixers]
        else:
            torch.manual_seed(seed)
            gates, trajectory = learn_gates(model, ck, cb, steps=steps, sparsity=sparsity, init_keep=init_keep,
                                            lr=lr, seed=seed, quiet=quiet)
            masks = [(g > 0).float().cpu() for g in gates]
            if not all(bool(m.any()) for m in masks):  # a layer with no channel left reads nothing
                masks = [m if m.any() else top_mask(g.cpu(), 1e-9) for m, g in zip(masks, gates)]
            extra.update(trajectory=trajectory, gates=[torch.sigmoid(g).cpu().tolist() for g in gates])
        for m, mask in zip(mixers, masks):
            m.set_state_mask(mask.to(next(model.parameters()).device))
        kept = int(sum(float(m.sum()) for m in masks))
        total = sum(m.numel() for m in masks)
        row = {"mode": mode, "keep": kept / total, "requested_keep": keep if mode != "learned" else None,
               "kept": kept, "total": total, "layers": len(masks),
               "per_layer": [float(m.mean()) for m in masks]}
        pruned = dataclasses.replace(
            ck.for_inference(), model={k: v.cpu() for k, v in model.state_dict().items()},
            prune={"mode": mode, "keep": row["keep"], "source": str(ckpt), "masks": [m.tolist() for m in masks]})
        pruned.save(out_dir / "pruned.pt")
        summary = {"analysis": "prune", "checkpoint": str(ckpt), "task": ck.config["train"]["task"],
                   "params": params, "table": [row], **extra}
        write_json_atomic(out_dir / "summary.json", summary)
        from ..reporting.analysis import plot_analysis
        plot_analysis(summary, out_dir / "prune.png")
        log.info(f"kept {kept}/{total} state channels ({mode}, k={row['keep']:.3f}) -> {Path(out) / 'pruned.pt'}")
    return summary

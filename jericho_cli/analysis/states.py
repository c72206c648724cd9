"""What a model holds while it hears: per-step SSD states, block outputs and input features of a
batch of waveforms, and the task's hidden variables at each step, timed by the input audio itself.

The states are recomputed from the scan's own inputs (captured by `Mamba2Layer.ssm_hooks`) with the
recurrence S_t = a_t S_{t-1} + dt_t x_t B_t^T, the same one `Mamba2Layer.step` runs; a test checks
that the two agree step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..model.loading import pad_batch
from ..model.ssd import _decay_logs


def state_sequence(x, dt, A, B, neg_eig: bool = False) -> torch.Tensor:
    """Every state of the scan: x (b,l,h,p), dt (b,l,h), A (h,), B (b,l,g,n) -> (b,l,h,p,n)."""
    b, l, h, p = x.shape
    Bh = B.repeat_interleave(h // B.shape[2], dim=2).to(x.dtype)
    la, par = _decay_logs(dt, A, neg_eig)
    a = torch.exp(la) * (1 - 2 * par) if neg_eig else torch.exp(la)
    S = x.new_zeros(b, h, p, B.shape[-1])
    out = x.new_empty(b, l, h, p, B.shape[-1])
    for t in range(l):
        S = a[:, t, :, None, None] * S + (dt[:, t, :, None] * x[:, t])[..., None] * Bh[:, t, :, None, :]
        out[:, t] = S
    return out


@dataclass
class Recording:
    """One batch, cut to each utterance's input steps (the answer slot is not heard audio)."""
    in_steps: list[int]
    features: list[np.ndarray]                  # per utterance (T, F): the model's input per step
    blocks: list[list[np.ndarray]]              # per block, per utterance (T, d_model)
    state_norms: list[list[np.ndarray]]         # per SSD layer, per utterance (T, heads): ||S_t|| per head
    states: list[list[np.ndarray]] = field(default_factory=list)  # per SSD layer, per utt (T, h*p*n)


@torch.no_grad()
def record(model, waves: list[np.ndarray], keep_states: bool = True) -> Recording:
    """Run `model` on `waves` with hooks on every SSD layer and block; see Recording."""
    device = next(model.parameters()).device
    wave, n = pad_batch(waves, device)
    mixers = model.ssd_mixers()
    seqs: dict[int, torch.Tensor] = {}
    block_out: list[torch.Tensor] = []

    def ssm_hook(layer, x, dt, A, B, C):
        seqs[id(layer)] = state_sequence(x.float(), dt.float(), A.float(), B.float(), layer.neg_eig)

    handles = [b.register_forward_hook(lambda _m, _i, out: block_out.append(out)) for b in model.blocks]
    for m in mixers:
        m.ssm_hooks.append(ssm_hook)
    try:
        out = model(wave, n)
        feats = model._stack(model._features(wave))
    finally:
        for h in handles:
            h.remove()
        for m in mixers:
            m.ssm_hooks.remove(ssm_hook)
    t_in = [int(t) for t in out["in_steps"]]
    rec = Recording(t_in, [feats[i, :t].float().cpu().numpy() for i, t in enumerate(t_in)],
                    [[blk[i, :t].float().cpu().numpy() for i, t in enumerate(t_in)] for blk in block_out],
                    [])
    for m in mixers:
        S = seqs[id(m)]  # (b, l, h, p, n)
        rec.state_norms.append([S[i, :t].flatten(2).norm(dim=-1).cpu().numpy() for i, t in enumerate(t_in)])
        if keep_states:
            rec.states.append([S[i, :t].flatten(1).cpu().numpy() for i, t in enumerate(t_in)])
    return rec


# ------------------------------------------------------------------------------ hidden variables
def heard_counts(segment_ends_s: list[float], n_steps: int, step_s: float) -> np.ndarray:
    """Symbols heard by the end of each model step (a symbol counts once its tone has ended)."""
    ends = np.asarray(segment_ends_s, float)
    step_end = (np.arange(n_steps) + 1) * step_s
    return np.searchsorted(np.sort(ends), step_end, side="right")


def _running_remainder(prefix: list[str]) -> float:
    """Value of `A % B % ...` as heard so far (the number being heard counts as it stands)."""
    numbers = "".join(prefix).split("%")
    if not numbers[0]:
        return np.nan
    r = int(numbers[0])
    for b in numbers[1:]:
        if b and int(b) > 0:
            r %= int(b)
    return float(r) if r < 100 else np.nan  # 100 classes at most; longer dividends are undefined


def _depth(prefix: list[str]) -> float:
    return float(sum(1 if s == "(" else -1 if s == ")" else 0 for s in prefix))


# name -> (kind, f(prefix of input symbols heard, full input symbols) -> value or nan)
VARIABLES = {
    "count": ("class", lambda pre, full: float(len(pre))),
    "parity": ("class", lambda pre, full: float(len(pre) % 2)),
    "depth": ("class", lambda pre, full: _depth(pre)),
    "remainder": ("class", lambda pre, full: _running_remainder(pre)),
    "first_symbol": ("symbol", lambda pre, full: pre[0] if pre else np.nan),
    "last_symbol": ("symbol", lambda pre, full: pre[-1] if pre else np.nan),
    # the answers of parity_check and even_pairs for the input heard so far (what the state must carry)
    "ones_parity": ("class", lambda pre, full: float(pre.count("1") % 2)),
    "ends_differ": ("class", lambda pre, full: float(pre[0] != pre[-1]) if pre else np.nan),
}
TASK_VARIABLES = {"mirror": ["count", "parity", "first_symbol", "last_symbol", "position"],
                  "bracket": ["count", "parity", "depth", "position"],
                  "mod": ["count", "parity", "remainder", "last_symbol", "position"],
                  "parity_check": ["count", "ones_parity", "last_symbol", "position"],
                  "even_pairs": ["count", "ends_differ", "first_symbol", "last_symbol", "position"]}


def variables(task: str, symbols: list[str], counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-step targets of one utterance: classes as floats (nan = undefined at that step),
    symbols as object arrays, `position` the step index (a regression target)."""
    out = {"position": np.arange(len(counts), dtype=float)}
    for name in TASK_VARIABLES[task]:
        if name == "position":
            continue
        _, f = VARIABLES[name]
        out[name] = np.array([f(symbols[:c], symbols) for c in counts], dtype=object)
    return out

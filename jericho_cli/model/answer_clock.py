"""The canonical answer's symbol clock, the count of symbols heard in the input, and silence past an
answer's last symbol.

Every task's reference answer says its symbols at one fixed clock (the codebook's lead, then tone +
gap per symbol), so an answer frame's place on that clock says which answer symbol it belongs to.
Given how many symbols the answer says (the copy head's count of onsets heard in the input), the
frames past the last one are silence, whichever output path would have said something there; and an
answer may be made to say one spectrum per symbol, the mean over its slot (model.answer_slots)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def answer_clock(n_frames: int, hop_ms: float, clock_ms, device) -> torch.Tensor:
    """(n_frames,) where each answer frame falls on the canonical answer's symbol clock (lead, then
    tone + gap per symbol): floor() is the symbol it belongs to (its gap before it included, so a
    symbol's frames run from half a gap before its tone to half a gap after), the fraction its phase."""
    lead, tone, gap = (float(x) for x in clock_ms)
    return (torch.arange(n_frames, device=device, dtype=torch.float32) * hop_ms - lead + gap / 2) / (tone + gap)


END_SHARPNESS = 10.0  # per symbol of count: how sharply the answer falls silent past its last symbol


def past_symbols(a: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """(b, F) in (0, 1): 1 where answer frame f (on symbol a_f, shape (F,)) is past the n (b, 1) symbols
    the answer says (a soft count), 0 before: the weight of silence there."""
    return torch.sigmoid(END_SHARPNESS * (a[None] + 0.5 - n))


def onset_counts(logits: torch.Tensor, valid: torch.Tensor, refractory: int = 1) -> torch.Tensor:
    """(b, T) onset logits per input step -> (b, T) symbols begun up to each step (flat past the valid
    steps). No onset counts within `refractory` steps after another: one right after an onset is the
    same onset heard on both sides of a step boundary (counted 1.5 times otherwise), or, with a
    refractory time as long as the shortest symbol, a spoken word's next syllable."""
    p = torch.sigmoid(logits.float()) * valid
    q = p
    for j in range(1, min(refractory, p.shape[1] - 1) + 1):
        q = q * (1 - F.pad(p[:, :-j], (j, 0)))
    return torch.cumsum(q, 1)


def silenced(frames: torch.Tensor, past: torch.Tensor, log_floor: float) -> torch.Tensor:
    """(b, F, bins) log-magnitude frames with each frame's weight of silence `past` (b, F) (past_symbols)
    mixed toward the log floor."""
    past = past[..., None].to(frames.dtype)
    return past * log_floor + (1 - past) * frames


def slot_means(frames: torch.Tensor, hop_ms: float, clock_ms) -> torch.Tensor:
    """(b, F, bins) answer log-magnitude frames -> the same with each frame on a symbol's tone (the
    canonical clock's tone part of each slot) replaced by the mean of that slot's tone frames: one
    spectrum per answer symbol, so no symbol changes pitch or splits halfway (model.answer_slots).
    Frames of the lead and the gaps stay as they are."""
    _, tone, gap = (float(x) for x in clock_ms)  # the lead is in answer_clock's phase already
    u = answer_clock(frames.shape[1], hop_ms, clock_ms, frames.device)
    a = torch.floor(u)
    phase = (u - a) * (tone + gap) + 1e-3  # ms since half a gap before the slot's tone (+ float slack)
    on_tone = (a >= 0) & (phase >= gap / 2) & (phase < gap / 2 + tone)
    if not on_tone.any():
        return frames
    member = F.one_hot(a.clamp_min(0).long(), int(a.max()) + 1).to(frames.dtype) * on_tone[:, None].to(frames.dtype)
    means = torch.einsum("fs,bfn->bsn", member, frames) / member.sum(0).clamp_min(1)[None, :, None]
    return torch.where(on_tone[None, :, None], torch.einsum("fs,bsn->bfn", member, means), frames)

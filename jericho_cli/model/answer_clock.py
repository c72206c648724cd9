"""The canonical answer's symbol clock, and silence past an answer's last symbol.

Every task's reference answer says its symbols at one fixed clock (the codebook's lead, then tone +
gap per symbol), so an answer frame's place on that clock says which answer symbol it belongs to.
Given how many symbols the answer says (a soft count: the copy head's onsets heard in the input, or
the CTC head's reading of the answer, model.answer_end: ctc), the frames past the last one are
silence, whichever output path would have said something there."""

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


def ctc_symbol_count(logits: torch.Tensor, n_steps: torch.Tensor) -> torch.Tensor:
    """(b, 1): how many symbols the CTC head reads in the answer, a soft count: the expected number of
    steps that emit a symbol the step before did not (CTC collapses repeats; class 0 is blank). Detached:
    the CTC loss trains the head; the answer's spectral loss does not pull its count."""
    p = torch.softmax(logits.detach().float(), -1)[..., 1:]
    before = F.pad(p[:, :-1], (0, 0, 1, 0))
    valid = torch.arange(p.shape[1], device=p.device)[None] < n_steps[:, None]
    return ((p * (1 - before)).sum(-1) * valid).sum(1, keepdim=True)

"""Training losses: spectral L1 and spectral convergence on answer frames, multi-resolution STFT on the
waveform, CTC."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
              count: torch.Tensor | None = None) -> torch.Tensor:
    """Mean |pred - target| over valid frames; mask (b, frames). `count`: the number of valid frames to
    divide by (default mask.sum(); data-parallel training passes the mean over processes, so that the
    averaged gradients equal one process's on the whole batch)."""
    return _masked_mean((pred - target).abs().mean(-1), mask, count)


def masked_bce(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
               count: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy of logits against 0/1 targets, averaged over mask (as masked_l1)."""
    return _masked_mean(F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none"),
                        mask, count)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor, count: torch.Tensor | None) -> torch.Tensor:
    """sum(values * mask) / count (default mask.sum()), at least 1."""
    return (values * mask).sum() / (mask.sum() if count is None else count).clamp_min(1)


def spectral_convergence(pred_log: torch.Tensor, target_log: torch.Tensor, mask: torch.Tensor,
                         total=None, processes: int = 1) -> torch.Tensor:
    """||T - P|| / ||T|| over the valid frames' linear magnitudes (P = exp(pred_log)). L1 on log
    magnitudes is median-seeking: where the model is unsure which tone comes (or exactly when), each
    bin's median is silence, so the answer tone fades or splits in two. This squared term is
    mean-seeking: the tone's energy stays, spread over the candidates, the likeliest loudest.

    Data-parallel (`total` sums a tensor over the `processes`): the loss is the whole batch's. Its
    gradient through this process's frames is d err / (2 ||T - P||_all ||T||_all); DDP averages the
    processes' gradients, so each contributes its share times the process count."""
    m = mask.unsqueeze(-1).to(torch.float32)
    p, t = pred_log.float().clamp(max=10.0).exp(), target_log.float().exp()
    err, ref = (((t - p) * m) ** 2).sum(), ((t * m) ** 2).sum()
    if total is None:
        return err.sqrt() / ref.sqrt().clamp_min(1e-6)
    err_all, ref_all = total(err).sqrt().clamp_min(1e-6), total(ref).sqrt().clamp_min(1e-6)
    share = processes * err / (2 * err_all * ref_all)
    return share + (err_all / ref_all - share).detach()  # the value logged: the whole batch's


def mr_stft(pred_wave: torch.Tensor, target_wave: torch.Tensor,
            resolutions=((256, 64), (512, 128), (1024, 256))) -> torch.Tensor:
    """Spectral convergence + log-magnitude L1, averaged over STFT resolutions."""
    n = min(pred_wave.shape[-1], target_wave.shape[-1])
    pred_wave, target_wave = pred_wave[..., :n], target_wave[..., :n]
    total = 0.0
    for n_fft, hop in resolutions:
        w = torch.hann_window(n_fft, device=pred_wave.device)
        P = torch.stft(pred_wave, n_fft, hop, window=w, return_complex=True).abs() + 1e-5
        T = torch.stft(target_wave, n_fft, hop, window=w, return_complex=True).abs() + 1e-5
        total = total + torch.norm(T - P) / torch.norm(T) + F.l1_loss(P.log(), T.log())
    return total / len(resolutions)


def ctc(logits: torch.Tensor, steps: torch.Tensor, targets: list[list[int]]) -> torch.Tensor:
    """CTC over answer steps; class 0 is blank, symbol i is class i + 1."""
    logp = logits.float().log_softmax(-1).transpose(0, 1)  # (A, b, V+1)
    flat = torch.tensor([s + 1 for t in targets for s in t], dtype=torch.long, device=logits.device)
    lens = torch.tensor([len(t) for t in targets], dtype=torch.long, device=logits.device)
    return F.ctc_loss(logp, flat, steps, lens, blank=0, reduction="mean", zero_infinity=True)


def greedy_ctc(logits: torch.Tensor, steps: torch.Tensor) -> list[list[int]]:
    """Best-path decoding: collapse repeats, drop blanks; symbol indices (class - 1)."""
    best = logits.argmax(-1).cpu()
    out = []
    for b in range(best.shape[0]):
        seq, prev = [], 0
        for c in best[b, : int(steps[b])].tolist():
            if c != prev and c != 0:
                seq.append(c - 1)
            prev = c
        out.append(seq)
    return out

"""The answer read from the states where each input symbol was heard (model.symbol_readout).

For inputs whose timing says nothing (spoken words of any length, speed and pause), the answer's own
attention has to find the k-th input symbol by position, and errs by one: a symbol said twice, or one
too many at the end. Here the answer finds it by count. A head on the input states says where each
symbol begins (count_t = cumsum of onset probabilities, trained toward the renderer's onsets by
train.loss.count: the state holds the count of symbols heard, #10's probes); answer step j, on
symbol a_j of the canonical answer clock, attends to the input steps whose count is a_j + 1 (the
steps of input symbol a_j, with a learned preference among them) and adds what it reads there to its
own state before the output head renders it. Past the input's last symbol the answer is silence.
States in, spectra out: no symbol is looked up. The count copy head (copy_heads.CountCopyHead) does
the same alignment with onsets heard from the frames, and copies input audio, which a spoken input's
answer in tones cannot use."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .answer_clock import answer_clock, onset_counts, past_symbols


class SymbolReadout(nn.Module):
    def __init__(self, d_model: int, clock_ms, hop_ms: float, k: int, refractory_ms: float = 0.0):
        super().__init__()
        self.clock_ms, self.hop_ms, self.k = tuple(float(x) for x in clock_ms), hop_ms, k
        # steps after an onset in which no other can begin (model.readout_refractory_ms; at least one)
        self.refractory = max(1, round(refractory_ms / (hop_ms * k)))
        self.onset = nn.Linear(d_model, 1)
        nn.init.zeros_(self.onset.weight)
        nn.init.constant_(self.onset.bias, -4.0)  # few onsets at first: counts start near 0
        self.prefer = nn.Linear(d_model, 1)  # which of a symbol's steps say the most about it
        self.beta = nn.Parameter(torch.tensor(math.log(math.expm1(4.0))))  # softplus -> 4
        self.proj = nn.Linear(d_model, d_model)

    def counts(self, h_in, t_in):
        """(b, T) symbols begun up to each input step (flat past the input's end)."""
        valid = torch.arange(h_in.shape[1], device=h_in.device)[None] < t_in[:, None]
        return onset_counts(self.onset(h_in).squeeze(-1), valid, self.refractory)

    def forward(self, h_in, t_in, ans):
        """h_in (b, T, d) input states, t_in (b,), ans (b, A, d) answer states. Returns the answer states
        with what each read added, the input counts (b, T), and (b, A*k) in [0, 1]: the weight of silence
        of each answer frame (1 past the input's last symbol)."""
        A = ans.shape[1]
        count = self.counts(h_in, t_in)
        u = answer_clock(A * self.k, self.hop_ms, self.clock_ms, h_in.device)
        a_step = torch.floor(u.reshape(A, self.k).mean(1))  # the symbol each answer step is on
        scores = -F.softplus(self.beta) * (count[:, None, :] - a_step[None, :, None] - 1) ** 2 \
            + self.prefer(h_in).squeeze(-1).float()[:, None, :]
        valid = torch.arange(h_in.shape[1], device=h_in.device)[None] < t_in[:, None]
        w = torch.softmax(scores.masked_fill(~valid[:, None], float("-inf")), -1)
        read = w.to(h_in.dtype) @ h_in
        heard = count.gather(1, (t_in - 1).clamp_min(0)[:, None])  # symbols in the whole input
        return ans + self.proj(read), count, past_symbols(torch.floor(u), heard)

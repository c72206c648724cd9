"""Copy-by-content output paths (model.copy_head): answer frames attend over the input's own STFT
frames, so a tone the model never heard can be said like any other. Both stay a continuous path from
input audio to output audio (attention weights times input frames); neither looks a symbol up.

`PositionCopyHead` (model.copy_align: position) aligns answer step k with input step k through rotary
positions: it needs input and answer in step, which varied input timing breaks. `CountCopyHead`
(copy_align: count) aligns by which symbol: a learned onset detector counts the symbols heard so far
at every input step, the answer's canonical symbol clock says which symbol each answer frame says,
and each answer frame attends to the input frames whose count matches."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .answer_clock import answer_clock, onset_counts, past_symbols, silenced
from .attention import rotary


class PositionCopyHead(nn.Module):
    """Each answer step attends over the input steps (rotary positions restarting in the answer slot,
    so step j meets input step j at distance 0) and takes the attended input STFT frames, shifted by a
    learned gain; a learned gate mixes them with the output head's frames."""

    def __init__(self, d_model: int, d_key: int = 32, copy_only: bool = False):
        super().__init__()
        self.q, self.k = nn.Linear(d_model, d_key, bias=False), nn.Linear(d_model, d_key, bias=False)
        self.gate_gain = nn.Linear(d_model, 2)
        nn.init.zeros_(self.gate_gain.weight)
        nn.init.zeros_(self.gate_gain.bias)  # start as an even mix, no gain
        self.copy_only = copy_only  # model.copy_gate: copy (the gate held at 1)

    def forward(self, ans, h_in, frames, t_in, head_log_mag, stretch=None):
        a, t = ans.shape[1], h_in.shape[1]
        pos_a = torch.arange(a, device=ans.device)[None].expand(len(ans), -1)
        pos_t = torch.arange(t, device=ans.device)[None].expand(len(ans), -1)
        if stretch is not None:  # the same scale as the attention layers' positions (training only)
            pos_a, pos_t = pos_a * stretch[:, None], pos_t * stretch[:, None]
        q = rotary(self.q(ans)[:, None], pos_a)[:, 0]
        k = rotary(self.k(h_in)[:, None], pos_t)[:, 0]
        scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])
        valid = torch.arange(t, device=ans.device)[None, None] < t_in[:, None, None]
        w = torch.softmax(scores.masked_fill(~valid, float("-inf")), -1)
        gate, gain = self.gate_gain(ans).unbind(-1)
        copied = w.to(frames.dtype) @ frames + gain[..., None]
        if self.copy_only:
            return copied
        g = torch.sigmoid(gate)[..., None]
        return g * copied + (1 - g) * head_log_mag


class CountCopyHead(nn.Module):
    """Alignment by symbol count, for inputs at any timing.

    Input side: an onset logit per input step from a small convolution over frame features that are
    blind to frequency and level (frame_features); count_t = cumsum(sigmoid(logit)) is the number of
    symbols heard up to step t (trained toward the renderer's onsets by train.loss.count). An onset
    is a local event: heard from the frames, not from the model's state, it is found alike for a
    tone never heard in training and past the trained lengths. Answer side:
    the canonical answer says symbol a at a fixed clock (lead, then tone + gap per symbol), so answer
    frame f belongs to symbol a_f = floor((t_f - lead + gap/2) / (tone + gap)) at phase phi_f in [0, 1).
    Frame f attends to input frames with score -beta (count - a_f - 1)^2 plus a learned preference for
    tone frames over gaps. Past the input's last symbol (a_f + 1 > the count at its end) the answer
    is silence, from the copy and the output head alike, so it stops where the input does, at any
    length (every task's answer is at most as long as its input). The attended log spectrum is
    sharpened and levelled (level + gamma (copied - its peak), floored at silence): the answer's
    level does not follow the input's gain, and noise well below the tone falls to the floor.

    The gate that mixes copy and output head, and the level and sharpness, see the phase of the
    symbol clock (gaps between answer tones are silence) and a summary of the whole input (the mean
    of its states: which task, how it sounds), never the answer's own state: that state has a
    position, and a gate that reads it learns where trained answers end, and where the output head
    knows the symbol better. Whether to copy is the same at every answer symbol."""

    HARMONICS = 4  # of the symbol clock's phase, which the gate and level see (a tone's on/off shape)
    N_FEATURES = 4  # per input frame, for the onset detector (frame_features)
    CONTEXT = 4     # model steps the onset detector sees: two back, the step itself and one ahead
    # The gate starts on the copy. Where copy and output head both say a trained answer the loss does
    # not choose between them, so the gate stays where it starts; from an even mix (log domain), the
    # output head's silence past the trained lengths pulled the copied tones down (2x answers lost
    # their symbols past the fifth). A task the copy cannot answer still moves the gate to the head.
    GATE_INIT = 3.0

    def __init__(self, d_model: int, clock_ms, hop_ms: float, log_floor: float, win: int, k: int,
                 copy_only: bool = False):
        super().__init__()
        self.k = k
        self.lead, self.tone, self.gap = (float(x) for x in clock_ms)
        self.hop_ms, self.log_floor = hop_ms, log_floor
        # onsets are heard from the frames themselves, through features blind to which frequency sounds
        # (a tone the model never heard starts like any other) and to position (any length)
        self.onset_tone = nn.Sequential(nn.Conv1d(self.N_FEATURES * k, 32, self.CONTEXT), nn.GELU(), nn.Conv1d(32, 2, 1))
        nn.init.zeros_(self.onset_tone[2].weight)
        nn.init.constant_(self.onset_tone[2].bias, -4.0)  # few onsets at first: counts start near 0
        self.beta = nn.Parameter(torch.tensor(math.log(math.expm1(4.0))))  # softplus -> 4
        self.mix = nn.Linear(d_model + 2 * self.HARMONICS, 3)  # gate, level, gamma
        nn.init.zeros_(self.mix.weight)
        # level: a canonical tone's peak (amplitude 0.5: 0.5 * sum(hann(win)) / 2)
        self.mix.bias.data.copy_(torch.tensor([self.GATE_INIT, math.log(win / 8), 0.0]))
        self.copy_only = copy_only  # model.copy_gate: copy (the gate held at 1: the answer is the copy)

    @staticmethod
    def frame_features(frames, n_valid):
        """(b, F, bins) log-magnitude frames -> (b, F, 4): the loudest bin relative to the utterance's
        loudest and quietest frame (any gain, any noise floor), its change from the frame before, and
        how much this frame's 8 loudest bins rose since the frame before (where a new tone starts, in
        any band: a flux over the loud bins only, since noise bins rise and fall at random)."""
        valid = torch.arange(frames.shape[1], device=frames.device)[None] < n_valid[:, None]
        peak = frames.amax(-1)
        top = peak.masked_fill(~valid, float("-inf")).amax(1, keepdim=True)
        low = peak.masked_fill(~valid, float("inf")).amin(1, keepdim=True)
        prev = torch.cat([frames[:, :1], frames[:, :-1]], 1)
        loud = frames.topk(8, -1).indices  # this frame's 8 loudest bins: how much louder than just before
        flux = (frames.gather(-1, loud) - prev.gather(-1, loud)).mean(-1)
        d_peak = peak - prev.amax(-1)
        return torch.stack([peak - top, peak - low, d_peak, flux], -1) * valid[..., None]

    def counts(self, frames, t_in):
        """(b, T) symbols heard up to each input step (flat past the input's end) and (b, T) preferences
        for each step's frames (tone over gap); frames (b, T*k, bins)."""
        b, T = len(frames), frames.shape[1] // self.k
        feats = self.frame_features(frames, t_in * self.k).reshape(b, T, -1).transpose(1, 2)
        feats = F.pad(feats, (self.CONTEXT - 2, 1))  # steps t-2 .. t+1
        onset, tone = self.onset_tone(feats).float().unbind(1)
        valid = torch.arange(T, device=frames.device)[None] < t_in[:, None]
        return onset_counts(onset, valid), tone  # a symbol lasts more than two steps: one refractory step

    def clock(self, n_frames: int, device):
        """Answer frame -> (symbol index a_f, phase features)."""
        u = answer_clock(n_frames, self.hop_ms, (self.lead, self.tone, self.gap), device)
        a = torch.floor(u)
        phi = 2 * math.pi * (u - a)[:, None] * torch.arange(1, self.HARMONICS + 1, device=device)
        return a, torch.cat([phi.sin(), phi.cos()], -1)

    def forward(self, h_in, frames, t_in, head_log_mag):
        """h_in (b, T, d) input states; frames (b, T*k, bins) input log-magnitude frames; head_log_mag
        (b, A, k*bins). Returns (log_mag like head_log_mag, counts (b, T), the gate's mean logit over the
        answer (b,), None with copy_only)."""
        (b, A), k = head_log_mag.shape[:2], self.k
        bins = frames.shape[-1]
        count, tone = self.counts(frames, t_in)
        count_f, tone_f = count.repeat_interleave(k, 1), tone.repeat_interleave(k, 1)  # per input frame
        a, phase = self.clock(A * k, frames.device)
        beta = F.softplus(self.beta)
        scores = -beta * (count_f[:, None, :] - a[None, :, None] - 1) ** 2 + tone_f[:, None, :]
        valid = torch.arange(count_f.shape[1], device=frames.device)[None] < (t_in * k)[:, None]
        w = torch.softmax(scores.masked_fill(~valid[:, None], float("-inf")), -1)
        copied = w.to(frames.dtype) @ frames
        steps = (torch.arange(h_in.shape[1], device=h_in.device)[None] < t_in[:, None]).to(h_in.dtype)
        summary = (h_in * steps[..., None]).sum(1) / steps.sum(1, keepdim=True).clamp_min(1)
        mixed = torch.cat([summary[:, None].expand(-1, A * k, -1), phase.expand(b, -1, -1).to(h_in.dtype)], -1)
        gate, level, gamma = self.mix(mixed).unbind(-1)
        peak = copied.amax(-1, keepdim=True)
        said = level[..., None] + F.softplus(gamma + 0.5413)[..., None] * (copied - peak)  # softplus(0.5413) = 1
        said = said.clamp_min(self.log_floor)
        # past the input's last symbol the answer is silence, whichever path says it: no answer here
        # outlasts its input (a copy, a verdict, a remainder), and the output head, which noisy
        # inputs lean the gate toward, does not know where a long or noisy input ends
        heard = count.gather(1, (t_in - 1).clamp_min(0)[:, None])  # symbols in the whole input
        if self.copy_only:
            answer = said
        else:
            g = torch.sigmoid(gate)[..., None]
            answer = g * said + (1 - g) * head_log_mag.reshape(b, A * k, bins)
        out = silenced(answer, past_symbols(a, heard), self.log_floor)
        return out.reshape(b, A, k * bins), count, None if self.copy_only else gate.float().mean(1)

"""Pulse-interval coding (`--domain pulse`, the appendix's `ipd`): each symbol is a short train of
clicks whose spacing encodes it, as an optical or laser link would send it (issue #34).

The code: symbol i of the codebook's alphabet (in its order) is PULSES clicks IPI_MIN * RATIO**i
apart (31 symbols: 2.0 to 34.9 ms), each symbol in its own SLOT (a symbol clock, as a link has:
the longest train fills 210 ms of its 300), so an utterance lasts as long as its symbol count says,
whatever the symbols, and never less than the same symbols as tones (the answer slot follows the
input's length). A click is a 0.5 ms Hann-windowed 4 kHz burst.
Inputs vary as a real link does: each click's time jitters (JITTER of its interval), its amplitude
by the variation's `amp_jitter_db`; clicks can drop out or appear spuriously (`p_drop`,
`p_spurious`); then the room, noise, hum, DC and gain of variation.effects, with the SNR measured
against the signal's power over the spans its trains occupy (as for tones). The canonical form
(no variation) is exact timing, fixed amplitude. The domain's own ear is scoring/pulse_ear.py.
"""

from __future__ import annotations

import numpy as np

from .codebook import Codebook
from .variation import NO_JITTER, effects

IPI_MIN = 0.002   # s, the first symbol's spacing
RATIO = 1.1       # each next symbol's spacing: 10% longer (the ear decides within +-4.9%)
PULSES = 7        # clicks per symbol: 6 intervals, whose median survives one dropped or spurious click
SLOT = 0.3        # s per symbol: the train starts the slot, silence fills the rest
LEAD = 0.05       # s of silence before the first and after the last click
CLICK_S = 0.0005  # s
CLICK_HZ = 4000.0
JITTER = 0.02     # relative timing jitter of each click (of its symbol's interval), with variation


def intervals(cb: Codebook) -> dict[str, float]:
    """Symbol -> inter-pulse interval (s)."""
    return {s: IPI_MIN * RATIO ** i for i, s in enumerate(cb.alphabet)}


def click(sr: int) -> np.ndarray:
    n = max(2, int(round(CLICK_S * sr)))
    t = np.arange(n) / sr
    return np.hanning(n + 2)[1:-1] * np.cos(2 * np.pi * CLICK_HZ * t)


def render_pulse(symbols, cb: Codebook, rng: np.random.Generator | None = None, variation=None, *,
                 p_drop: float = 0.0, p_spurious: float = 0.0, spans: list | None = None) -> np.ndarray:
    """Render `symbols` as a float32 click train at cb.sample_rate (`spans`: as render.render_tone's)."""
    sr, ipi = cb.sample_rate, intervals(cb)
    jit = variation is not None and rng is not None
    v = variation or NO_JITTER
    times, amps, active = [], [], []  # click times (s), amplitudes, each symbol's span (samples)
    for n, s in enumerate(symbols):
        d, t = ipi[s], LEAD + n * SLOT
        start = t
        for k in range(PULSES):
            tk = t + k * d + (rng.normal(0, JITTER * d) if jit else 0.0)
            if jit and rng.random() < p_drop:
                continue
            times.append(tk)
            amps.append(cb.amplitude * (10 ** (rng.uniform(-v.amp_jitter_db, v.amp_jitter_db) / 20) if jit else 1.0))
        end = t + (PULSES - 1) * d
        active.append((int(start * sr), int(end * sr) + int(CLICK_S * sr) + 1))
    if spans is not None:
        spans.extend(active)
    total = 2 * LEAD + len(symbols) * SLOT
    if jit and p_spurious:  # stray clicks anywhere, at the rate of p_spurious per sent click
        for _ in range(int(rng.binomial(len(symbols) * PULSES, p_spurious))):
            times.append(rng.uniform(LEAD, total - LEAD))
            amps.append(cb.amplitude * rng.uniform(0.5, 1.0))
    y = np.zeros(int(np.ceil(total * sr)) + 1)
    c = click(sr)
    for tk, a in zip(times, amps):
        i = int(round(tk * sr))
        if 0 <= i and i + len(c) <= len(y):
            y[i:i + len(c)] += a * c
    return (effects(y, active, sr, rng, v) if jit else y).astype(np.float32)

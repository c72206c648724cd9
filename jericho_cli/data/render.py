"""Renderers: symbol sequence -> waveform. `tone` is the default domain.

Inputs are rendered with variation (random phase, frequency/amplitude/duration/gap jitter,
optional white noise at an SNR and a simple reverberation) so a model must listen to spectral
content rather than memorise waveforms. Targets are rendered canonically: nominal timing, fixed
amplitude, zero phase, so the answer audio is a deterministic function of the answer symbols.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .codebook import Codebook


@dataclass(frozen=True)
class Variation:
    freq_jitter: float = 0.01      # relative, uniform +-1%
    amp_jitter_db: float = 3.0     # uniform +-3 dB per tone
    dur_jitter: float = 0.10       # relative, uniform +-10% of the tone duration
    gap_jitter: float = 0.20       # relative, uniform +-20% of the gap
    snr_db: float | None = None    # white noise relative to the mean power of the tones
    reverb_rt60: float | None = None  # seconds; None = dry
    reverb_wet: float = 0.3

    def to_dict(self) -> dict:
        return asdict(self)


CANONICAL = None  # pass as `variation` to render the canonical (target) form
NO_JITTER = Variation(0.0, 0.0, 0.0, 0.0)


def _tone(freqs, n: int, sr: int, amp: float, phase, ramp: int) -> np.ndarray:
    t = np.arange(n) / sr
    y = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, phase)) / len(freqs)
    r = min(ramp, n // 2)
    if r > 0:
        w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(r) + 0.5) / r)
        y[:r] *= w
        y[n - r:] *= w[::-1]
    return amp * y


def render_tone(symbols, cb: Codebook, rng: np.random.Generator | None = None,
                variation: Variation | None = CANONICAL) -> np.ndarray:
    """Render `symbols` as a float32 waveform at cb.sample_rate."""
    sr, ramp = cb.sample_rate, cb.samples(cb.ramp_ms)
    jit = variation is not None and rng is not None
    v = variation or NO_JITTER
    pieces = [np.zeros(cb.samples(cb.lead_ms))]
    active = []  # spans of tone samples, for the SNR reference power
    pos = len(pieces[0])
    for i, s in enumerate(symbols):
        freqs = np.array(cb.symbols[s])
        dur, amp, phase = cb.symbol_ms, cb.amplitude, np.zeros(len(freqs))
        if jit:
            freqs = freqs * (1 + rng.uniform(-v.freq_jitter, v.freq_jitter, len(freqs)))
            dur = dur * (1 + rng.uniform(-v.dur_jitter, v.dur_jitter))
            amp = amp * 10 ** (rng.uniform(-v.amp_jitter_db, v.amp_jitter_db) / 20)
            phase = rng.uniform(0, 2 * np.pi, len(freqs))
        n = cb.samples(dur)
        pieces.append(_tone(freqs, n, sr, amp, phase, ramp))
        active.append((pos, pos + n))
        pos += n
        if i < len(symbols) - 1:
            gap = cb.gap_ms * (1 + rng.uniform(-v.gap_jitter, v.gap_jitter)) if jit else cb.gap_ms
            pieces.append(np.zeros(cb.samples(gap)))
            pos += len(pieces[-1])
    pieces.append(np.zeros(cb.samples(cb.lead_ms)))
    y = np.concatenate(pieces)
    if jit and v.reverb_rt60:
        y = _reverb(y, sr, v.reverb_rt60, v.reverb_wet, rng)
    if jit and v.snr_db is not None and active:
        ref = np.mean(np.concatenate([y[a:b] for a, b in active]) ** 2)
        y = y + rng.standard_normal(len(y)) * np.sqrt(ref / 10 ** (v.snr_db / 10))
    return y.astype(np.float32)


def _reverb(y: np.ndarray, sr: int, rt60: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    """Exponentially decaying noise impulse response (a crude diffuse room), mixed wet/dry."""
    n = int(rt60 * sr)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)  # -60 dB at rt60
    ir /= np.sqrt(np.sum(ir ** 2))
    tail = np.convolve(y, ir)[: len(y)]
    return (1 - wet) * y + wet * tail


RENDERERS = {"tone": render_tone}


def render(symbols, cb: Codebook, domain: str = "tone", rng=None, variation=CANONICAL) -> np.ndarray:
    if domain not in RENDERERS:
        from ..errors import JerichoError

        raise JerichoError(f"unknown domain {domain!r} (available: {', '.join(RENDERERS)})")
    return RENDERERS[domain](symbols, cb, rng, variation)

"""A second tone synthesizer, written apart from render.py and never used in training.

A model that only works on its training renderer's audio has learned the renderer. This one makes
the same symbols another way, the way a different program would:
- oscillators by phase accumulation (a running sum of instantaneous frequency), each tone gliding
  slightly (up to +-0.4% over its length) from a start frequency off by up to +-1% from the codebook;
- an attack / hold / release envelope with linear attack (2-12 ms) and an exponential release tail
  (8-30 ms), instead of symmetric raised-cosine ramps;
- amplitudes 0.3-0.6 per tone, tones 85-125 ms, gaps 35-75 ms, leading and trailing silence
  30-90 ms (the codebook's nominal 100 / 50 / 50 ms);
- a second harmonic 30-40 dB down (a slightly non-linear output stage) and faint low-passed noise
  60 dB below the tones (a quiet analogue path);
- 24-bit style dither at the end.
Draws come from the caller's rng; without one, a fixed default stream (deterministic).
"""

from __future__ import annotations

import numpy as np

from .codebook import Codebook


def _oscillator(f_start: float, f_end: float, n: int, sr: int, phase0: float) -> np.ndarray:
    inst = np.linspace(f_start, f_end, n)                       # Hz per sample, a slow glide
    phase = phase0 + 2 * np.pi * np.cumsum(inst) / sr
    return np.sin(phase)


def _ahr_envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    attack, release = min(attack, n // 3), min(release, n // 2)
    env[:attack] = np.arange(attack) / max(attack, 1)
    if release > 0:
        env[n - release:] = np.exp(-5.0 * np.arange(1, release + 1) / release)
    return env


def render_independent(symbols, cb: Codebook, rng: np.random.Generator | None = None) -> np.ndarray:
    rng = rng if rng is not None else np.random.default_rng(20261123)
    sr = cb.sample_rate
    ms = lambda lo, hi: int(round(rng.uniform(lo, hi) * sr / 1000))  # noqa: E731
    out = [np.zeros(ms(30, 90))]
    for i, s in enumerate(symbols):
        n = ms(85, 125)
        amp = rng.uniform(0.3, 0.6)
        tone = np.zeros(n)
        for f in cb.symbols[s]:
            start = f * (1 + rng.uniform(-0.01, 0.01))
            end = start * (1 + rng.uniform(-0.004, 0.004))
            base = _oscillator(start, end, n, sr, rng.uniform(0, 2 * np.pi))
            second = _oscillator(2 * start, 2 * end, n, sr, rng.uniform(0, 2 * np.pi)) if 2 * end < sr / 2 else 0.0
            tone += base + 10 ** (-rng.uniform(30, 40) / 20) * second
        tone *= amp / len(cb.symbols[s]) * _ahr_envelope(n, ms(2, 12), ms(8, 30))
        out.append(tone)
        if i < len(symbols) - 1:
            out.append(np.zeros(ms(35, 75)))
    out.append(np.zeros(ms(30, 90)))
    y = np.concatenate(out)
    hiss = np.convolve(rng.standard_normal(len(y)), np.ones(4) / 4, mode="same")  # low-passed
    y = y + hiss * 10 ** (-60 / 20) * 0.45
    y = y + rng.uniform(-0.5, 0.5, len(y)) / 2 ** 23
    return y.astype(np.float32)

"""Renderers: symbol sequence -> waveform. `tone` is the default domain.

Inputs are rendered with variation (random phase, frequency/amplitude/duration/gap jitter, optional
noise at an SNR and reverberation) so a model must listen to spectral content rather than memorise
waveforms. `Variation` (data/variation.py) also carries the wider ranges robust training draws from (issue #9): tone
and gap durations, envelope shapes, a frequency offset, coloured noise over an SNR range, gain,
DC offset and mains hum; each is off unless set. Targets are rendered canonically: nominal timing,
fixed amplitude, zero phase, so the answer audio is a deterministic function of the answer symbols.
`tone_independent` (data/independent.py) is a second tone synthesizer with its own code, for tests;
`pulse` (data/pulse.py) codes each symbol as the spacing of a click train, `carrier` (data/carrier.py)
as a character keyed by FSK on one carrier, `speech` (data/speech.py) as a word spoken by espeak-ng
voices (`speech_heldout`: voices no training set hears).
"""

from __future__ import annotations

import numpy as np

from .codebook import Codebook
from .variation import (CANONICAL, ENVELOPES, NO_JITTER, NOISE_COLOURS, Variation, _uniform,  # noqa: F401
                        coloured_noise, effects)


def envelope(kind: str, n: int, r: int) -> np.ndarray:
    """Gain over a tone of n samples with r-sample onset and offset ramps."""
    w = np.ones(n)
    r = min(r, n // 2)
    if r <= 0 or kind == "none":
        return w
    x = (np.arange(r) + 0.5) / r
    ramp = {"hann": 0.5 - 0.5 * np.cos(np.pi * x), "linear": x, "exp": np.expm1(4 * x) / np.expm1(4)}[kind]
    w[:r] *= ramp
    w[n - r:] *= ramp[::-1]
    return w


def _tone(freqs, n: int, sr: int, amp: float, phase, ramp: int, shape: str = "hann") -> np.ndarray:
    t = np.arange(n) / sr
    y = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, phase)) / len(freqs)
    return amp * y * envelope(shape, n, ramp)


def render_tone(symbols, cb: Codebook, rng: np.random.Generator | None = None,
                variation: Variation | None = CANONICAL, spans: list | None = None) -> np.ndarray:
    """Render `symbols` as a float32 waveform at cb.sample_rate; `spans`, when given, receives each
    symbol's (first, end) sample (what a count-aligned copy head learns to count, model/copy_heads.py)."""
    sr, ramp = cb.sample_rate, cb.samples(cb.ramp_ms)
    jit = variation is not None and rng is not None
    v = variation or NO_JITTER
    shape, offset = "hann", 0.0
    if jit and v.envelopes:
        shape = v.envelopes[int(rng.integers(len(v.envelopes)))]
    if jit and v.ramp_ms:
        ramp = cb.samples(_uniform(rng, v.ramp_ms))
    if jit and v.freq_offset:
        offset = rng.uniform(-v.freq_offset, v.freq_offset)
    scale = _uniform(rng, v.time_scale) if jit and v.time_scale else 1.0  # drawn only when set: same bytes as before
    pieces = [np.zeros(cb.samples(cb.lead_ms))]
    active = []  # spans of tone samples, for the SNR reference power
    pos = len(pieces[0])
    for i, s in enumerate(symbols):
        freqs = np.array(cb.symbols[s]) * (1 + offset)
        dur, amp, phase = cb.symbol_ms, cb.amplitude, np.zeros(len(freqs))
        if jit:
            freqs = freqs * (1 + rng.uniform(-v.freq_jitter, v.freq_jitter, len(freqs)))
            dur = _uniform(rng, v.tone_ms) if v.tone_ms else dur * (1 + rng.uniform(-v.dur_jitter, v.dur_jitter))
            amp = amp * 10 ** (rng.uniform(-v.amp_jitter_db, v.amp_jitter_db) / 20)
            phase = rng.uniform(0, 2 * np.pi, len(freqs))
        n = cb.samples(dur * scale)
        pieces.append(_tone(freqs, n, sr, amp, phase, ramp, shape))
        active.append((pos, pos + n))
        pos += n
        if i < len(symbols) - 1:
            gap = cb.gap_ms
            if jit:
                gap = _uniform(rng, v.gap_ms) if v.gap_ms else gap * (1 + rng.uniform(-v.gap_jitter, v.gap_jitter))
            pieces.append(np.zeros(cb.samples(gap * scale)))
            pos += len(pieces[-1])
    pieces.append(np.zeros(cb.samples(cb.lead_ms)))
    if spans is not None:
        spans.extend(active)
    y = np.concatenate(pieces)
    return (effects(y, active, sr, rng, v) if jit else y).astype(np.float32)


def _independent(symbols, cb, rng=None, variation=None, spans=None):  # a test renderer: spans unknown
    from .independent import render_independent

    return render_independent(symbols, cb, rng)


def _pulse(symbols, cb, rng=None, variation=None, spans=None):
    from .pulse import render_pulse

    return render_pulse(symbols, cb, rng, variation, spans=spans)


def _carrier(symbols, cb, rng=None, variation=None, spans=None):
    from .carrier import render_carrier

    return render_carrier(symbols, cb, rng, variation, spans=spans)


def _spoken_by(speakers: str):
    """The speech renderer for one of data/speech.py's speaker lists (imported on first use)."""
    def render_spoken(symbols, cb, rng=None, variation=None, spans=None):
        from . import speech

        return speech.render_speech(symbols, cb, rng, variation, speakers=getattr(speech, speakers), spans=spans)
    return render_spoken


RENDERERS = {"tone": render_tone, "tone_independent": _independent, "pulse": _pulse, "carrier": _carrier,
             "speech": _spoken_by("TRAIN_SPEAKERS"), "speech_wide": _spoken_by("TRAIN_SPEAKERS_WIDE"),
             "speech_heldout": _spoken_by("HELDOUT_SPEAKERS")}
# the answers: canonical tones in every domain, so the model answers in tones and the tone ear scores them
ANSWER_DOMAIN = {d: "tone" for d in RENDERERS if d != "tone"}


def render(symbols, cb: Codebook, domain: str = "tone", rng=None, variation=CANONICAL,
           spans: list | None = None) -> np.ndarray:
    if domain not in RENDERERS:
        from ..errors import JerichoError

        raise JerichoError(f"unknown domain {domain!r} (available: {', '.join(RENDERERS)})")
    return RENDERERS[domain](symbols, cb, rng, variation, spans)

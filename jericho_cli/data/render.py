"""Renderers: symbol sequence -> waveform. `tone` is the default domain.

Inputs are rendered with variation (random phase, frequency/amplitude/duration/gap jitter, optional
noise at an SNR and reverberation) so a model must listen to spectral content rather than memorise
waveforms. `Variation` also carries the wider ranges robust training draws from (issue #9): tone
and gap durations, envelope shapes, a frequency offset, coloured noise over an SNR range, gain,
DC offset and mains hum; each is off unless set. Targets are rendered canonically: nominal timing,
fixed amplitude, zero phase, so the answer audio is a deterministic function of the answer symbols.
`tone_independent` (data/independent.py) is a second tone synthesizer with its own code, for tests;
`pulse` (data/pulse.py) codes each symbol as the spacing of a click train.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .codebook import Codebook

ENVELOPES = ("hann", "linear", "exp", "none")
NOISE_COLOURS = ("white", "pink", "brown")


@dataclass(frozen=True)
class Variation:
    freq_jitter: float = 0.01      # relative, uniform +-1% per tone
    amp_jitter_db: float = 3.0     # uniform +-3 dB per tone
    dur_jitter: float = 0.10       # relative, uniform +-10% of the tone duration
    gap_jitter: float = 0.20       # relative, uniform +-20% of the gap
    snr_db: float | None = None    # white noise relative to the mean power of the tones
    reverb_rt60: float | None = None  # seconds; None = dry
    reverb_wet: float = 0.3
    # --- wider ranges for robust training (None / empty = off); drawn once per utterance
    tone_ms: tuple | None = None   # [lo, hi] ms: each tone's duration (replaces dur_jitter)
    gap_ms: tuple | None = None    # [lo, hi] ms: each gap (replaces gap_jitter)
    time_scale: tuple | None = None  # [lo, hi]: one factor on every tone and gap of the utterance (2 = twice as slow)
    envelopes: tuple = ()          # onset/offset shapes to draw from (ENVELOPES); () = the codebook's ramp
    ramp_ms: tuple | None = None   # [lo, hi] ms of the onset/offset ramp
    freq_offset: float = 0.0       # relative, one offset for the whole utterance, uniform +-
    snr_range: tuple | None = None  # [lo, hi] dB: noise SNR drawn per utterance (replaces snr_db)
    noise_colours: tuple = ("white",)  # NOISE_COLOURS to draw from
    p_noise: float = 1.0           # probability of noise when snr_range is set
    p_reverb: float = 0.0          # probability of reverberation with rt60 in rt60_range
    rt60_range: tuple = (0.1, 0.6)
    gain_dbfs: tuple | None = None  # [lo, hi] dBFS peak level of the utterance
    p_dc: float = 0.0              # probability of a DC offset up to +-dc
    dc: float = 0.05
    p_hum: float = 0.0             # probability of 50/60 Hz hum (with harmonics) at hum_db below the tones
    hum_db: tuple = (-40.0, -20.0)

    def to_dict(self) -> dict:
        return asdict(self)


CANONICAL = None  # pass as `variation` to render the canonical (target) form
NO_JITTER = Variation(0.0, 0.0, 0.0, 0.0)


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


def _uniform(rng, lo_hi) -> float:
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


def render_tone(symbols, cb: Codebook, rng: np.random.Generator | None = None,
                variation: Variation | None = CANONICAL) -> np.ndarray:
    """Render `symbols` as a float32 waveform at cb.sample_rate."""
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
    y = np.concatenate(pieces)
    return (effects(y, active, sr, rng, v) if jit else y).astype(np.float32)


def effects(y: np.ndarray, active: list, sr: int, rng: np.random.Generator, v: Variation) -> np.ndarray:
    """Room, noise, hum, DC and level, in the order a recording chain adds them."""
    tone_power = lambda x: np.mean(np.concatenate([x[a:b] for a, b in active]) ** 2) if active else 0.0  # noqa: E731
    rt60 = v.reverb_rt60
    if v.p_reverb and rng.random() < v.p_reverb:
        rt60 = _uniform(rng, v.rt60_range)
    if rt60:
        y = _reverb(y, sr, rt60, v.reverb_wet, rng)
    snr, colour = v.snr_db, "white"
    if v.snr_range and rng.random() < v.p_noise:
        snr = _uniform(rng, v.snr_range)
        colour = v.noise_colours[int(rng.integers(len(v.noise_colours)))]
    if snr is not None and active:
        noise = coloured_noise(colour, len(y), rng)
        y = y + noise * np.sqrt(tone_power(y) / 10 ** (snr / 10))
    if v.p_hum and rng.random() < v.p_hum and active:
        f0 = 50.0 if rng.random() < 0.5 else 60.0
        t = np.arange(len(y)) / sr
        hum = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3))
        hum *= np.sqrt(tone_power(y) * 10 ** (_uniform(rng, v.hum_db) / 10) / np.mean(hum ** 2))
        y = y + hum
    if v.p_dc and rng.random() < v.p_dc:
        y = y + rng.uniform(-v.dc, v.dc)
    if v.gain_dbfs:
        peak = np.max(np.abs(y)) or 1.0
        y = y * 10 ** (_uniform(rng, v.gain_dbfs) / 20) / peak
    return y


def coloured_noise(colour: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power noise with a 1/f^0 (white), 1/f (pink) or 1/f^2 (brown) power spectrum."""
    white = rng.standard_normal(n)
    if colour == "white" or n < 2:
        return white
    spec = np.fft.rfft(white)
    f = np.arange(len(spec), dtype=float)
    f[0] = f[1]
    spec /= f ** (0.5 if colour == "pink" else 1.0)
    x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x ** 2)) or 1.0)


def _reverb(y: np.ndarray, sr: int, rt60: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    """Exponentially decaying noise impulse response (a crude diffuse room), mixed wet/dry."""
    n = int(rt60 * sr)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)  # -60 dB at rt60
    ir /= np.sqrt(np.sum(ir ** 2))
    tail = np.convolve(y, ir)[: len(y)]
    return (1 - wet) * y + wet * tail


def _independent(symbols, cb, rng=None, variation=None):
    from .independent import render_independent

    return render_independent(symbols, cb, rng)


def _pulse(symbols, cb, rng=None, variation=None):
    from .pulse import render_pulse

    return render_pulse(symbols, cb, rng, variation)


RENDERERS = {"tone": render_tone, "tone_independent": _independent, "pulse": _pulse}
# the answers: canonical tones in every domain, so the model answers in tones and the tone ear scores them
ANSWER_DOMAIN = {"tone_independent": "tone", "pulse": "tone"}


def render(symbols, cb: Codebook, domain: str = "tone", rng=None, variation=CANONICAL) -> np.ndarray:
    if domain not in RENDERERS:
        from ..errors import JerichoError

        raise JerichoError(f"unknown domain {domain!r} (available: {', '.join(RENDERERS)})")
    return RENDERERS[domain](symbols, cb, rng, variation)

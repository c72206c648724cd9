"""What varies between two renderings of the same symbols: the `Variation` record (jitter, robust
training's ranges, noise, rooms) and the recording chain every renderer ends with (`effects`: room,
noise, hum, DC, level), shared by the tone and pulse renderers."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import fftconvolve

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


def _uniform(rng, lo_hi) -> float:
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


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
    tail = fftconvolve(y, ir)[: len(y)]  # direct convolution of a room-long response was the slowest step of rendering
    return (1 - wet) * y + wet * tail

"""The ear of the keyed-carrier domain (data/carrier.py): a non-coherent FSK demodulator and a UART.

Demodulation: the signal is mixed down at the mark and at the space frequency and each product is
averaged over one bit (a boxcar centred on the sample): the two envelopes say how much of each tone
a bit-long stretch holds, whatever the carrier's phase. The two frequencies are first tuned to the
signal (automatic frequency control, as a modem does): each is the strongest spectral peak within
AFC of its nominal value, since a bit's boxcar is only 50 Hz wide and a transmitter 1.5% off its
space tone would lose half of it. Carrier: where the two
envelopes together exceed a quarter of their loud level. UART: while idle, a fall from mark to
space is a start bit's leading edge; the frame's 10 bits are read at their centres (start must be
space, stop must be mark, every bit must be clearly one tone: `DOMINANCE`), the byte is the
character, and the search resumes at the stop bit. A frame that fails is dropped (a framing error,
as a serial port drops it) and the search resumes half a bit later. Characters that are no
symbol of the codebook are ignored.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from ..data.carrier import BAUD, DATA_BITS, MARK, SPACE, codes
from ..data.codebook import Codebook

DOMINANCE = 0.3   # |mark - space| / (mark + space) at a bit's centre: below it the bit is not heard
CARRIER = 0.25    # of the loud level (the 95th percentile of mark + space): the carrier is on
RESOLUTION = 8    # envelope samples per bit
AFC = 0.04        # relative: how far from MARK and SPACE the tuning looks


class CarrierEar:
    def __init__(self, codebook: Codebook):
        self.cb = codebook
        self.symbol_of = {c: s for s, c in codes(codebook).items()}

    def tune(self, x: np.ndarray) -> tuple[float, float]:
        """The mark and space frequencies the signal holds: the spectrum's peak near each."""
        sr = self.cb.sample_rate
        n = max(len(x), sr)  # zero-padded to at least 1 Hz bins
        power = np.abs(np.fft.rfft(x * np.hanning(len(x)), n)) ** 2
        freqs = np.fft.rfftfreq(n, 1 / sr)
        tuned = []
        for f in (MARK, SPACE):
            near = np.flatnonzero(np.abs(freqs - f) <= AFC * f)
            tuned.append(float(freqs[near[np.argmax(power[near])]]))
        return tuned[0], tuned[1]

    def envelopes(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Mark and space envelopes, RESOLUTION samples a bit, and the envelope's time step (s)."""
        sr = self.cb.sample_rate
        x = np.asarray(audio, dtype=np.float64)
        t = np.arange(len(x)) / sr
        bit = max(1, int(round(sr / BAUD)))
        env = []
        for f in self.tune(x):
            z = x * np.exp(-2j * np.pi * f * t)
            env.append(np.abs(uniform_filter1d(z.real, bit, mode="constant")
                              + 1j * uniform_filter1d(z.imag, bit, mode="constant")))
        step = max(1, bit // RESOLUTION)
        return env[0][::step], env[1][::step], step / sr

    def transcribe(self, audio: np.ndarray) -> list[str]:
        if len(audio) < self.cb.sample_rate / BAUD:
            return []
        mark, space, dt = self.envelopes(audio)
        total = mark + space
        loud = float(np.percentile(total, 95))
        if loud <= 0:
            return []
        on = total > CARRIER * loud
        d = (mark - space) / np.maximum(total, 1e-12)  # +1 mark, -1 space
        bit = 1.0 / (BAUD * dt)  # envelope samples per bit
        n_frame = 2 + DATA_BITS
        out, i = [], 1
        last = len(d) - 1 - int(np.ceil((n_frame - 0.5) * bit))  # the last start edge whose stop bit is heard
        while i <= last:
            if not (on[i] and d[i] < 0 <= d[i - 1]):
                i += 1
                continue
            centres = np.round(i + (np.arange(n_frame) + 0.5) * bit).astype(int)
            v = d[centres]
            bits = (v > 0).astype(int)
            if np.all(on[centres]) and np.all(np.abs(v) >= DOMINANCE) and bits[0] == 0 and bits[-1] == 1:
                code = int(sum(b << k for k, b in enumerate(bits[1:-1])))
                if code in self.symbol_of:
                    out.append(self.symbol_of[code])
                i = int(centres[-1])  # the stop bit: the next start edge comes after it
            else:
                i += max(1, int(bit / 2))
        return out

"""The ear of the pulse domain (data/pulse.py): click detection, then interval estimation.

Clicks: a quadrature matched filter (the click's cosine and sine templates), so the detector's
output is the click's envelope whatever its phase; a click is a local maximum at least half the
shortest spacing from a larger one, above max(a quarter of the loudest click, 6 robust noise
deviations). Trains: clicks further apart than SPLIT fall in different stretches (the longest
spacing is 35 ms, 70 ms with a click missing; trains lie at least 90 ms apart); within a stretch, every (first click,
symbol) pair predicts PULSES click times, and the pair that finds the most of them (within TOL of
its spacing; ties: the smaller timing error) is a train; its clicks are taken and the search
repeats. A train needs MIN_MATCH of its clicks, so a dropped click costs nothing, and a spurious one,
even between two trains, belongs to none.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, find_peaks

from ..data.codebook import Codebook
from ..data.pulse import CLICK_HZ, CLICK_S, IPI_MIN, PULSES, intervals

SPLIT = 0.08  # s: longer than any spacing with one click missing (a merged stretch still splits in the search)
TOL = 0.1       # of the spacing: a click's jitter is 2% (sd); neighbouring symbols differ by 10% a step
MIN_MATCH = 4   # of PULSES clicks


class PulseEar:
    def __init__(self, codebook: Codebook):
        self.cb = codebook
        ipi = intervals(codebook)
        self.symbols, self.ipi = list(ipi), np.array(list(ipi.values()))
        self.offsets = self.ipi[:, None] * np.arange(PULSES)[None]  # (symbols, PULSES) predicted click times
        sr = codebook.sample_rate
        n = max(2, int(round(CLICK_S * sr)))
        t, w = np.arange(n) / sr, np.hanning(n + 2)[1:-1]
        self.templates = [w * np.cos(2 * np.pi * CLICK_HZ * t), w * np.sin(2 * np.pi * CLICK_HZ * t)]

    def clicks(self, audio: np.ndarray) -> np.ndarray:
        """Click times (s) in `audio`."""
        x = np.asarray(audio, dtype=np.float64)
        if len(x) < len(self.templates[0]):
            return np.zeros(0)
        env = np.sqrt(sum(fftconvolve(x, k[::-1], "same") ** 2 for k in self.templates))
        top = float(env.max())
        if top <= 0:
            return np.zeros(0)
        noise = 1.4826 * float(np.median(env))  # clicks fill ~1% of the samples: the median is noise
        height = max(0.25 * top, 6 * noise)
        peaks, _ = find_peaks(env, height=height, distance=max(1, int(IPI_MIN / 2 * self.cb.sample_rate)))
        return peaks / self.cb.sample_rate

    def transcribe(self, audio: np.ndarray) -> list[str]:
        t = self.clicks(audio)
        out = []
        for stretch in np.split(t, np.flatnonzero(np.diff(t) > SPLIT) + 1):
            out += [self.symbols[k] for _, k in self._trains(stretch)]
        return out

    def _trains(self, t: np.ndarray) -> list[tuple[float, int]]:
        """(start time, symbol index) of each train found among the click times t, in time order."""
        free = np.ones(len(t), bool)
        found = []
        while free.sum() >= MIN_MATCH:
            best = None
            for i in np.flatnonzero(free):
                pred = t[i] + self.offsets  # (symbols, PULSES)
                j = np.clip(np.searchsorted(t, pred), 1, len(t) - 1)
                near = np.where(np.abs(t[j - 1] - pred) <= np.abs(t[j] - pred), j - 1, j)
                err = np.abs(t[near] - pred) / self.ipi[:, None]
                hit = (err <= TOL) & free[near]
                count = hit.sum(1)
                k = int(np.lexsort((np.where(hit, err, 0).sum(1), -count))[0])  # most hits, then least error
                if best is None or (count[k], -np.where(hit[k], err[k], 0).sum()) > best[0]:
                    best = ((count[k], -np.where(hit[k], err[k], 0).sum()), i, k, near[k][hit[k]])
            (count, _), i, k, claimed = best
            if count < MIN_MATCH:
                break
            free[claimed] = False
            found.append((float(t[i]), k))
        return sorted(found)

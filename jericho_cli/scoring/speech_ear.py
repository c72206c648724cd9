"""The ear of the speech domain (data/speech.py): word segmentation, then template matching
with linear time normalisation, the way isolated-word recognisers worked before statistical models. Nothing
here is trained, and nothing is the model's: it is the check that spoken inputs say what their
manifests say.

Words: frames (25 ms, 10 ms hop) louder than max(the utterance's loudest frame - RANGE_DB, its noise
floor + FLOOR_DB) are speech; speech runs closer than MERGE_MS join (the closure of a stop inside
a word, as in "foxtrot", is shorter than the pauses between words), and runs shorter than MIN_MS are
dropped. Each word's MFCCs (13, without c0, cepstral mean removed), resampled to N_STEPS frames,
are compared with those of the clean clips of TEMPLATE_SPEAKERS (training speakers only) of every
symbol; the symbol whose NEAREST templates are nearest on average is the word heard.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.fft import dct
from scipy.ndimage import uniform_filter1d

from ..data.codebook import Codebook
from ..data.speech import TRAIN_SPEAKERS, clip, words

WIN_MS, HOP_MS = 25.0, 10.0
RANGE_DB, FLOOR_DB = 35.0, 8.0
MERGE_MS, MIN_MS = 90.0, 60.0
N_MELS, N_CEPS = 26, 13
N_STEPS = 24  # frames a word is resampled to
NEAREST = 3   # a symbol's distance: the mean of its 3 nearest templates (one odd voice does not decide)
TEMPLATE_SPEAKERS = TRAIN_SPEAKERS


@functools.lru_cache(maxsize=4)
def _mel_bank(sr: int, n_fft: int) -> np.ndarray:
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = hz(np.linspace(mel(100), mel(min(7600, sr / 2)), N_MELS + 2))
    bins = np.fft.rfftfreq(n_fft, 1 / sr)
    bank = np.zeros((N_MELS, len(bins)))
    for i in range(N_MELS):
        lo, mid, hi = edges[i:i + 3]
        bank[i] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0, None)
    return bank


def frames_db(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(power spectra (frames, bins), frame levels in dB)."""
    win, hop = int(WIN_MS / 1000 * sr), int(HOP_MS / 1000 * sr)
    x = np.pad(np.asarray(x, np.float64), (0, max(0, win - len(x))))
    n = 1 + (len(x) - win) // hop
    idx = np.arange(win)[None] + hop * np.arange(n)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hamming(win), 512 if win <= 512 else win)) ** 2
    return spec, 10 * np.log10(spec.sum(1) + 1e-12)


def mfcc(spec: np.ndarray, sr: int) -> np.ndarray:
    n_fft = 2 * (spec.shape[1] - 1)
    logmel = np.log(spec @ _mel_bank(sr, n_fft).T + 1e-10)
    c = dct(logmel, type=2, axis=1, norm="ortho")[:, 1:N_CEPS + 1]
    return c - c.mean(0)


def normalised(c: np.ndarray) -> np.ndarray:
    """A word's MFCC frames resampled to N_STEPS (linear time normalisation) and flattened."""
    pos = np.linspace(0, len(c) - 1, N_STEPS)
    return np.stack([np.interp(pos, np.arange(len(c)), c[:, j]) for j in range(c.shape[1])], 1).ravel()


class SpeechEar:
    def __init__(self, codebook: Codebook):
        self.cb = codebook
        sr, table = codebook.sample_rate, words(codebook)
        self.symbols, self.templates = list(table), []  # TEMPLATE_SPEAKERS templates a symbol, in order
        for s, w in table.items():
            for spk in TEMPLATE_SPEAKERS:
                self.templates.append(normalised(mfcc(frames_db(clip(spk, w, sr), sr)[0], sr)))
        self.templates = np.stack(self.templates)

    def segments(self, audio: np.ndarray) -> list[tuple[int, int]]:
        """(first, last + 1) frame of each word."""
        spec, level = frames_db(audio, self.cb.sample_rate)
        level = uniform_filter1d(level, 3)
        floor = np.percentile(level, 10)
        speech = level > max(level.max() - RANGE_DB, floor + FLOOR_DB)
        runs, start = [], None
        for i, on in enumerate(np.append(speech, False)):
            if on and start is None:
                start = i
            elif not on and start is not None:
                runs.append([start, i])
                start = None
        merged = []
        for r in runs:
            if merged and (r[0] - merged[-1][1]) * HOP_MS < MERGE_MS:
                merged[-1][1] = r[1]
            else:
                merged.append(r)
        return [(a, b) for a, b in merged if (b - a) * HOP_MS >= MIN_MS]

    def transcribe(self, audio: np.ndarray) -> list[str]:
        if len(audio) == 0 or not np.any(audio):
            return []
        sr = self.cb.sample_rate
        spec, _ = frames_db(audio, sr)
        out = []
        for a, b in self.segments(audio):
            dist = ((self.templates - normalised(mfcc(spec[a:b], sr))) ** 2).sum(1)
            nearest = np.sort(dist.reshape(len(self.symbols), -1), 1)[:, :NEAREST].mean(1)
            out.append(self.symbols[int(np.argmin(nearest))])
        return out

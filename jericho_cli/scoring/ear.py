"""The scorer's ear: waveform -> symbols with no model, from the codebook alone.

1. Short-time spectra (20 ms Hann window, 5 ms hop). For every frame, the energy in each codebook
   frequency's decision band (bands split at geometric midpoints between neighbouring tones, so a
   +-1% jitter or a slightly-off model tone still lands in its own band).
2. Activity: a frame is a tone if its strongest band is above a threshold set between the file's
   noise floor and its peak (in dB), and above an absolute floor. Band-limited energy makes the
   detector ~25 dB more robust to white noise than a plain RMS envelope.
3. Segmentation: runs of active frames with the same per-frame label; runs shorter than
   `min_run_ms` are absorbed by a neighbour, gaps shorter than `min_gap_ms` are bridged when the
   label does not change, segments shorter than `min_tone_ms` are dropped.
4. Each segment's symbol is decided again over its whole duration (long FFT, fine resolution);
   a segment whose winning bands are not `min_tonality_db` denser than the rest is noise, not a tone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..data.codebook import Codebook


MAX_SEGMENT_S = 1  # seconds of a segment analysed for its symbol (the middle); bounds FFT size


@functools.lru_cache(maxsize=1024)
def _hann(n: int) -> np.ndarray:
    """np.hanning(n), made once per length (segments of a file repeat their lengths)."""
    w = np.hanning(n)
    w.flags.writeable = False
    return w


@dataclass(frozen=True)
class ScorerConfig:
    win_ms: float = 20.0
    hop_ms: float = 5.0
    n_fft: int = 1024
    min_tone_ms: float = 30.0   # shorter active stretches are clicks or leakage
    min_gap_ms: float = 15.0    # shorter dips inside one tone are bridged
    min_run_ms: float = 15.0    # shorter label flickers are absorbed by a neighbour
    floor_percentile: float = 20.0
    peak_percentile: float = 99.0
    abs_floor_db: float = -60.0  # dB relative to a full-scale sine's band energy
    min_contrast_db: float = 12.0
    threshold_frac: float = 0.3  # threshold = floor + frac * (peak - floor), in dB: tones vary by ~15 dB
    valley_db: float = 10.0      # a dip this deep between two louder stretches separates tones
    valley_ms: float = 50.0
    min_tonality_db: float = 12.0  # a tone's own bands must stand this far above the rest (density)


@dataclass
class Segment:
    symbol: str
    start: float  # seconds
    end: float
    tonality_db: float  # power density in the winning bands over the density elsewhere


class Scorer:
    def __init__(self, codebook: Codebook, config: ScorerConfig | None = None):
        self.cb = codebook
        self.cfg = config or ScorerConfig()
        sr = codebook.sample_rate
        self.win = int(round(self.cfg.win_ms * sr / 1000))
        self.hop = int(round(self.cfg.hop_ms * sr / 1000))
        self.freqs, self.lo, self.hi = codebook.band_edges()
        self.syms = codebook.alphabet
        # symbol -> which distinct-frequency bands it sums (DTMF-like codebooks use two)
        self.sym_bands = np.zeros((len(self.syms), len(self.freqs)))
        for i, s in enumerate(self.syms):
            for f in codebook.symbols[s]:
                self.sym_bands[i, int(np.argmin(np.abs(self.freqs - f)))] = 1.0 / len(codebook.symbols[s])
        self._bands_cache: dict[int, np.ndarray] = {}
        self.frame_bands = self._band_matrix(self.cfg.n_fft)
        # reference: band energy of a full-scale sine in one frame
        window = np.hanning(self.win)
        self.ref_energy = (np.sum(window) / 2) ** 2

    def _band_matrix(self, n_fft: int) -> np.ndarray:
        """(bands, bins) membership for an FFT size; cached, since every segment asks for one."""
        if n_fft not in self._bands_cache:
            self._bands_cache[n_fft] = self._make_band_matrix(n_fft)
        return self._bands_cache[n_fft]

    def _make_band_matrix(self, n_fft: int) -> np.ndarray:
        bins = np.fft.rfftfreq(n_fft, 1 / self.cb.sample_rate)
        m = (bins[None, :] >= self.lo[:, None]) & (bins[None, :] < self.hi[:, None])
        # a band narrower than a bin still gets its nearest bin
        for k in np.where(~m.any(axis=1))[0]:
            m[k, int(np.argmin(np.abs(bins - self.freqs[k])))] = True
        return m.astype(np.float64)

    def band_energies(self, audio: np.ndarray, block: int = 2048) -> np.ndarray:
        """(frames, symbols) band energy per 5 ms frame; computed `block` frames at a time, so memory
        stays bounded (a few MB) however long the file is."""
        x = np.pad(np.asarray(audio, dtype=np.float64), (self.win // 2, self.win // 2))
        n = 1 + max(0, (len(x) - self.win) // self.hop)
        window = _hann(self.win)
        out = np.empty((n, len(self.syms)))
        frames = sliding_window_view(x, self.win)[::self.hop]  # a view: no copy of the frames
        for s in range(0, n, block):
            m = min(block, n - s)
            power = np.abs(np.fft.rfft(frames[s:s + m] * window, n=self.cfg.n_fft, axis=1)) ** 2
            out[s:s + m] = (power @ self.frame_bands.T) @ self.sym_bands.T
        return out

    def _segment_symbol(self, audio: np.ndarray, a: int, b: int) -> tuple[int, float]:
        trim = int(0.2 * (b - a))  # skip onsets/offsets, where the spectrum is widest
        seg = audio[a + trim: b - trim] if b - a - 2 * trim > 32 else audio[a:b]
        cap = self.cb.sample_rate * MAX_SEGMENT_S  # a minute-long tone needs no minute-long FFT
        if len(seg) > cap:
            mid = len(seg) // 2
            seg = seg[mid - cap // 2: mid + cap // 2]
        n_fft = int(2 ** np.ceil(np.log2(max(4 * len(seg), 1024))))
        power = np.abs(np.fft.rfft(seg * _hann(len(seg)), n=n_fft)) ** 2
        bands = self._band_matrix(n_fft)
        scores = (bands @ power) @ self.sym_bands.T
        k = int(np.argmax(scores))
        # tonality: power density inside the winner's bands over the density everywhere else
        mask = (self.sym_bands[k] > 0) @ bands > 0
        inside = power[mask].sum() / mask.sum()
        outside = power[~mask].sum() / max(1, (~mask).sum())
        return k, float(10 * np.log10((inside + 1e-30) / (outside + 1e-30)))

    def segments(self, audio: np.ndarray) -> list[Segment]:
        cfg, sr = self.cfg, self.cb.sample_rate
        E = self.band_energies(audio)
        if E.shape[0] == 0:
            return []
        label = np.argmax(E, axis=1)
        level = 10 * np.log10(E.max(axis=1) / self.ref_energy + 1e-30)
        floor = np.percentile(level, cfg.floor_percentile)
        peak = np.percentile(level, cfg.peak_percentile)
        thr = cfg.abs_floor_db
        if peak - floor >= cfg.min_contrast_db:
            thr = max(thr, floor + cfg.threshold_frac * (peak - floor))
        # a dip of valley_db below the loudest frame on both sides (within valley_ms) is a gap even
        # when reverberation or a model's leakage keeps it above the threshold; valley_ms is shorter
        # than a tone, so a quiet tone next to a loud one is not mistaken for a gap
        w = int(round(cfg.valley_ms / cfg.hop_ms))
        padded = np.pad(level, w, constant_values=-np.inf)
        win = np.lib.stride_tricks.sliding_window_view(padded, w)
        left_max, right_max = win[:len(level)].max(axis=1), win[w + 1:w + 1 + len(level)].max(axis=1)
        valley = (level < left_max - cfg.valley_db) & (level < right_max - cfg.valley_db)
        active = (level > thr) & ~valley
        frames_per_ms = 1.0 / cfg.hop_ms
        runs = _runs(np.where(active, label, -1))
        runs = _absorb_short(runs, int(round(cfg.min_run_ms * frames_per_ms)))
        runs = _bridge(runs, int(round(cfg.min_gap_ms * frames_per_ms)))
        min_len = int(round(cfg.min_tone_ms * frames_per_ms))
        out, audio64 = [], np.asarray(audio, np.float64)  # converted once, not once per segment
        for lab, s, e in runs:
            if lab < 0 or e - s < min_len:
                continue
            a, b = s * self.hop, min(len(audio), e * self.hop)
            k, tonality = self._segment_symbol(audio64, a, b)
            if tonality >= cfg.min_tonality_db:  # broadband noise is not a tone
                out.append(Segment(self.syms[k], a / sr, b / sr, tonality))
        return out

    def transcribe(self, audio: np.ndarray) -> list[str]:
        return [s.symbol for s in self.segments(audio)]


def _runs(labels: np.ndarray) -> list[list[int]]:
    """[label, start, end) runs of equal labels."""
    if len(labels) == 0:
        return []
    cut = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [len(labels)]])
    return [[int(labels[s]), int(s), int(e)] for s, e in zip(starts, ends)]


def _merge_equal(runs):
    out = []
    for r in runs:
        if out and out[-1][0] == r[0]:
            out[-1][2] = r[2]
        else:
            out.append(list(r))
    return out


def _absorb_short(runs, min_len: int):
    """Active runs shorter than min_len that touch another active run join the longer neighbour."""
    runs = [list(r) for r in runs]
    changed = True
    while changed:
        changed = False
        for i, (lab, s, e) in enumerate(runs):
            if lab < 0 or e - s >= min_len:
                continue
            nbrs = [runs[j] for j in (i - 1, i + 1) if 0 <= j < len(runs) and runs[j][0] >= 0]
            if nbrs:
                runs[i][0] = max(nbrs, key=lambda r: r[2] - r[1])[0]
                changed = True
        runs = _merge_equal(runs)
    return runs


def _bridge(runs, max_gap: int):
    """Silent gaps shorter than max_gap between two runs of the same label are filled."""
    out = []
    for i, r in enumerate(runs):
        if (r[0] < 0 and r[2] - r[1] < max_gap and 0 < i < len(runs) - 1
                and runs[i - 1][0] == runs[i + 1][0] >= 0):
            r = [runs[i - 1][0], r[1], r[2]]
        out.append(list(r))
    return _merge_equal(out)

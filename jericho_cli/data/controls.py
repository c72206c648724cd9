"""Negative controls: inputs that keep or destroy what a model should listen to.

- phase_scramble: same STFT magnitude, random phase (a model that hears spectra should not care);
- silence / noise: nothing to hear (the model must not crash; what it answers is reported).
Answers shuffled across examples (training control) live in `jericho train` (train.control).
"""

from __future__ import annotations

import numpy as np
import torch

CONTROLS = ("phase_scramble", "silence", "noise")


def phase_scramble(y: np.ndarray, rng: np.random.Generator, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    x = torch.from_numpy(np.asarray(y, np.float32))
    w = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop, window=w, return_complex=True)
    phase = torch.from_numpy(rng.uniform(-np.pi, np.pi, spec.shape).astype(np.float32))
    out = torch.istft(spec.abs() * torch.exp(1j * phase), n_fft, hop, window=w, length=len(y))
    return out.numpy().astype(np.float32)


def apply_control(kind: str, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if kind == "phase_scramble":
        return phase_scramble(y, rng)
    if kind == "silence":
        return np.zeros_like(y)
    if kind == "noise":
        rms = float(np.sqrt(np.mean(y ** 2))) or 0.1
        return (rng.standard_normal(len(y)) * rms).astype(np.float32)
    raise ValueError(f"unknown control {kind!r} ({', '.join(CONTROLS)})")

"""Spectral front end and the fixed differentiable inverse (torch.stft / istft, no torchaudio).

torchaudio has no CPU build on PyPI that imports beside the CPU torch here (its wheels need
libc10_cuda), so the mel filterbank and Griffin-Lim are written on torch.stft directly.
"""

from __future__ import annotations

import math

import torch


def hz_to_mel(f):
    return 2595.0 * math.log10(1.0 + f / 700.0)


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: int, fmin: float = 0.0, fmax: float | None = None):
    """HTK-style triangular filters, (n_bins, n_mels), as torchaudio's melscale_fbanks(norm=None)."""
    fmax = fmax or sample_rate / 2
    bins = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    mels = torch.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2, dtype=torch.float64)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    lo, mid, hi = hz[:-2], hz[1:-1], hz[2:]
    up = (bins[:, None] - lo[None]) / (mid - lo)[None]
    down = (hi[None] - bins[:, None]) / (hi - mid)[None]
    return torch.clamp(torch.minimum(up, down), min=0).float()


class Spectral(torch.nn.Module):
    """STFT geometry shared by the front end, the target frames and the inverse."""

    def __init__(self, n_fft: int = 512, hop: int = 160, win: int = 400, sample_rate: int = 16000,
                 n_mels: int = 64, log_floor: float = 1e-4):
        super().__init__()
        self.n_fft, self.hop, self.win, self.sample_rate, self.log_floor = n_fft, hop, win, sample_rate, log_floor
        self.register_buffer("window", torch.hann_window(win), persistent=False)
        self.register_buffer("mel", mel_filterbank(n_mels, n_fft, sample_rate), persistent=False)

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def frames(self, n_samples: int) -> int:
        return n_samples // self.hop + 1

    def stft(self, wave: torch.Tensor) -> torch.Tensor:
        """(b, n) -> complex (b, frames(n), bins). The right edge sees zeros, not torch.stft's reflection:
        in a zero-padded batch only the longest utterance would be reflected, so an utterance's frames
        would depend on its batch mates (decode batch size, data-parallel shards)."""
        frames = self.frames(wave.shape[-1])
        wave = torch.nn.functional.pad(wave, (0, self.n_fft // 2))
        spec = torch.stft(wave, self.n_fft, self.hop, self.win, self.window, center=True, return_complex=True)
        return spec[..., :frames].transpose(1, 2)

    def log_mag(self, wave):
        return torch.log(self.stft(wave).abs() + self.log_floor)

    def log_mel(self, wave):
        return torch.log(self.stft(wave).abs() @ self.mel + self.log_floor)

    def istft(self, spec: torch.Tensor, length: int | None = None) -> torch.Tensor:
        return torch.istft(spec.transpose(1, 2), self.n_fft, self.hop, self.win, self.window, center=True,
                           length=length)

    def griffin_lim(self, mag: torch.Tensor, n_iter: int = 32, momentum: float = 0.99) -> torch.Tensor:
        """Magnitude (b, frames, bins) -> waveform; fast Griffin-Lim, zero-phase start (deterministic)."""
        length = (mag.shape[1] - 1) * self.hop
        spec = mag.to(torch.complex64)
        prev = torch.zeros_like(spec)
        for _ in range(n_iter):
            rebuilt = self.stft(self.istft(spec, length))
            accel = rebuilt - (momentum / (1 + momentum)) * prev if momentum else rebuilt
            prev = rebuilt
            spec = mag * accel / (accel.abs() + 1e-8)
        return self.istft(spec, length)

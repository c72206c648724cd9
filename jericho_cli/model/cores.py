"""Baseline sequence cores for the same harness (issue #11): LSTM, S4D and Hyena blocks.

Each block is pre-norm and residual, takes (x (b, t, d), positions) like the SSD and attention blocks,
and is causal, so any `model.layers` list can mix them. Our own code: no maintained package offers
S4D or Hyena as a plain PyTorch module without CUDA extensions (state-spaces/s4 and safari are
research repositories), and torch.nn.LSTM is the LSTM.
- S4D (Gu et al. 2022, "On the Parameterization and Initialization of Diagonal State Space Models"):
  diagonal complex A with S4D-Lin initialisation, zero-order-hold discretisation, a causal FFT
  convolution for whole sequences and the equivalent recurrence for streaming (`step`).
- Hyena (Poli et al. 2023), order 2: projections v, x1, x2, short depthwise convolutions, implicit
  long filters (a small MLP on sinusoidal time features times an exponential decay window) applied
  by causal FFT convolution, gated: y = x2 * (h2 * (x1 * (h1 * v))).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def causal_fft_conv(u: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """y[t] = sum_{s<=t} k[s] u[t-s] for u (b, t, c) and kernel k (t, c), in O(t log t)."""
    t = u.shape[1]
    n = 2 * t
    y = torch.fft.irfft(torch.fft.rfft(u.float(), n, dim=1) * torch.fft.rfft(k.float(), n, dim=0), n, dim=1)
    return y[:, :t].to(u.dtype)


class LSTMBlock(nn.Module):
    def __init__(self, d_model: int):
        super().__init__()
        self.norm = nn.RMSNorm(d_model)
        self.lstm = nn.LSTM(d_model, d_model, batch_first=True)

    def forward(self, x, pos=None):
        return x + self.lstm(self.norm(x))[0]

    def step(self, x_t, state, pos_t=None, window=None):
        y, state = self.lstm(self.norm(x_t)[:, None], state)
        return x_t + y[:, 0], state


class S4DKernel(nn.Module):
    """Diagonal SSM x' = A x + B u, y = Re(C x) per channel, N/2 complex modes (S4D-Lin)."""

    def __init__(self, channels: int, d_state: int = 32, dt_min: float = 1e-3, dt_max: float = 1e-1):
        super().__init__()
        n = d_state // 2
        self.log_dt = nn.Parameter(torch.rand(channels) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.log_neg_re = nn.Parameter(torch.log(0.5 * torch.ones(channels, n)))  # Re(A) = -0.5
        self.im = nn.Parameter(math.pi * torch.arange(n).float().expand(channels, -1).clone())  # Im(A) = pi n
        self.C = nn.Parameter(torch.randn(channels, n, 2) * math.sqrt(0.5))
        self.D = nn.Parameter(torch.randn(channels))

    def discrete(self):
        """(dt A, C (exp(dt A) - 1) / A) per channel and mode: zero-order hold with B = 1."""
        A = torch.complex(-torch.exp(self.log_neg_re), self.im)
        dtA = A * torch.exp(self.log_dt)[:, None]
        return dtA, torch.view_as_complex(self.C) * (torch.exp(dtA) - 1) / A

    def kernel(self, length: int) -> torch.Tensor:
        dtA, CB = self.discrete()
        powers = torch.exp(dtA[..., None] * torch.arange(length, device=dtA.device))  # (c, n, l)
        return 2 * torch.einsum("cn,cnl->lc", CB, powers).real  # conjugate pairs: twice the real part


class S4DBlock(nn.Module):
    def __init__(self, d_model: int, d_state: int = 32):
        super().__init__()
        self.norm = nn.RMSNorm(d_model)
        self.ssm = S4DKernel(d_model, d_state)
        self.out = nn.Linear(d_model, 2 * d_model)

    def _mix(self, x, y):
        return x + F.glu(self.out(F.gelu(y)), dim=-1)

    def forward(self, x, pos=None):
        u = self.norm(x)
        y = causal_fft_conv(u, self.ssm.kernel(u.shape[1])) + u * self.ssm.D
        return self._mix(x, y)

    def init_state(self, batch: int, device=None):
        return torch.zeros(batch, *self.ssm.C.shape[:2], dtype=torch.complex64, device=device)

    def step(self, x_t, state, pos_t=None, window=None):
        """One step of the recurrence that the convolution computes: x_t (b, d) -> y_t, new state."""
        dtA, CB = self.ssm.discrete()
        u = self.norm(x_t)
        if state is None:
            state = self.init_state(len(x_t), x_t.device)
        state = torch.exp(dtA) * state + u[..., None].to(state.dtype)
        y = 2 * (CB * state).sum(-1).real + u * self.ssm.D
        return self._mix(x_t, y), state


class ImplicitFilter(nn.Module):
    """Long convolution filter h[t] (t, c) = MLP(sinusoids of t) * exp(-decay * t / length)."""

    def __init__(self, channels: int, n_freqs: int = 8, width: int = 32):
        super().__init__()
        self.n_freqs = n_freqs
        self.mlp = nn.Sequential(nn.Linear(2 * n_freqs + 1, width), nn.GELU(), nn.Linear(width, width), nn.GELU(),
                                 nn.Linear(width, channels))
        self.decay = nn.Parameter(torch.linspace(math.log(1.0), math.log(30.0), channels))

    def forward(self, length: int, device) -> torch.Tensor:
        t = torch.arange(length, device=device).float()[:, None]
        f = torch.arange(1, self.n_freqs + 1, device=device).float()[None]
        z = torch.cat([t / max(length, 1), torch.sin(2 * math.pi * f * t / 512), torch.cos(2 * math.pi * f * t / 512)], -1)
        window = torch.exp(-torch.exp(self.decay)[None] * t / 512)
        return self.mlp(z) * window


class HyenaBlock(nn.Module):
    def __init__(self, d_model: int, short: int = 3):
        super().__init__()
        self.norm = nn.RMSNorm(d_model)
        self.proj = nn.Linear(d_model, 3 * d_model)
        self.short = nn.Conv1d(3 * d_model, 3 * d_model, short, groups=3 * d_model, padding=short - 1)
        self.filters = nn.ModuleList([ImplicitFilter(d_model), ImplicitFilter(d_model)])
        self.bias = nn.Parameter(torch.zeros(2, d_model))
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x, pos=None):
        t = x.shape[1]
        z = self.proj(self.norm(x))
        z = self.short(z.transpose(1, 2))[..., :t].transpose(1, 2)
        v, x1, x2 = z.chunk(3, -1)
        for gate, filt, bias in ((x1, self.filters[0], self.bias[0]), (x2, self.filters[1], self.bias[1])):
            v = gate * (causal_fft_conv(v, filt(t, x.device)) + v * bias)
        return x + self.out(v)

    def step(self, x_t, state, pos_t=None, window=None):
        raise ValueError("Hyena's implicit filters span the whole sequence: no bounded-memory streaming")

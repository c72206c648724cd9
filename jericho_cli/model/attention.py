"""Causal multi-head self-attention (full or sliding-window) with rotary positions, plus an MLP."""

from __future__ import annotations

import functools

import torch
import torch.nn as nn
import torch.nn.functional as F


ROTARY_BASE = 10000.0


@functools.lru_cache(maxsize=64)
def _inv_freq(d: int, base: float, device: torch.device) -> torch.Tensor:
    return base ** (-torch.arange(0, d, 2, device=device, dtype=torch.float32) / d)


def rotary(x: torch.Tensor, pos: torch.Tensor, base: float = ROTARY_BASE) -> torch.Tensor:
    """Rotate pairs of channels of x (b, heads, t, d) by angles pos * base^(-2i/d); pos (b, t)."""
    ang = pos.float()[:, None, :, None] * _inv_freq(x.shape[-1], base, x.device)  # (b, 1, t, d/2)
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


def windowed_attention(q, k, v, window: int, sink=None):
    """Causal attention where step i sees steps i - window + 1 .. i (and the sink's key/value, if
    given, (b, h, 1, d) each), in time and memory linear in t: queries go in blocks of `window`
    steps, each against its own block and the one before, so no (t, t) mask is ever built."""
    b, h, t, d = q.shape
    if window >= t and sink is None:  # the window covers everything: plain causal attention
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    w = min(window, t)
    nb = -(-t // w)
    pad = nb * w - t  # zeros after the end: causal, so no earlier step sees them
    q, k, v = (F.pad(x, (0, 0, 0, pad)) for x in (q, k, v))
    k, v = (F.pad(x, (0, 0, w, 0)) for x in (k, v))  # one empty block before the first
    blocks = lambda x: x.view(b, h, nb + 1, w, d)  # noqa: E731
    kb, vb = blocks(k), blocks(v)
    kb, vb = torch.cat([kb[:, :, :-1], kb[:, :, 1:]], 3), torch.cat([vb[:, :, :-1], vb[:, :, 1:]], 3)
    qb = q.view(b, h, nb, w, d)
    i, j = torch.arange(w, device=q.device)[:, None], torch.arange(2 * w, device=q.device)[None]
    mask = ((j > i) & (j <= i + w)).expand(nb, w, 2 * w).clone()  # key j of (previous, own) block
    mask[0, :, :w] = False  # before the first step: nothing
    if sink is not None:  # the sink's key/value come first in every block, always visible
        kb = torch.cat([sink[0][:, :, None].expand(-1, -1, nb, -1, -1), kb], 3)
        vb = torch.cat([sink[1][:, :, None].expand(-1, -1, nb, -1, -1), vb], 3)
        mask = torch.cat([torch.ones(nb, w, 1, dtype=torch.bool, device=q.device), mask], 2)
    flat = lambda x: x.transpose(1, 2).reshape(b * nb, h, x.shape[3], d)  # noqa: E731
    y = F.scaled_dot_product_attention(flat(qb), flat(kb), flat(vb), attn_mask=mask.repeat(b, 1, 1)[:, None])
    return y.view(b, nb, h, w, d).transpose(1, 2).reshape(b, h, nb * w, d)[:, :, :t]


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int = 4, window: int | None = None, sink: bool = False):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be a multiple of n_heads={n_heads}")
        self.n_heads, self.window = n_heads, window
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        # An attention sink: one learned key/value per head, unrotated, that every query can attend
        # to. An answer step whose aligned input step does not exist (past the input's end) then
        # has somewhere to put its attention other than the nearest rotary alias.
        self.sink = nn.Parameter(torch.randn(2, n_heads, d_model // n_heads) * 0.02) if sink else None

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        q, k = rotary(q, pos), rotary(k, pos)
        if self.sink is not None:  # the sink becomes step 0 of keys and values; a dummy query 0 is dropped
            sk, sv = (s[None, :, None].expand(b, -1, 1, -1).to(q.dtype) for s in self.sink)
            q, k, v = torch.cat([torch.zeros_like(sk), q], 2), torch.cat([sk, k], 2), torch.cat([sv, v], 2)
        # causal in sequence order (positions may restart). Without a window, is_causal lets SDPA's
        # fused kernels run in memory linear in t; a (t, t) mask would be 14 GB at 10 minutes.
        if self.window:
            y = windowed_attention(q[:, :, -t:], k[:, :, -t:], v[:, :, -t:], self.window,
                                   None if self.sink is None else (k[:, :, :1], v[:, :, :1]))
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)[:, :, -t:]
        return self.out(y.transpose(1, 2).reshape(b, t, d))

    def new_cache(self, window: int | None = None) -> "KVCache":
        """The cache of a stream: the last `window` steps, or this layer's own window, or all."""
        return KVCache(min(w for w in (window, self.window) if w) if (window or self.window) else None)

    def step(self, x_t: torch.Tensor, pos_t: torch.Tensor, cache, window: int | None = None):
        """One step for streaming: x_t (b, d), pos_t (b,), cache a KVCache of earlier steps (None at the
        first step: one is made keeping the last `window` steps, or this layer's own window, or all).
        Returns y_t and the cache."""
        b, d = x_t.shape
        qkv = self.qkv(x_t).view(b, 3, self.n_heads, 1, d // self.n_heads)
        qk = rotary(qkv[:, :2].reshape(b, 2 * self.n_heads, 1, -1), pos_t[:, None])  # q and k: one rotation
        q, k = qk.view(b, 2, self.n_heads, 1, -1).unbind(1)
        cache = cache or self.new_cache(window)
        keys, values = cache.add(k, qkv[:, 2])
        if self.sink is not None:
            sk, sv = (s[None, :, None].expand(b, -1, 1, -1).to(q.dtype) for s in self.sink)
            keys, values = torch.cat([sk, keys], 2), torch.cat([sv, values], 2)
        y = F.scaled_dot_product_attention(q, keys, values)
        return self.out(y.reshape(b, d)), cache


class KVCache:
    """Keys (rotary applied) and values of the steps a streaming attention layer sees: a ring of the
    last `window` steps (attention ignores the order of keys, so the ring is never rotated), or with
    no window a buffer that doubles when full. Writes in place: no copy of the cache per step."""

    def __init__(self, window: int | None = None):
        self.window, self.n = window, 0
        self.keys = self.values = None

    def reserve(self, like: torch.Tensor, heads: int, head_dim: int) -> tuple[int, int]:
        """Make room for one more step (batch and dtype of `like`): its slot, and how many slots hold
        steps to attend to, that one included."""
        if self.keys is None:
            size = self.window or 64
            self.keys = like.new_zeros(len(like), heads, size, head_dim)
            self.values = like.new_zeros(len(like), heads, size, head_dim)
        elif self.window is None and self.n == self.keys.shape[2]:
            self.keys, self.values = (torch.cat([c, torch.zeros_like(c)], 2) for c in (self.keys, self.values))
        self.n += 1
        return (self.n - 1) % self.keys.shape[2], min(self.n, self.keys.shape[2])

    def add(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append one step's k, v (b, h, 1, d); returns the keys and values to attend to (views)."""
        i, m = self.reserve(k, k.shape[1], k.shape[-1])
        self.keys[:, :, i:i + 1] = k
        self.values[:, :, i:i + 1] = v
        return self.keys[:, :, :m], self.values[:, :, :m]

    def nbytes(self) -> int:
        return 0 if self.keys is None else 2 * self.keys.numel() * self.keys.element_size()


class MLP(nn.Module):
    def __init__(self, d_model: int, ratio: float = 2.0):
        super().__init__()
        hidden = int(d_model * ratio)
        self.fc1, self.fc2 = nn.Linear(d_model, hidden, bias=False), nn.Linear(hidden, d_model, bias=False)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))

"""Mamba-2 SSD layer in pure PyTorch, with mamba-ssm's `Mamba2` parameterization.

Same parameter names and shapes as `mamba_ssm.modules.mamba2.Mamba2` (ngroups, no MLP branch):
in_proj -> [z | xBC | dt], depthwise causal conv1d over xBC, dt_bias, A_log, D, gated RMSNorm
(`norm.weight`, gate first: rmsnorm(y * silu(z)) * w, per group), out_proj. So a state dict moves
between this module and mamba-ssm's. The scan is the chunked SSD algorithm (quadratic inside a
chunk, a linear recurrence across chunks); `ssd_recurrent` is the step-by-step reference and
`Mamba2Layer.step` the streaming form. Which scan runs:
- CUDA with mamba-ssm installed: its Triton kernel (same maths, same weights);
- CPU, float32: the recurrence and the causal conv in compiled C (cpu_kernels.py, scan.c), which on a
  CPU beats any chunked form: O(L P N) work a head in a few operations, no chunk-length factor;
- otherwise (float64, no C compiler, `JERICHO_SCAN=torch`): `ssd_chunked`, the chunked scan in few,
  large PyTorch operations, with the chunk length chosen for the sequence on the CPU.
`ssd_chunked_reference` is the same chunked scan written as the maths reads (mamba-ssm's
`ssd_minimal` style); the tests hold every path to the recurrence.

Options beyond mamba-ssm (each keeps every Mamba2 key; LTI adds `B_lti`/`C_lti`):
- `lti=True`: dt, B, C do not depend on the input (Mamba paper's "Mamba-S4" for layers near audio).
- `neg_eig=True`: transition a_t = 2 exp(dt A) - 1 in (-1, 1] instead of (0, 1] (Grazzi et al.),
  computed as log|a| with the sign tracked as a parity inside the chunked scan.
- `integrators=k`: the first k heads' decay is pinned at 1 (A_log held at INTEGRATOR_A_LOG, where
  exp(dt A) is 1 in float32): an exact running sum of dt x B, a counter that does not leak, so it holds
  depths and counts the training lengths never reached. Stored as an ordinary A_log: mamba-ssm reads it.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cpu_kernels


# exp(A_log) ~ 4e-18: dt * A underflows against 1, so exp(dt A) == 1.0 exactly in float32 and float64
INTEGRATOR_A_LOG = -40.0


def _acc(dtype: torch.dtype) -> torch.dtype:
    return torch.promote_types(dtype, torch.float32)


def _decay_logs(dt: torch.Tensor, A: torch.Tensor, neg_eig: bool):
    """Per-step log|a_t| and sign parity (0/1) of a_t = exp(dt A) or 2 exp(dt A) - 1."""
    la = dt * A  # (..., h), <= 0
    if not neg_eig:
        return la, None
    a = 2 * torch.exp(la) - 1
    return torch.log(a.abs().clamp_min(1e-26)), (a < 0).to(la.dtype)


def _transitions(dt: torch.Tensor, A: torch.Tensor, neg_eig: bool) -> torch.Tensor:
    """a_t = exp(dt A) in (0, 1], or 2 exp(dt A) - 1 in (-1, 1] with negative eigenvalues."""
    a = torch.exp(dt * A)
    return 2 * a - 1 if neg_eig else a


def ssd_recurrent(x, dt, A, B, C, D=None, initial_state=None, neg_eig=False):
    """Reference: S_t = a_t S_{t-1} + dt_t x_t B_t^T, y_t = S_t C_t + D x_t (one step at a time).

    x (b,l,h,p), dt (b,l,h) already positive, A (h,), B/C (b,l,g,n). Returns y, final state (b,h,p,n).
    """
    b, l, h, p = x.shape
    g = B.shape[2]
    Bh = B.repeat_interleave(h // g, dim=2)
    Ch = C.repeat_interleave(h // g, dim=2)
    a = _transitions(dt, A, neg_eig)
    S = x.new_zeros(b, h, p, B.shape[-1]) if initial_state is None else initial_state
    ys = []
    for t in range(l):
        S = a[:, t, :, None, None] * S + (dt[:, t, :, None] * x[:, t])[..., None] * Bh[:, t, :, None, :]
        ys.append(torch.einsum("bhpn,bhn->bhp", S, Ch[:, t]))
    y = torch.stack(ys, 1)
    if D is not None:
        y = y + D[:, None] * x if D.dim() == 2 else y + D[None, None, :, None] * x
    return y, S


MATRIX_CHUNKS = 32  # up to this many chunks their states are combined by one matrix, beyond by a loop


def auto_chunk(length: int, limit: int) -> int:
    """The chunk length for a sequence on the CPU. The work inside a chunk grows with Q per step (Q x Q
    elementwise arrays dominate on a CPU, not the matrix products), the work across chunks with L / Q,
    so: a power of two near sqrt(L), from 16 to at most 64 and `limit`."""
    q = 16
    while q < min(limit, 64) and q * q < length:
        q *= 2
    return min(q, limit)


def _segsum_exp(cum: torch.Tensor) -> torch.Tensor:
    """exp(cum_i - cum_j) for j <= i, 0 above the diagonal, over the last dim: (..., Q) -> (..., Q, Q).
    Masked before the exp, so no inf reaches the backward pass."""
    q = cum.shape[-1]
    seg = cum[..., :, None] - cum[..., None, :]
    causal = torch.ones(q, q, dtype=torch.bool, device=cum.device).tril()
    return torch.exp(seg.masked_fill(~causal, float("-inf")))


def _pad_to_chunks(x, dt, B, C, Q: int):
    """Pad the time axis to whole chunks with dt = 0 (a = 1, no input: outputs and final state are
    unchanged); returns the padded inputs and the number of chunks."""
    pad = (-x.shape[1]) % Q
    if pad:
        x, dt = F.pad(x, (0, 0, 0, 0, 0, pad)), F.pad(dt, (0, 0, 0, pad))
        B, C = F.pad(B, (0, 0, 0, 0, 0, pad)), F.pad(C, (0, 0, 0, 0, 0, pad))
    return x, dt, B, C, x.shape[1] // Q


def ssd_chunked(x, dt, A, B, C, chunk_size: int = 64, D=None, initial_state=None, neg_eig=False):
    """Chunked SSD, the fast form of `ssd_chunked_reference` (same maths, same inputs and outputs).

    Heads are laid out (group g, head in group r) so that C B^T, which heads of one group share, is
    computed once per group, and every contraction is one batched matmul on contiguous operands.
    With [-1, 1] eigenvalues the sign of a product of transitions is s_i s_j with s = (-1)^(number of
    negative transitions so far), so signs fold into the inputs and outputs instead of Q x Q masks.
    The chunks' states are combined by one matrix over chunks (a loop beyond MATRIX_CHUNKS).
    """
    b, l, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    r = h // g
    Q = chunk_size
    x, dt, B, C, c = _pad_to_chunks(x, dt, B, C, Q)
    la, par = _decay_logs(dt, A, neg_eig)                                   # (b, L, h)
    cum = torch.cumsum(la.reshape(b, c, Q, g, r).permute(0, 3, 4, 1, 2), -1)  # (b, g, r, c, Q)
    xdt = (x * dt[..., None]).reshape(b, c, Q, g, r, p).permute(0, 3, 4, 1, 2, 5)  # (b, g, r, c, Q, p)
    if neg_eig:
        pc = torch.cumsum(par.reshape(b, c, Q, g, r).permute(0, 3, 4, 1, 2), -1)
        s = 1 - 2 * torch.remainder(pc, 2)                                  # (-1)^(negatives up to i)
        xdt = xdt * s[..., None]
    Bg = B.reshape(b, c, Q, g, n).permute(0, 3, 1, 2, 4)                    # (b, g, c, Q, n)
    Cg = C.reshape(b, c, Q, g, n).permute(0, 3, 1, 2, 4)
    # within a chunk: y_i = sum_{j<=i} (C_i . B_j) exp(cum_i - cum_j) dt_j x_j
    CB = Cg @ Bg.transpose(-1, -2)                                          # (b, g, c, Q, Q)
    y = (_segsum_exp(cum) * CB[:, :, None]) @ xdt                           # (b, g, r, c, Q, p)
    # each chunk's contribution to the state at its end, then the states entering each chunk
    to_end = torch.exp(cum[..., -1:] - cum)                                 # (b, g, r, c, Q)
    states = (xdt * to_end[..., None]).transpose(-1, -2) @ Bg[:, :, None]   # (b, g, r, c, p, n)
    chunk_cum = cum[..., -1]                                                # (b, g, r, c)
    if neg_eig:
        chunk_sign = s[..., -1]
        states = states * chunk_sign[..., None, None]  # signs measured from the chunk's end
    S0 = x.new_zeros(b, h, p, n) if initial_state is None else initial_state
    S0 = S0.reshape(b, g, r, 1, p, n)
    if c <= MATRIX_CHUNKS:  # one (c+1) x (c+1) matrix over the chunks: few, large operations
        states = torch.cat([S0.to(states.dtype), states], dim=3)            # (b, g, r, c+1, p, n)
        decay = _segsum_exp(torch.cumsum(F.pad(chunk_cum, (1, 0)), -1))     # (b, g, r, c+1, c+1)
        if neg_eig:
            cs = torch.cumprod(F.pad(chunk_sign, (1, 0), value=1.0), -1)   # sign over chunks 1..k
            decay = decay * cs[..., :, None] * cs[..., None, :]
        mixed = (decay @ states.flatten(-2)).unflatten(-1, (p, n))          # (b, g, r, c+1, p, n)
        S_in, S_final = mixed[:, :, :, :-1], mixed[:, :, :, -1]
    else:  # many chunks: that matrix grows as c^2, a step per chunk as c
        chunk_decay = torch.exp(chunk_cum) * (chunk_sign if neg_eig else 1.0)
        S, entering = S0[:, :, :, 0].to(states.dtype), []
        for k in range(c):
            entering.append(S)
            S = chunk_decay[..., k, None, None] * S + states[:, :, :, k]
        S_in, S_final = torch.stack(entering, 3), S
    # the entering state, decayed to step i and read by C_i
    y_in = (Cg[:, :, None] @ S_in.transpose(-1, -2)) * torch.exp(cum)[..., None]  # (b, g, r, c, Q, p)
    y = y + y_in
    if neg_eig:  # both terms carry the sign of the transitions from the chunk's start to step i
        y = y * s[..., None]
    y = y.permute(0, 3, 4, 1, 2, 5).reshape(b, c * Q, h, p)[:, :l]
    if D is not None:
        y = y + D[None, None, :, None] * x[:, :l] if D.dim() == 1 else y + D * x[:, :l]
    return y, S_final.reshape(b, h, p, n)


def ssd_chunked_reference(x, dt, A, B, C, chunk_size: int = 64, D=None, initial_state=None, neg_eig=False):
    """Chunked SSD written as the maths reads (mamba-ssm's `ssd_minimal` style: per-head einsums, a
    loop over chunks), kept as the reference the tests compare `ssd_chunked` with. Same inputs/outputs as `ssd_recurrent`."""
    b, l, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    Q = chunk_size
    x, dt, B, C, c = _pad_to_chunks(x, dt, B, C, Q)
    # heads share their group's B, C: a broadcast view, not a copy, where there is one group
    Bh = (B.expand(b, c * Q, h, n) if g == 1 else B.repeat_interleave(h // g, dim=2)).reshape(b, c, Q, h, n)
    Ch = (C.expand(b, c * Q, h, n) if g == 1 else C.repeat_interleave(h // g, dim=2)).reshape(b, c, Q, h, n)
    xdt = (x * dt[..., None]).reshape(b, c, Q, h, p)
    la, par = _decay_logs(dt, A, neg_eig)
    cum = torch.cumsum(la.reshape(b, c, Q, h), dim=2)  # (b,c,Q,h)
    # intra-chunk: L[i,j] = prod_{j<k<=i} a_k; mask before exp so no inf reaches the backward pass
    seg = cum[:, :, :, None, :] - cum[:, :, None, :, :]  # (b,c,i,j,h)
    causal = torch.ones(Q, Q, dtype=torch.bool, device=x.device).tril()
    L = torch.exp(seg.masked_fill(~causal[None, None, :, :, None], float("-inf")))
    if neg_eig:
        pc = torch.cumsum(par.reshape(b, c, Q, h), dim=2)
        L = L * (1 - 2 * torch.remainder(pc[:, :, :, None, :] - pc[:, :, None, :, :], 2))
        sign_end = 1 - 2 * torch.remainder(pc[:, :, -1:, :] - pc, 2)       # a_{j+1..end}
        sign_in = 1 - 2 * torch.remainder(pc, 2)                            # a_{1..i}
        sign_chunk = sign_in[:, :, -1]                                      # a over the whole chunk
    else:
        sign_end = sign_in = sign_chunk = 1.0
    y = torch.einsum("bcihn,bcjhn,bcijh,bcjhp->bcihp", Ch, Bh, L, xdt)
    # each chunk's own contribution to the state at its end
    to_end = torch.exp(cum[:, :, -1:, :] - cum) * sign_end
    states = torch.einsum("bcjhn,bcjh,bcjhp->bchpn", Bh, to_end, xdt)
    chunk_decay = torch.exp(cum[:, :, -1, :]) * sign_chunk  # (b,c,h)
    S = x.new_zeros(b, h, p, n) if initial_state is None else initial_state
    entering = []
    for k in range(c):  # linear recurrence across chunks
        entering.append(S)
        S = chunk_decay[:, k, :, None, None] * S + states[:, k]
    S_in = torch.stack(entering, 1)  # (b,c,h,p,n)
    y = y + torch.einsum("bcihn,bchpn,bcih->bcihp", Ch, S_in, torch.exp(cum) * sign_in)
    y = y.reshape(b, c * Q, h, p)[:, :l]
    if D is not None:
        y = y + D[None, None, :, None] * x[:, :l] if D.dim() == 1 else y + D * x[:, :l]
    return y, S


def _import_kernel():
    """mamba-ssm's Triton SSD kernel and None, or None and why it could not be imported.

    Imported once, at module load. The released package imports its Mamba-1 CUDA extension at import
    time even though Mamba-2 never calls it, so a placeholder module stands in when it was not built.
    """
    try:
        import sys
        import types

        sys.modules.setdefault("selective_scan_cuda", types.ModuleType("selective_scan_cuda"))
        from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined
        return mamba_chunk_scan_combined, None
    except Exception as exc:  # ImportError, or a Triton/CUDA mismatch raised while importing
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


_KERNEL, _KERNEL_ERROR = _import_kernel()
_warned = False


def _mamba_ssm_scan():
    """The kernel for a CUDA forward pass, or None after a logged warning (once) saying why."""
    global _warned
    if _KERNEL is None and not _warned:
        _warned = True
        logging.getLogger("jericho").warning(
            "mamba-ssm kernels unavailable on CUDA (%s); using the pure-PyTorch SSD scan "
            "(pip install '.[gpu]' for the fast path)", _KERNEL_ERROR)
    return _KERNEL


class GatedRMSNorm(nn.Module):
    """mamba-ssm RMSNormGated with norm_before_gate=False: rmsnorm(y * silu(z)) * weight, per group."""

    def __init__(self, d: int, group_size: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.group_size, self.eps = group_size, eps

    def forward(self, y, z):
        dtype, acc = y.dtype, _acc(y.dtype)
        x = y.to(acc) * F.silu(z.to(acc))
        xg = x.unflatten(-1, (-1, self.group_size))
        xg = xg * torch.rsqrt(xg.pow(2).mean(-1, keepdim=True) + self.eps)
        return (xg.flatten(-2) * self.weight.to(acc)).to(dtype)


class Mamba2Layer(nn.Module):
    def __init__(self, d_model: int, d_state: int = 64, d_conv: int = 4, expand: int = 2, headdim: int = 32,
                 ngroups: int = 1, chunk_size: int = 64, A_init_range=(1.0, 16.0), dt_min: float = 1e-3,
                 dt_max: float = 0.1, dt_init_floor: float = 1e-4, lti: bool = False, neg_eig: bool = False,
                 integrators: int = 0, bias: bool = False, conv_bias: bool = True, use_kernel: bool = True):
        super().__init__()
        self.d_model, self.d_state, self.d_conv, self.headdim, self.ngroups = d_model, d_state, d_conv, headdim, ngroups
        self.d_inner = expand * d_model
        if self.d_inner % headdim:
            raise ValueError(f"expand*d_model={self.d_inner} must be a multiple of headdim={headdim}")
        self.nheads = self.d_inner // headdim
        if self.nheads % ngroups:
            raise ValueError(f"nheads={self.nheads} must be a multiple of ngroups={ngroups}")
        if not 0 <= integrators <= self.nheads:
            raise ValueError(f"integrators={integrators} must be between 0 and nheads={self.nheads}")
        self.chunk_size, self.lti, self.neg_eig, self.use_kernel = chunk_size, lti, neg_eig, use_kernel
        self.integrators = integrators
        self.conv_dim = self.d_inner + 2 * ngroups * d_state
        # Order: [z, x, B, C, dt] as in mamba-ssm
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner + 2 * ngroups * d_state + self.nheads, bias=bias)
        self.conv1d = nn.Conv1d(self.conv_dim, self.conv_dim, d_conv, groups=self.conv_dim, padding=d_conv - 1,
                                bias=conv_bias)
        dt = torch.exp(torch.rand(self.nheads) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        A = torch.empty(self.nheads).uniform_(*A_init_range)
        A_log = torch.log(A)
        A_log[:integrators] = INTEGRATOR_A_LOG
        self.A_log = nn.Parameter(A_log)
        self.D = nn.Parameter(torch.ones(self.nheads))
        for p in (self.dt_bias, self.A_log, self.D):
            p._no_weight_decay = True
        if lti:
            self.B_lti = nn.Parameter(torch.randn(ngroups, d_state) / math.sqrt(d_state))
            self.C_lti = nn.Parameter(torch.randn(ngroups, d_state) / math.sqrt(d_state))
        self.norm = GatedRMSNorm(self.d_inner, group_size=self.d_inner // ngroups)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)
        # State-channel pruning (jericho prune): a (nheads, d_state) keep mask on what the output
        # reads from the state. None (the default) is not in the state dict; set_state_mask adds it.
        self.register_buffer("state_mask", None)
        # Analysis hooks (jericho probe): each is called as hook(layer, x, dt, A, B, C) with the scan's
        # inputs, from which the per-step states follow (analysis/states.py).
        self.ssm_hooks: list = []

    def set_state_mask(self, mask: torch.Tensor | None) -> None:
        """Keep state channel (head h, n) where mask[h, n] is 1 (or a soft gate in [0, 1])."""
        if mask is not None and tuple(mask.shape) != (self.nheads, self.d_state):
            raise ValueError(f"state mask shape {tuple(mask.shape)} != (nheads, d_state) "
                             f"{(self.nheads, self.d_state)}")
        self.state_mask = mask

    def _apply_state_mask(self, B, C):
        """Per-head B, C with the pruned channels of C zeroed: a pruned channel is never read.
        An all-ones mask changes nothing (not even the order of operations): k = 1.0 is bit-exact."""
        m = self.state_mask
        if m is None or (not m.requires_grad and bool((m == 1).all())):
            return B, C
        rep = self.nheads // self.ngroups
        B, C = B.repeat_interleave(rep, dim=-2), C.repeat_interleave(rep, dim=-2)
        return B, C * m.to(C.dtype)

    # ------------------------------------------------------------------ pieces shared by forward/step
    def _split(self, zxbcdt):
        return torch.split(zxbcdt, [self.d_inner, self.conv_dim, self.nheads], dim=-1)

    def _ssm_inputs(self, xBC, dt_raw):
        x, B, C = torch.split(xBC, [self.d_inner, self.ngroups * self.d_state, self.ngroups * self.d_state], -1)
        lead = x.shape[:-1]
        x = x.unflatten(-1, (self.nheads, self.headdim))
        if self.lti:  # input-independent step size and B, C
            B = self.B_lti.expand(*lead, -1, -1)
            C = self.C_lti.expand(*lead, -1, -1)
            dt_raw = torch.zeros_like(dt_raw)
        else:
            B = B.unflatten(-1, (self.ngroups, self.d_state))
            C = C.unflatten(-1, (self.ngroups, self.d_state))
        acc = _acc(dt_raw.dtype)  # SSM internals in fp32 at least (fp16 A can reach -inf)
        dt = F.softplus(dt_raw.to(acc) + self.dt_bias.to(acc))
        A_log = self.A_log
        if self.integrators:  # held: no gradient reaches the pinned heads' A_log, so Adam never moves it
            A_log = torch.cat([A_log[:self.integrators].detach(), A_log[self.integrators:]])
        A = -torch.exp(A_log.to(acc))
        return x, dt, A, B, C

    def _causal_conv(self, xBC):
        """The depthwise causal conv1d (self.conv1d's weights, mamba-ssm's layout) as d_conv shifted
        multiply-adds over (b, l, channels): on CPU nn.Conv1d's depthwise path costs more than the
        whole SSD scan for short inputs."""
        w, k = self.conv1d.weight[:, 0, :], self.d_conv  # (channels, d_conv)
        if not xBC.is_cuda and xBC.dtype == torch.float32 and cpu_kernels.available():
            return cpu_kernels.causal_conv(xBC, w, self.conv1d.bias)
        padded = F.pad(xBC, (0, 0, k - 1, 0))
        l = xBC.shape[1]
        out = padded[:, k - 1:k - 1 + l] * w[:, k - 1]
        for i in range(k - 1):
            out = out + padded[:, i:i + l] * w[:, i]
        return out + self.conv1d.bias if self.conv1d.bias is not None else out

    def forward(self, u, initial_state=None, return_state: bool = False):
        """u (b, l, d_model) -> (b, l, d_model) [, final ssm state (b, h, p, n)]."""
        z, xBC, dt_raw = self._split(self.in_proj(u))
        xBC = F.silu(self._causal_conv(xBC))
        x, dt, A, B, C = self._ssm_inputs(xBC, dt_raw)
        for hook in self.ssm_hooks:
            hook(self, x, dt, A, B, C)
        B, C = self._apply_state_mask(B, C)
        kernel = _mamba_ssm_scan() if (u.is_cuda and self.use_kernel and not self.neg_eig) else None
        if kernel is not None:
            dt_in = dt_raw if not self.lti else torch.zeros_like(dt_raw)
            out = kernel(x, dt_in, A, B.contiguous(), C.contiguous(), self.chunk_size, D=self.D.float(),
                         dt_bias=self.dt_bias.float(), dt_softplus=True, initial_states=initial_state,
                         return_final_states=return_state)
            y, S = out if return_state else (out, None)
        elif not u.is_cuda and _acc(u.dtype) == torch.float32 and cpu_kernels.available():
            # the recurrence in compiled C: O(L P N) a head, no chunk-length factor, few operations
            y, S = cpu_kernels.scan(x.float() * dt[..., None], _transitions(dt, A, self.neg_eig), B.float(), C.float(),
                                 initial_state)
            y = y + self.D.float()[:, None] * x.float()
        else:
            acc = _acc(u.dtype)
            q = self.chunk_size if u.is_cuda else auto_chunk(u.shape[1], self.chunk_size)
            y, S = ssd_chunked(x.to(acc), dt, A, B.to(acc), C.to(acc), q, D=self.D.to(acc),
                               initial_state=initial_state, neg_eig=self.neg_eig)
        y = self.norm(y.flatten(-2).to(u.dtype), z)
        out = self.out_proj(y)
        return (out, S) if return_state else out

    # ------------------------------------------------------------------ streaming
    def init_state(self, batch: int, device=None, dtype=torch.float32):
        return (torch.zeros(batch, self.conv_dim, self.d_conv, device=device, dtype=dtype),
                torch.zeros(batch, self.nheads, self.headdim, self.d_state, device=device, dtype=_acc(dtype)))

    def step(self, u_t, state):
        """One time step: u_t (b, d_model) and (conv_state, ssm_state) -> y_t, new state. Few, small
        operations (a streaming step is all per-operation overhead): groups broadcast over their heads
        instead of being repeated, the state update is one addcmul."""
        conv_state, S = state
        z, xBC, dt_raw = self._split(self.in_proj(u_t))
        conv_state = torch.cat([conv_state[..., 1:], xBC[..., None]], dim=-1)  # last d_conv pre-conv inputs
        xBC = (conv_state * self.conv1d.weight[:, 0, :]).sum(-1)
        if self.conv1d.bias is not None:
            xBC = xBC + self.conv1d.bias
        x, dt, A, B, C = self._ssm_inputs(F.silu(xBC), dt_raw)
        for hook in self.ssm_hooks:
            hook(self, x[:, None], dt[:, None], A, B[:, None], C[:, None])
        B, C = self._apply_state_mask(B, C)
        acc = _acc(u_t.dtype)
        if B.shape[1] not in (1, self.nheads):  # g groups of heads: (b, g, n) -> (b, h, n)
            B, C = (m.repeat_interleave(self.nheads // m.shape[1], dim=1) for m in (B, C))
        x = x if x.dtype == acc else x.to(acc)
        B, C = (m if m.dtype == acc else m.to(acc) for m in (B, C))
        a = _transitions(dt, A, self.neg_eig)  # (b, h)
        S = torch.addcmul(a[..., None, None] * S, (dt[..., None] * x)[..., None], B[:, :, None, :])
        y = torch.addcmul(torch.matmul(S, C[..., None])[..., 0], self.D.to(acc)[:, None], x)
        y = self.norm(y.flatten(-2).to(u_t.dtype), z)
        return self.out_proj(y), (conv_state, S)

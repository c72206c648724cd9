"""Compiled C kernels on the CPU: for training, the SSD recurrence and the layer's causal
convolution, each with its own backward pass (scan.c); for streaming, one step of an SSD block and
of an attention block (step.c, inference only).

Built on first use with the system C compiler into a cache folder (`$XDG_CACHE_HOME/jericho`, or
`~/.cache/jericho`), one library per source version and processor (it is compiled for the
processor it runs on), and loaded with ctypes: no Python headers, no torch headers, a build of a
second or so. Without a compiler, or with `JERICHO_SCAN=torch`, `available()` is False and the
layer runs the chunked PyTorch scan, a stream the PyTorch steps, instead (logged once). float32 only; other dtypes take the
PyTorch path.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch

SOURCES = [Path(__file__).with_name(n) for n in ("scan.c", "step.c", "dot.h")]
FLAGS = ["-O3", "-march=native", "-fno-fast-math", "-std=c11", "-shared", "-fPIC"]
LIBS = ["-lm"]
_lib = None
_why = None


def _machine() -> str:
    """What the library's code depends on: the processor's model and instruction-set flags."""
    try:
        info = Path("/proc/cpuinfo").read_text()
        lines = [ln for ln in info.splitlines() if ln.startswith(("model name", "flags"))][:2]
    except OSError:
        lines = []
    return "\n".join(lines + [platform.machine()])


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jericho"


def _build() -> Path:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError("no C compiler (cc or gcc) on PATH")
    what = b"".join(f.read_bytes() for f in SOURCES) + " ".join(FLAGS + LIBS).encode() + _machine().encode()
    key = hashlib.sha256(what).hexdigest()[:16]
    lib = _cache_dir() / f"kernels-{key}.so"
    if lib.exists():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=lib.parent)
    os.close(fd)
    try:
        sources = [str(f) for f in SOURCES if f.suffix == ".c"]
        res = subprocess.run([cc, *FLAGS, *sources, "-o", tmp, *LIBS], capture_output=True, text=True, timeout=120)
        if res.returncode:
            last = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"
            raise RuntimeError(f"{cc} failed: {last}")
        os.replace(tmp, lib)  # atomic: a process building beside this one finds a whole library or none
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib


def _load():
    global _lib, _why
    if _lib is not None or _why is not None:
        return _lib
    if os.environ.get("JERICHO_SCAN", "").lower() == "torch":
        _why = "JERICHO_SCAN=torch"
        return None
    try:
        lib = ctypes.CDLL(str(_build()))
        i, p = ctypes.c_long, ctypes.c_void_p
        lib.ssd_scan_forward.argtypes = [i] * 6 + [p] * 8
        lib.ssd_scan_forward.restype = None
        lib.ssd_scan_backward.argtypes = [i] * 6 + [p] * 12
        lib.ssd_scan_backward.restype = ctypes.c_int
        lib.causal_conv_forward.argtypes = [i] * 4 + [p] * 4
        lib.causal_conv_forward.restype = None
        lib.causal_conv_backward.argtypes = [i] * 4 + [p] * 6
        lib.causal_conv_backward.restype = None
        lib.ssd_block_step.argtypes = [i] * 8 + [ctypes.c_int] + [ctypes.c_float] * 2 + [p] * 15
        lib.ssd_block_step.restype = ctypes.c_int
        lib.attn_block_step.argtypes = [i] * 7 + [ctypes.c_float] * 3 + [p] * 13
        lib.attn_block_step.restype = ctypes.c_int
        lib.ssd_scan_checkpoints.argtypes = [i]
        lib.ssd_scan_checkpoints.restype = i
        _lib = lib
    except Exception as exc:  # no compiler, a failed build, a library that does not load
        _why = f"{type(exc).__name__}: {exc}"
        logging.getLogger("jericho").warning("compiled CPU kernels unavailable (%s); using the PyTorch SSD scan "
                                             "and steps", _why)
    return _lib


def available() -> bool:
    return _load() is not None


def _ptr(t: torch.Tensor | None):
    """The address of a contiguous float32 tensor the caller keeps alive for the call."""
    assert t is None or (t.is_contiguous() and t.dtype == torch.float32 and not t.is_cuda)
    return None if t is None else ctypes.c_void_p(t.data_ptr())


class _Scan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, a, B, C, S0):
        lib = _load()
        bt, L, H, P = u.shape
        G, N = B.shape[2], B.shape[3]
        u, a, B, C = (t.contiguous() for t in (u, a, B, C))
        S0c = None if S0 is None else S0.contiguous()
        y = torch.empty_like(u)
        S = u.new_empty(bt, H, P, N)
        ckpt = u.new_empty(bt, H, lib.ssd_scan_checkpoints(L), P, N)
        lib.ssd_scan_forward(bt, L, H, P, N, G, _ptr(u), _ptr(a), _ptr(B), _ptr(C), _ptr(S0c), _ptr(y), _ptr(S),
                             _ptr(ckpt))
        ctx.save_for_backward(u, a, B, C, ckpt)
        ctx.has_S0 = S0 is not None
        return y, S

    @staticmethod
    def backward(ctx, dy, dS):
        lib = _load()
        u, a, B, C, ckpt = ctx.saved_tensors
        bt, L, H, P = u.shape
        G, N = B.shape[2], B.shape[3]
        dy = (torch.zeros_like(u) if dy is None else dy).contiguous()
        dS = None if dS is None else dS.contiguous()
        du, da = torch.empty_like(u), torch.empty_like(a)
        dB, dC = torch.zeros_like(B), torch.zeros_like(C)
        dS0 = u.new_empty(bt, H, P, N)
        if lib.ssd_scan_backward(bt, L, H, P, N, G, _ptr(u), _ptr(a), _ptr(B), _ptr(C), _ptr(ckpt), _ptr(dy),
                                 _ptr(dS), _ptr(du), _ptr(da), _ptr(dB), _ptr(dC), _ptr(dS0)):
            raise MemoryError("compiled SSD scan: out of memory in the backward pass")
        return du, da, dB, dC, (dS0 if ctx.has_S0 else None)


def scan(u: torch.Tensor, a: torch.Tensor, B: torch.Tensor, C: torch.Tensor, S0: torch.Tensor | None = None):
    """y_t = S_t C_t with S_t = a_t S_{t-1} + u_t B_t^T. u (b, L, h, p), a (b, L, h), B/C (b, L, g, n),
    S0 (b, h, p, n) or None; float32 on the CPU. Returns y (b, L, h, p) and the final state."""
    return _Scan.apply(u, a, B, C, S0)


class _CausalConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        bt, L, ch = x.shape
        x, w = x.contiguous(), weight.t().contiguous()  # (d_conv, channels)
        out = torch.empty_like(x)
        _load().causal_conv_forward(bt, L, ch, w.shape[0], _ptr(x), _ptr(w), _ptr(bias), _ptr(out))
        ctx.save_for_backward(x, w)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, dout):
        x, w = ctx.saved_tensors
        bt, L, ch = x.shape
        dout = dout.contiguous()  # held in a name: a pointer into a temporary would dangle
        dx, dw = torch.empty_like(x), torch.zeros_like(w)
        db = x.new_zeros(ch) if ctx.has_bias else None
        _load().causal_conv_backward(bt, L, ch, w.shape[0], _ptr(x), _ptr(w), _ptr(dout), _ptr(dx), _ptr(dw),
                                     _ptr(db))
        return dx, dw.t(), db


def causal_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Depthwise causal convolution of x (b, L, channels) with weight (channels, d_conv) and bias
    (channels) or None; float32 on the CPU."""
    return _CausalConv.apply(x, weight, bias)


def _kept(tensors):
    """Float32 contiguous versions of a block's weights (held by the caller's closure) and their
    addresses, read once for a whole stream of steps."""
    kept = [None if t is None else t.detach().float().contiguous() for t in tensors]
    return kept, [None if t is None else t.data_ptr() for t in kept]


def ssd_block_step(norm_w, in_w, conv_w, conv_b, dt_bias, A_log, D, gnorm_w, out_w, *, eps: float, gnorm_eps: float,
                   heads: int, headdim: int, d_state: int, ngroups: int, group: int, neg_eig: bool):
    """A function for one streaming step of an SSD block with these weights (no autograd; the weights
    must not change while it is in use): (x (b, d), conv_state (b, conv_dim, d_conv), ssm_state
    (b, H, P, N)) -> y (b, d) and the new states (new tensors)."""
    kept, (nw, iw, cw, cb, dtb, al, dd, gw, ow) = _kept((norm_w, in_w, conv_w, conv_b, dt_bias, A_log, D, gnorm_w,
                                                         out_w))
    fn, d = _load().ssd_block_step, in_w.shape[1]

    def step(x, conv, S):
        assert x.dtype == conv.dtype == S.dtype == torch.float32
        x, conv, S = x.contiguous(), conv.contiguous(), S.contiguous()
        conv_out, S_out, y = torch.empty_like(conv), torch.empty_like(S), torch.empty_like(x)
        if fn(len(x), d, heads, headdim, d_state, ngroups, conv.shape[-1], group, int(neg_eig), eps, gnorm_eps,
              x.data_ptr(), nw, iw, conv.data_ptr(), S.data_ptr(), cw, cb, dtb, al, dd, gw, ow, conv_out.data_ptr(),
              S_out.data_ptr(), y.data_ptr()):
            raise MemoryError("compiled SSD block step: out of memory")
        return y, conv_out, S_out

    step.weights = kept
    return step


def attn_block_step(norm1_w, qkv_w, out_w, norm2_w, fc1_w, fc2_w, sink, *, eps1: float, eps2: float, heads: int,
                    base: float):
    """A function for one streaming step of an attention block with these weights (no autograd; the
    weights must not change while it is in use): (x (b, d), pos (b,), keys, values (b, heads, slots,
    dh), slot, seen) -> y (b, d). Writes the step's rotated key and value into ring slot `slot`, in
    place, and attends to the first `seen` slots (and to the sink (2, heads, dh), if not None)."""
    sk, sv = (None, None) if sink is None else sink
    kept, (n1, qw, ow, n2, f1, f2, skp, svp) = _kept((norm1_w, qkv_w, out_w, norm2_w, fc1_w, fc2_w, sk, sv))
    fn, d, hidden = _load().attn_block_step, qkv_w.shape[1], fc1_w.shape[0]

    def step(x, pos, keys, values, slot: int, seen: int):
        assert x.dtype == keys.dtype == values.dtype == torch.float32 and keys.is_contiguous() and values.is_contiguous()
        x, pos = x.contiguous(), pos.to(torch.float32).contiguous()
        y = torch.empty_like(x)
        if fn(len(x), d, heads, hidden, keys.shape[2], slot, seen, base, eps1, eps2, x.data_ptr(), pos.data_ptr(), n1,
              qw, ow, n2, f1, f2, skp, svp, keys.data_ptr(), values.data_ptr(), y.data_ptr()):
            raise MemoryError("compiled attention block step: out of memory")
        return y

    step.weights = kept
    return step

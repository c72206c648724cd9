"""The checkpoint format: one `.pt` file, written atomically, read with `weights_only=True`.

    {"format": "jericho-checkpoint", "version": 1,
     "model": state_dict, "model_config": {...expanded ModelConfig...}, "config": {data, model, train},
     "codebook": {...}, "step": int, "git_rev": str,
     "optimizer": state_dict, "state": {step, best, max_level, selector}}   # training only

`decode` needs only model, model_config and codebook. Only tensors and plain containers are stored,
so loading never unpickles code: a crafted file fails to load instead of running.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import JerichoError
from .files import atomic_path

FORMAT, VERSION = "jericho-checkpoint", 1
REQUIRED = ("model", "model_config", "codebook")


def save(path: str | os.PathLike, ckpt: dict) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save({"format": FORMAT, "version": VERSION, **ckpt}, tmp)


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """A checked checkpoint dict, or a one-line JerichoError naming the file and the problem."""
    p = Path(path)
    if not p.is_file():
        raise JerichoError("checkpoint not found" if not p.exists() else "checkpoint is not a file", str(p))
    try:
        ck = torch.load(p, map_location=device, weights_only=True)
    except Exception as exc:  # not a zip/pickle, truncated, or objects beyond tensors and containers
        msg = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        if "Weights only load failed" in msg or "weights_only" in str(exc):
            msg = "holds Python objects beyond tensors and plain containers; refused (weights_only)"
        raise JerichoError(f"not a usable jericho checkpoint ({msg})", str(p)) from None
    if not isinstance(ck, dict):
        raise JerichoError("not a jericho checkpoint (not a mapping)", str(p))
    if ck.get("format", FORMAT) != FORMAT:
        raise JerichoError(f"not a jericho checkpoint (format {ck.get('format')!r})", str(p))
    if not isinstance(ck.get("version", 0), int) or ck.get("version", 0) > VERSION:
        raise JerichoError(f"checkpoint format version {ck.get('version')!r} is newer than this jericho "
                           f"reads ({VERSION}); upgrade jericho", str(p))
    missing = [k for k in REQUIRED if k not in ck]
    if missing:
        raise JerichoError(f"not a jericho checkpoint (no {', '.join(missing)})", str(p))
    return ck

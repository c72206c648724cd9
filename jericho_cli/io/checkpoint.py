"""The checkpoint: one typed record, one `.pt` file, written atomically, read with `weights_only=True`.

On disk it is a plain dict (format, version, then the fields below), so loading never unpickles
code: a crafted file fails to load instead of running. `decode` needs only model, model_config and
codebook; training adds optimizer and state; `jericho prune` adds prune (and state_mask buffers in
the weights).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import JerichoError
from .files import atomic_path, write_failed

FORMAT, VERSION = "jericho-checkpoint", 1
REQUIRED = ("model", "model_config", "codebook")


@dataclass
class Checkpoint:
    model: dict                   # the model's state_dict
    model_config: dict            # expanded model config (config.ModelConfig.to_dict())
    codebook: dict                # data.codebook.Codebook.to_dict()
    config: dict = dataclasses.field(default_factory=dict)  # the run's data/model/train config
    step: int = 0
    git_rev: str | None = None
    optimizer: dict | None = None  # training only: the optimizer's state_dict
    state: dict | None = None      # training only: step, best, max_level, selector
    prune: dict | None = None      # pruned checkpoints: mode, keep, source, ...

    def save(self, path: str | os.PathLike) -> None:
        # the fields as they are: dataclasses.asdict would deep-copy every weight and optimizer tensor
        record = {f.name: v for f in dataclasses.fields(self) if (v := getattr(self, f.name)) is not None}
        with atomic_path(path, suffix=".pt") as tmp:
            try:
                torch.save({"format": FORMAT, "version": VERSION, **record}, tmp)
            except RuntimeError as exc:  # a full disk surfaces as "unexpected pos ..."
                raise write_failed(exc, path) from None

    def for_inference(self) -> Checkpoint:
        """The same model without the training state (what a shipped or pruned checkpoint holds)."""
        return dataclasses.replace(self, optimizer=None, state=None)


FIELDS = {f.name for f in dataclasses.fields(Checkpoint)}


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> Checkpoint:
    """A checked checkpoint, or a one-line JerichoError naming the file and the problem."""
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
    wrong = [k for k in ("model", "model_config", "codebook", "config") if k in ck and not isinstance(ck[k], dict)]
    if wrong:
        raise JerichoError(f"not a jericho checkpoint ({wrong[0]} is not a mapping)", str(p))
    return Checkpoint(**{k: v for k, v in ck.items() if k in FIELDS})

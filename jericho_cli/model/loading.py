"""A model from a checkpoint file, and waveforms as the padded batch the model's front end takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..config import model_config
from ..data.codebook import Codebook
from ..errors import JerichoError
from ..io import checkpoint
from ..io.checkpoint import Checkpoint
from .mini_jmamba import MiniJMamba


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[MiniJMamba, Codebook, Checkpoint]:
    """The checkpoint's model (in eval mode, on `device`), its codebook and the checkpoint itself."""
    ck = checkpoint.load(path, device)
    try:
        model = MiniJMamba(model_config(ck.model_config, str(path)))
        model.load_state_dict(ck.model)
        cb = Codebook.from_dict(ck.codebook, source=str(path))
    except JerichoError:
        raise
    except Exception as exc:  # missing keys, shape mismatches
        raise JerichoError(f"checkpoint does not fit its model ({str(exc).splitlines()[0][:160]})",
                           str(path)) from None
    model.to(device).eval()
    return model, cb, ck


def pad_batch(waves: list[np.ndarray], device) -> tuple[torch.Tensor, torch.Tensor]:
    """Waveforms of any lengths -> (batch, samples) zero-padded on the right, and their lengths."""
    n = max(len(w) for w in waves)
    batch = np.zeros((len(waves), n), np.float32)
    for i, w in enumerate(waves):
        batch[i, : len(w)] = w
    return torch.from_numpy(batch).to(device), torch.tensor([len(w) for w in waves], device=device)

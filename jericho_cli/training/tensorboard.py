"""TensorBoard logging for `jericho train` (optional: the `tensorboard` package, `pip install
'jericho[tensorboard]'`). Event files go to <run>/tb/: loss terms and learning rate every step;
validation exact match per task, curriculum levels and the subject selector's proportions at each
validation, with a few answers as spectrogram images and as audio. Off with train.tensorboard=false;
without the package, one log line says so and training goes on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..logs import log


class TensorBoard:
    def __init__(self, out_dir: Path, enabled: bool, sample_rate: int):
        self.writer, self.sample_rate = None, sample_rate
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # torch's writer needs the tensorboard package
            log.info("tensorboard is not installed: no event files (pip install tensorboard, or "
                     "train.tensorboard=false to say so)")
            return
        self.writer = SummaryWriter(log_dir=str(out_dir / "tb"))

    def step(self, step: int, lr: float, parts: dict) -> None:
        if self.writer is None:
            return
        self.writer.add_scalar("train/lr", lr, step)
        for k, v in parts.items():
            self.writer.add_scalar(f"loss/{k}", v, step)

    def validation(self, step: int, per_task: dict, max_level: dict, mix: dict | None, samples: dict) -> None:
        """per_task {task: {exact, ...}}, samples {task: [(tag, answer wave, log-magnitude frames, text)]}."""
        if self.writer is None:
            return
        w = self.writer
        for task, r in per_task.items():
            for k, v in r.items():
                if v is not None:
                    w.add_scalar(f"val/{task}/{k}", v, step)
        for task, level in max_level.items():
            if level is not None:
                w.add_scalar(f"curriculum/{task}", level, step)
        for task, p in (mix or {}).items():
            w.add_scalar(f"selector/{task}", p, step)
        for task, items in samples.items():
            for tag, wave, spec, text in items:
                img = np.asarray(spec, dtype=np.float32).T[::-1]  # frequency up, time to the right
                img = (img - img.min()) / max(1e-6, float(img.max() - img.min()))
                w.add_image(f"answers/{task}/{tag}", img.copy(), step, dataformats="HW")
                w.add_audio(f"answers/{task}/{tag}", torch.as_tensor(wave, dtype=torch.float32)[None], step,
                            sample_rate=self.sample_rate)
                w.add_text(f"answers/{task}/{tag}", text, step)
        w.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

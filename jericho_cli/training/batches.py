"""Training batches: on-the-fly examples (or a manifest's), and the target frames the loss compares."""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np
import torch

from ..data import pools
from ..data.codebook import Codebook
from ..data.render import Variation, render
from ..errors import JerichoError
from ..model.loading import pad_batch
from ..io.audio import read_wav
from ..io.manifest import read_manifest, resolve
from ..model.mini_jmamba import MiniJMamba


class TrainExample(NamedTuple):
    audio: np.ndarray         # what the model hears
    answer_audio: np.ndarray  # the canonical rendering of the answer (the target frames)
    target: list[str]         # the answer's symbols (the CTC head's target)
    onsets: tuple | None = None  # first sample of each input symbol (None: unknown, e.g. a manifest's audio)
    copies: bool | None = None   # the answer is the input, symbol for symbol (None: unknown)


def training_variation(t: dict) -> Variation:
    """How training inputs vary: the default jitter (+ noise at train.snr_db), or train.augment's ranges;
    either slowed by train.augment.time_scale when it is set."""
    a = t["augment"]
    scale = None if tuple(a["time_scale"]) == (1, 1) else tuple(a["time_scale"])  # on with or without `enabled`
    if not a["enabled"]:
        return Variation(snr_db=t["snr_db"], time_scale=scale)
    return Variation(tone_ms=tuple(a["tone_ms"]), gap_ms=tuple(a["gap_ms"]), time_scale=scale,
                     envelopes=tuple(a["envelopes"]), ramp_ms=tuple(a["ramp_ms"]), freq_offset=a["freq_offset"],
                     snr_range=tuple(a["snr_db"]), p_noise=a["p_noise"], noise_colours=tuple(a["noise_colours"]),
                     p_reverb=a["p_reverb"], rt60_range=tuple(a["rt60"]), gain_dbfs=tuple(a["gain_dbfs"]),
                     p_dc=a["p_dc"], p_hum=a["p_hum"])


def task_list(t: dict) -> list[str]:
    return [t["task"]] if isinstance(t["task"], str) else list(t["task"])


def input_domain(t: dict, rng: np.random.Generator) -> str:
    """The signal domain an example's input is rendered in: train.domain, or one drawn from its list
    (drawn only for a list, so a single domain leaves every random draw as it was)."""
    d = t["domain"]
    return d if isinstance(d, str) else d[int(rng.integers(len(d)))]


def check_level_mix(t: dict, data: dict) -> None:
    """train.level_mix names only trained tasks and their training levels, and leaves each task a
    level to draw: a typo would otherwise tilt nothing, and all-zero weights draw evenly."""
    trained = task_list(t)
    for task, weights in (t["level_mix"] or {}).items():
        if task not in trained:
            raise JerichoError(f"train.level_mix names task {task!r}, which this run does not train "
                               f"(train.task: {', '.join(trained)})")
        levels = pools.split_levels(task, "train", data)
        if bad := [lv for lv in weights if lv not in levels]:
            raise JerichoError(f"train.level_mix: {task} level {bad[0]} is not a training level "
                               f"({levels[0]}-{levels[-1]})")
        if not any(float(weights.get(lv, 1.0)) > 0 for lv in levels):
            raise JerichoError(f"train.level_mix gives every {task} training level weight 0")


class Batches:
    """Training batches: batch `step` is a pure function of (seed, step), so resume is exact."""

    def __init__(self, cfg: dict, cb: Codebook):
        self.cfg, self.cb, self.t = cfg, cb, cfg["train"]
        self.variation = training_variation(self.t)
        self.records = None
        check_level_mix(self.t, cfg["data"])
        if self.t["manifest"]:  # every file read once now, not first at the step that draws it
            self.records = read_manifest(self.t["manifest"], required=("id", "audio", "target_audio", "target"))
            for r in self.records:
                cb.check_symbols(r["target"], r["_line"], "target")
                for field in ("audio", "target_audio"):
                    read_wav(resolve(r, field), cb.sample_rate)

    def examples(self, step: int, task: str, max_level: int | None, rank: int = 0):
        """The examples of one step of one process."""
        bs, seed = self.t["batch_size"], self.t["seed"]
        out = []
        if self.records is not None:
            rng = np.random.default_rng([seed, rank, step])
            for i in rng.integers(len(self.records), size=bs):
                r = self.records[int(i)]
                out.append(TrainExample(read_wav(resolve(r), self.cb.sample_rate),
                                        read_wav(resolve(r, "target_audio"), self.cb.sample_rate), r["target"],
                                        copies=list(r["input"]) == list(r["target"]) if "input" in r else None))
            return out
        weights = (self.t["level_mix"] or {}).get(task)
        for j in range(bs):
            index = (step * bs + j) * max(1, int(os.environ.get("WORLD_SIZE", 1))) + rank
            ex = pools.draw(task, "train", index, seed, self.cfg["data"], max_level=max_level, level_weights=weights)
            rng = pools.example_rng(seed, task, "train/audio", index)
            target = ex.target
            if self.t["control"] == "shuffled_answers":  # the answer of an unrelated example
                target = pools.draw(task, "train", index + 10 ** 9, seed, self.cfg["data"], max_level=max_level).target
            domain = input_domain(self.t, rng)
            spans: list = []
            audio = render(ex.input, self.cb, domain, rng=rng, variation=self.variation, spans=spans)
            onsets = tuple(a for a, _ in spans) if len(spans) == len(ex.input) else None
            out.append(TrainExample(audio, render(target, self.cb), target, onsets,
                                    copies=list(ex.input) == list(target)))
        return out


def count_targets(model: MiniJMamba, examples: list[TrainExample], in_steps: torch.Tensor, device):
    """(b, T) symbols begun up to each input step (a symbol counts from the step holding the first frame
    centred at or past its first sample) and a (b, T) mask: valid steps of examples whose onsets are known."""
    T = int(in_steps.max())
    counts = torch.zeros(len(examples), T)
    known = torch.zeros(len(examples), 1)
    for i, e in enumerate(examples):
        if e.onsets is not None:
            known[i] = 1
            for s in e.onsets:  # frame f is centred at sample f * hop; its step is f // downsample
                first = -(-int(s) // model.cfg.hop) // model.cfg.downsample
                counts[i, min(first, T):] += 1
    mask = (torch.arange(T)[None] < in_steps.cpu()[:, None]).float() * known
    return counts.to(device), mask.to(device)


def copy_targets(examples: list[TrainExample], device):
    """(b,) 1 where the answer is the input symbol for symbol (what a count-aligned copy says), else 0,
    and a (b,) mask: examples where that is known."""
    copies = torch.tensor([float(bool(e.copies)) for e in examples], device=device)
    known = torch.tensor([float(e.copies is not None) for e in examples], device=device)
    return copies, known


def make_targets(model: MiniJMamba, examples: list[TrainExample], device):
    """Input batch, answer-slot sizes (grown where a target would not fit), target frames and waves, and
    a count-aligned copy head's targets (None without one): count targets (count_targets) and which
    answers are copies (copy_targets), as (counts, count mask, copies, copies known)."""
    wave, n = pad_batch([e.audio for e in examples], device)
    tgt_wave, tgt_n = pad_batch([e.answer_audio for e in examples], device)
    k = model.cfg.downsample
    in_steps = model.input_steps(n)
    tgt_frames = tgt_n // model.cfg.hop + 1
    ans_steps = torch.maximum(model.answer_steps(in_steps), (tgt_frames + k - 1) // k)
    frames = int(ans_steps.max()) * k
    tgt = model.spec.log_mag(tgt_wave)
    floor = math.log(model.spec.log_floor)
    tgt = torch.nn.functional.pad(tgt, (0, 0, 0, max(0, frames - tgt.shape[1])), value=floor)[:, :frames]
    fidx = torch.arange(frames, device=device)[None]
    tgt = torch.where(fidx[..., None] < tgt_frames[:, None, None], tgt, torch.full_like(tgt, floor))
    mask = (fidx < (ans_steps * k)[:, None]).float()
    heads = None  # what a model's symbol count (count copy head, symbol readout) and copy gate are trained toward
    if (model.cfg.copy_head and model.cfg.copy_align == "count") or model.cfg.symbol_readout:
        heads = (*count_targets(model, examples, in_steps, device), *copy_targets(examples, device))
    return wave, n, ans_steps, tgt, mask, tgt_wave, heads

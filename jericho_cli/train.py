"""`jericho train`: on-the-fly (or manifest) data, curriculum, AdamW + warmup/cosine, validation
scored by the real scorer on decoded audio, atomic best/last checkpoints, exact resume."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from tqdm import tqdm

from . import splits
from .codebook import Codebook
from .decode import answer, pad_batch
from .errors import JerichoError
from .fileio import read_yaml, atomic_path, read_manifest, read_wav, resolve, write_text_atomic
from .model import losses
from .model.mini_jmamba import MiniJMamba, ModelConfig
from .render import Variation, render
from .scorer import Scorer
from .selector import SubjectSelector

DEFAULT_TRAIN = {
    "task": "mirror",  # one task, or a list for multitask training with the subject selector
    "mix": None,       # {task: weight}; default equal
    "adaptive": False,  # subject selector: lagging tasks get more batches
    "control": None,   # "shuffled_answers": negative control, answers of other examples
    "seed": 0, "steps": 3000, "batch_size": 16, "lr": 2e-3, "warmup": 200,
    "weight_decay": 0.01, "grad_clip": 1.0, "val_every": 250, "val_n": 64, "manifest": None,
    "snr_db": None, "device": "auto", "amp": True,
    "stop_at": None,  # end this invocation at this step (a cluster time slot); --resume goes on
    "curriculum": {"enabled": True, "start": None, "threshold": 0.9},
    "loss": {"spec_l1": 1.0, "mrstft": 0.0, "ctc": 0.2, "loss_gl_iters": 4},
}


def load_config(path: str | None, sets: list[str] = ()) -> dict:
    raw = {}
    if path:
        raw = read_yaml(path, "config")
    cfg = {"model": {"name": "appendix"}, "data": {}, "train": {}}
    cfg = splits.deep_merge(cfg, raw)
    for s in sets:
        if "=" not in s:
            raise JerichoError(f"--set expects key.path=value, got {s!r}")
        key, value = s.split("=", 1)
        cur = cfg
        parts = key.split(".")
        for k in parts[:-1]:
            cur = cur.setdefault(k, {})
        cur[parts[-1]] = yaml.safe_load(value)
    cfg["train"] = splits.deep_merge(DEFAULT_TRAIN, cfg["train"])
    cfg["data"] = splits.deep_merge(splits.DEFAULT_DATA_CONFIG, cfg["data"])
    try:
        ModelConfig.from_dict(cfg["model"])
    except (ValueError, TypeError) as exc:
        raise JerichoError(f"model config: {exc}", path) from None
    return cfg


def curriculum_start(cur: dict, task: str, levels: list[int]) -> int | None:
    """First max level of `task`, or None (all levels from the start). `enabled` is a bool or a list
    of tasks; `start` a level or {task: level}: a task's shortest levels can be too small a pool to
    learn anything but the pool itself (Bracket length 4, Mod with one-digit dividends)."""
    enabled = cur["enabled"]
    if not (task in enabled if isinstance(enabled, (list, tuple)) else enabled):
        return None
    start = cur["start"].get(task) if isinstance(cur["start"], dict) else cur["start"]
    return start or levels[0]


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=5).stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Batches:
    """Training batches: batch `step` is a pure function of (seed, step), so resume is exact."""

    def __init__(self, cfg: dict, cb: Codebook):
        self.cfg, self.cb, self.t = cfg, cb, cfg["train"]
        self.variation = Variation(snr_db=self.t["snr_db"])
        self.records = None
        if self.t["manifest"]:
            self.records = read_manifest(self.t["manifest"], required=("id", "audio", "target_audio", "target"))

    def examples(self, step: int, task: str, max_level: int | None, rank: int = 0):
        bs, seed = self.t["batch_size"], self.t["seed"]
        out = []
        if self.records is not None:
            rng = np.random.default_rng([seed, rank, step])
            for i in rng.integers(len(self.records), size=bs):
                r = self.records[int(i)]
                out.append((read_wav(resolve(r), self.cb.sample_rate),
                            read_wav(resolve(r, "target_audio"), self.cb.sample_rate), r["target"]))
            return out
        for j in range(bs):
            index = (step * bs + j) * max(1, int(os.environ.get("WORLD_SIZE", 1))) + rank
            ex = splits.draw(task, "train", index, seed, self.cfg["data"], max_level=max_level)
            rng = splits.example_rng(seed, task, "train/audio", index)
            target = ex.target
            if self.t["control"] == "shuffled_answers":  # the answer of an unrelated example
                target = splits.draw(task, "train", index + 10 ** 9, seed, self.cfg["data"], max_level=max_level).target
            out.append((render(ex.input, self.cb, rng=rng, variation=self.variation),
                        render(target, self.cb), target))
        return out


def make_targets(model: MiniJMamba, examples, device):
    """Input batch, answer-slot sizes (grown where a target would not fit) and target frames."""
    wave, n = pad_batch([e[0] for e in examples], device)
    tgt_wave, tgt_n = pad_batch([e[1] for e in examples], device)
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
    return wave, n, ans_steps, tgt, mask, tgt_wave


def compute_loss(model, batch, symbols: list[list[int]], weights: dict):
    wave, n, ans_steps, tgt, mask, tgt_wave = batch
    out = model(wave, n, ans_steps)
    pred = model.answer_frames(out["log_mag"])
    parts = {"spec_l1": losses.masked_l1(pred, tgt, mask)}
    if weights.get("ctc", 0) > 0:
        parts["ctc"] = losses.ctc(out["ctc"], ans_steps, symbols)
    if weights.get("mrstft", 0) > 0:
        parts["mrstft"] = losses.mr_stft(model.to_wave(out["log_mag"], weights.get("loss_gl_iters", 4)), tgt_wave)
    total = sum(weights[k] * v for k, v in parts.items())
    return total, {k: v.item() for k, v in parts.items()}


def task_list(t: dict) -> list[str]:
    return [t["task"]] if isinstance(t["task"], str) else list(t["task"])


class Validator:
    """A fixed val set per task; exact match of the *scored output audio*, overall and up to a level."""

    def __init__(self, cfg: dict, cb: Codebook):
        t = cfg["train"]
        self.cb, self.scorer = cb, Scorer(cb)
        self.items = {}
        for task in task_list(t):
            self.items[task] = []
            for i in range(t["val_n"]):
                ex = splits.draw(task, "val", i, t["seed"], cfg["data"])
                rng = splits.example_rng(t["seed"], task, "val/audio", i)
                self.items[task].append((render(ex.input, cb, rng=rng, variation=Variation(snr_db=t["snr_db"])),
                                         ex.target, ex.meta["difficulty"]))

    def __call__(self, model, max_level: dict, batch_size=32) -> dict:
        """{task: {exact, exact_upto_level, aux_exact}}."""
        model.eval()
        result = {}
        for task, items in self.items.items():
            hits, aux_hits = [], []
            for s in range(0, len(items), batch_size):
                chunk = items[s:s + batch_size]
                audio, aux = answer(model, [c[0] for c in chunk], self.cb.alphabet)
                for (_, target, level), y, a in zip(chunk, audio, aux):
                    hits.append((level, self.scorer.transcribe(y) == target))
                    aux_hits.append(a == target)
            cap = max_level.get(task)
            upto = [h for lv, h in hits if cap is None or lv <= cap]
            result[task] = {"exact": float(np.mean([h for _, h in hits])),
                            "exact_upto_level": float(np.mean(upto or [0])), "aux_exact": float(np.mean(aux_hits))}
        model.train()
        return result


def lr_at(step: int, t: dict) -> float:
    if step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    progress = min(1.0, (step - t["warmup"]) / max(1, t["steps"] - t["warmup"]))
    return t["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def setup_logging(out: Path) -> logging.Logger:
    """Log lines to OUT/log/train.log and stderr (--quiet only hides the progress bar)."""
    log = logging.getLogger(f"jericho.train.{out}")
    log.setLevel(logging.INFO)
    log.handlers.clear()
    (out / "log").mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")
    for h in [logging.FileHandler(out / "log" / "train.log"), logging.StreamHandler(sys.stderr)]:
        h.setFormatter(fmt)
        log.addHandler(h)
    return log


def train(config: str | None, out: str, sets: list[str] = (), resume: bool = False, dry_run: bool = False,
          quiet: bool = False, codebook: str | None = None) -> dict:
    cfg = load_config(config, sets)
    t = cfg["train"]
    cb = Codebook.load(codebook)
    cfg["model"]["n_symbols"] = len(cb.alphabet)
    torch.manual_seed(t["seed"])
    model = MiniJMamba(ModelConfig.from_dict(cfg["model"]))
    counts = model.parameter_counts()
    if dry_run:
        return {"parameters": counts, "config": cfg}
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    log = setup_logging(out_dir)
    world, rank = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))
    device = pick_device(t["device"])
    if world > 1:  # launched by torchrun
        import torch.distributed as dist

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
    model.to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not getattr(p, "_no_weight_decay", False)]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not getattr(p, "_no_weight_decay", False))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t["weight_decay"]},
                             {"params": other, "weight_decay": 0.0}], lr=t["lr"], betas=(0.9, 0.98))
    tasks = task_list(t)
    levels = {task: splits.split_levels(task, "train", cfg["data"]) for task in tasks}
    cur = t["curriculum"]
    selector = SubjectSelector(t["mix"] or {task: 1.0 for task in tasks}, adaptive=t["adaptive"], seed=t["seed"])
    state = {"step": 0, "best": -1.0, "selector": selector.state(),
             "max_level": {task: curriculum_start(cur, task, lv) for task, lv in levels.items()}}
    last = out_dir / "last.pt"
    if resume and last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        selector.load(state["selector"])
        log.info(f"resumed from {last} at step {state['step']}")
    elif resume:
        log.info(f"--resume: no {last}, starting fresh")
    write_text_atomic(out_dir / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    log.info(f"parameters: {json.dumps(counts)}; device {device}; git {git_revision()}")
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    batches, validate = Batches(cfg, cb), (Validator(cfg, cb) if rank == 0 else None)
    sym_index = {s: i for i, s in enumerate(cb.alphabet)}
    use_amp = t["amp"] and device.type == "cuda"
    bar = tqdm(total=t["steps"], initial=state["step"], desc="train", unit="step", disable=quiet or rank != 0)
    t0, window = time.time(), []

    def checkpoint(path):
        save_checkpoint(path, {"model": model.state_dict(), "model_config": model.cfg.to_dict(), "config": cfg,
                               "codebook": cb.to_dict(), "step": state["step"], "git_rev": git_revision(),
                               "optimizer": opt.state_dict(), "state": state})

    end = min(t["steps"], t["stop_at"] or t["steps"])
    while state["step"] < end:
        step = state["step"]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, t)
        task = selector.pick(step)
        exs = batches.examples(step, task, state["max_level"][task], rank)
        batch = make_targets(model, exs, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            loss, parts = compute_loss(net, batch, [[sym_index[s] for s in e[2]] for e in exs], t["loss"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
        opt.step()
        state["step"] = step + 1
        window.append(parts)
        bar.update(1)
        if rank == 0 and (state["step"] % t["val_every"] == 0 or state["step"] == end):
            per_task = validate(model, state["max_level"])
            v = {k: float(np.mean([r[k] for r in per_task.values()]))
                 for k in ("exact", "exact_upto_level", "aux_exact")}
            selector.update({task: r["exact"] for task, r in per_task.items()})
            state["selector"] = selector.state()
            mean = {k: float(np.mean([w[k] for w in window if k in w])) for k in window[0]}
            window = []
            rec = {"step": state["step"], "lr": lr_at(step, t), "max_level": state["max_level"], **mean,
                   **{"val_" + k: x for k, x in v.items()}, "elapsed_s": round(time.time() - t0, 1)}
            if len(tasks) > 1:
                rec["val_by_task"] = per_task
                rec["mix"] = selector.probs()
            log.info(json.dumps(rec))
            with open(out_dir / "log" / "metrics.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
            for task, r in per_task.items():
                lv = state["max_level"][task]
                if lv is not None and lv < levels[task][-1] and r["exact_upto_level"] >= cur["threshold"]:
                    state["max_level"][task] = lv + 1
                    log.info(f"curriculum: {task} max level -> {lv + 1}")
            full = all(lv is None or lv >= levels[task][-1] for task, lv in state["max_level"].items())
            if full and v["exact"] >= state["best"]:
                state["best"] = v["exact"]
                checkpoint(out_dir / "best.pt")
            checkpoint(last)
    bar.close()
    if not (out_dir / "best.pt").exists() and rank == 0:
        checkpoint(out_dir / "best.pt")
    log.info(f"done: {state['step']} steps, best val exact {state['best']:.4f}, {time.time() - t0:.0f}s")
    return {"parameters": counts, "best_val_exact": state["best"], "steps": state["step"]}

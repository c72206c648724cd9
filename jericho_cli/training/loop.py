"""Training (`jericho train`), as named pieces in the manner of icefall's train.py:

    prepare_run_folder -> build model / optimizer -> load_checkpoint_if_available
    -> loop: train_step; every val_every steps: validate, advance the curriculum, save_checkpoint
    -> write_run_info (run.json: parameters, hardware, threads, wall time, git revision, config hash)

Batch `n` is a pure function of (seed, n), so `--resume` from last.pt continues exactly where a run
stopped; a run folder that holds a run is never overwritten without `--overwrite`.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from tqdm import tqdm

from ..config import SECTIONS, deep_merge, defaults, load_config, model_config
from ..data import pools
from ..data.codebook import Codebook
from ..errors import JerichoError
from ..io import checkpoint
from ..io.checkpoint import Checkpoint
from ..io.files import (check_out_path, fingerprint, note_written, remove_stale_temps, to_json, write_json_atomic,
                        write_text_atomic)
from ..io.folders import STAGING, swap_in
from ..logs import add_file, log
from ..model import losses
from ..model.mini_jmamba import MiniJMamba
from ..runtime import git_revision, hardware, pick_device
from . import distributed
from .batches import Batches, make_targets, task_list
from .curriculum import advance, complete, curriculum_start
from .optim import build_optimizer, lr_at
from .selector import SubjectSelector
from .tensorboard import TensorBoard
from .validate import Validator

RUN_FILES = ("best.pt", "last.pt", "config.yaml", "run.json", "log", "tb")
LOCK_FILE = ".train.lock"  # flock'ed while a run trains in the folder
IGNORED_ON_RESUME = (("train", "stop_at"), ("train", "device"), ("train", "tensorboard"),  # may change between runs
                     ("train", "init"))  # a resumed run starts from its own last.pt


def compute_loss(model, batch, symbols: list[list[int]], weights: dict):
    """The weighted answer loss; `weights` is train.loss (a term it leaves out is not computed)."""
    wave, n, ans_steps, tgt, mask, tgt_wave, heads = batch
    out = model(wave, n, ans_steps)  # model: the MiniJMamba, or its DistributedDataParallel wrapper
    bare = getattr(model, "module", model)
    pred = bare.answer_frames(out["log_mag"])
    parts = {"spec_l1": losses.masked_l1(pred, tgt, mask, distributed.mean_over_processes(mask.sum()))}
    if weights.get("spec_sc", 0) > 0:
        many = distributed.world()[0] > 1
        parts["spec_sc"] = losses.spectral_convergence(pred, tgt, mask, distributed.sum_over_processes if many else None,
                                                       distributed.world()[0])
    if weights.get("ctc", 0) > 0:
        parts["ctc"] = losses.ctc(out["ctc"], ans_steps, symbols)
    if heads is not None and weights.get("count", 0) > 0:
        parts["count"] = losses.masked_l1(out["count"][..., None], heads[0][..., None], heads[1],
                                          distributed.mean_over_processes(heads[1].sum()))
    if heads is not None and weights.get("copy_gate", 0) > 0 and "copy_gate" in out:
        parts["copy_gate"] = losses.masked_bce(out["copy_gate"], heads[2], heads[3],
                                               distributed.mean_over_processes(heads[3].sum()))
    if weights.get("mrstft", 0) > 0:
        parts["mrstft"] = losses.mr_stft(bare.to_wave(out["log_mag"], weights["loss_gl_iters"]), tgt_wave)
    total = sum(weights[k] * v for k, v in parts.items())
    return total, {k: v.item() for k, v in parts.items()}


def run_folder(out: str, resume: bool, overwrite: bool) -> Path:
    """Where this run trains: the folder itself, or, for `--overwrite` of a folder holding a run, a
    staging folder inside it (io.folders.STAGING) that replaces the old run only when the new one
    returns (finished, or stopped at train.stop_at); `--resume` continues such a run if one was cut
    short. Decides only; every process of a torchrun computes the same."""
    out_dir = check_out_path(out)
    staging = out_dir / STAGING
    if overwrite and any((out_dir / f).exists() for f in RUN_FILES):
        return staging
    if resume and (staging / "last.pt").exists():
        return staging
    return out_dir


def prepare_run_folder(out: str, resume: bool, overwrite: bool) -> Path:
    """The run folder (run_folder), refusing to clobber a run: continue it (--resume) or start
    again (--overwrite, which leaves the old run in place until the new one has trained)."""
    out_dir, target = check_out_path(out), run_folder(out, resume, overwrite)
    if target != out_dir:
        if overwrite and target.exists():
            shutil.rmtree(target)  # an overwrite run cut short before: start it again
        elif resume:
            log.info(f"continuing the --overwrite run cut short in {target}; it replaces the earlier run "
                     f"when it returns")
    present = [f for f in RUN_FILES if (out_dir / f).exists()]
    if present and not resume and not overwrite:
        step = ""
        if (out_dir / "run.json").exists():
            try:
                info = json.loads((out_dir / "run.json").read_text())
                step = f" (step {info['steps_done']} of {info['config']['train']['steps']})"
            except (ValueError, KeyError, TypeError):
                pass
        raise JerichoError(f"holds a training run{step}; use --resume to continue it or --overwrite to "
                           "start again", str(out_dir))
    target.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target, min_age_s=0)  # the caller holds the folder lock: no other writer
    return target


def lock_run_folder(out_dir: Path):
    """An exclusive lock on the run folder for as long as this process trains in it: a second
    `jericho train` into the same folder (a recipe started twice) is refused instead of both writing
    the same checkpoints. The kernel releases it when the process ends, however it ends."""
    import fcntl

    out_dir.mkdir(parents=True, exist_ok=True)
    f = open(out_dir / LOCK_FILE, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise JerichoError(f"another `jericho train` is training in this folder (it holds {LOCK_FILE}); wait "
                           "for it or stop it first") from None
    return f  # nothing is written to it: a refused command leaves the folder as it was


def _comparable(cfg: dict) -> dict:
    """What must match to resume: the config less what may change between invocations, and of the
    data config only the parts that shape the trained tasks' examples (a task added since is fine).
    A key added since the run began counts as its default (the run behaved as the default does)."""
    c = json.loads(json.dumps(cfg))
    c.update({s: deep_merge(defaults(spec), c.get(s, {})) for s, spec in SECTIONS.items()})
    for section, key in IGNORED_ON_RESUME:
        c.get(section, {}).pop(key, None)
    if "data" in c and "task" in c.get("train", {}):
        c["data"] = pools.shaping_sections(c["data"], task_list(c["train"]))
    return c


def load_checkpoint_if_available(out_dir: Path, cfg: dict, cb: Codebook, model, opt, selector,
                                 state: dict, device, rank: int = 0) -> dict:
    """The training state to start from: last.pt's (same config and codebook only) or `state`."""
    last = out_dir / "last.pt"
    metrics = out_dir / "log" / "metrics.jsonl"
    if not last.exists():
        if rank == 0:
            metrics.unlink(missing_ok=True)  # rows of a run killed before its first checkpoint
        return state
    ck = checkpoint.load(last, device)
    if ck.state is None or ck.optimizer is None:
        raise JerichoError("not a training checkpoint (no optimizer state); cannot resume", str(last))
    if _comparable(ck.config) != _comparable(cfg) or ck.codebook != cb.to_dict():
        raise JerichoError("was trained with another config or codebook; resume with the same one or use "
                           "--overwrite", str(last))
    model.load_state_dict(ck.model)
    opt.load_state_dict(ck.optimizer)
    selector.load(ck.state["selector"])
    state = ck.state
    if rank == 0 and metrics.exists():  # rows written after the checkpoint (a kill between the two) are redone
        rows = [ln for ln in metrics.read_text().splitlines() if _row_step(ln) <= state["step"]]
        write_text_atomic(metrics, "".join(r + "\n" for r in rows))
    log.info(f"resumed from {last} at step {state['step']}")
    return state


def init_weights(path: str, model, cb: Codebook) -> dict:
    """train.init: another run's model weights (ESPnet's --init_param, icefall's fine-tuning), checked
    before the run folder is touched: same codebook, and every parameter present with its shape."""
    ck = checkpoint.load(path)
    if ck.codebook != cb.to_dict():
        raise JerichoError("train.init: was trained with another codebook", path)
    own, theirs = model.state_dict(), ck.model
    diff = ([f"{k} missing" for k in own if k not in theirs] + [f"{k} not in this model" for k in theirs if k not in own]
            + [f"{k} is {tuple(theirs[k].shape)}, this model's {tuple(v.shape)}"
               for k, v in own.items() if k in theirs and theirs[k].shape != v.shape])
    if diff:
        raise JerichoError(f"train.init: not this run's model ({diff[0]}; {len(diff)} differences)", path)
    return theirs


def _row_step(line: str) -> float:
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")  # a torn line: dropped


def save_checkpoint(path: Path, model, opt, cfg: dict, cb: Codebook, state: dict) -> None:
    Checkpoint(model=model.state_dict(), model_config=model.cfg.to_dict(), codebook=cb.to_dict(), config=cfg,
               step=state["step"], git_rev=git_revision(), optimizer=opt.state_dict(), state=state).save(path)


def backward(net, model, exs: list, cfg: dict, sym_index: dict, device, step: int) -> dict:
    """Loss on one process's examples and its gradients (under DDP: averaged over the processes, equal
    to one process's on all their examples); returns the loss terms."""
    t = cfg["train"]
    batch = make_targets(model, exs, device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=t["amp"] and device.type == "cuda"):
        loss, parts = compute_loss(net, batch, [[sym_index[s] for s in e.target] for e in exs], t["loss"])
    if not torch.isfinite(loss):
        raise JerichoError(f"loss is {loss.item()} at step {step} (lower train.lr or check the data)")
    loss.backward()
    return parts


def train_step(net, model, opt, batches: Batches, selector, state: dict, cfg: dict, sym_index: dict,
               device, rank: int) -> dict:
    """One optimizer step on one batch; returns the loss terms."""
    t, step = cfg["train"], state["step"]
    for g in opt.param_groups:
        g["lr"] = lr_at(step, t)
    task = selector.pick(step)
    exs = batches.examples(step, task, state["max_level"][task], rank)
    opt.zero_grad(set_to_none=True)
    parts = backward(net, model, exs, cfg, sym_index, device, step)
    torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
    opt.step()
    state["step"] = step + 1
    return parts


def validate(model, validator: Validator, selector, state: dict, levels: dict, cfg: dict, window: list,
             out_dir: Path, elapsed_s: float, tb: TensorBoard | None = None) -> dict:
    """Score the val sets, log a metrics row, raise curriculum levels; returns the mean val figures."""
    per_task = validator(model, state["max_level"], n_samples=2 if tb is not None and tb.writer else 0)
    if tb is not None:
        tb.validation(state["step"], per_task, state["max_level"], selector.probs() if len(per_task) > 1 else None,
                      validator.samples)
    v = {k: float(np.mean(known)) if (known := [r[k] for r in per_task.values() if r[k] is not None]) else None
         for k in ("exact", "exact_upto_level", "aux_exact")}
    selector.update({task: r["exact"] for task, r in per_task.items()})
    state["selector"] = selector.state()
    mean = {k: float(np.mean([w[k] for w in window if k in w])) for k in window[0]} if window else {}
    row = {"step": state["step"], "lr": lr_at(state["step"] - 1, cfg["train"]), "max_level": state["max_level"],
           **mean, **{"val_" + k: x for k, x in v.items()}, "elapsed_s": round(elapsed_s, 1)}
    if len(per_task) > 1:
        row["val_by_task"] = per_task
        row["mix"] = selector.probs()
    line = to_json(row, str(out_dir / "log" / "metrics.jsonl"))
    log.info(line)
    with open(out_dir / "log" / "metrics.jsonl", "a") as f:
        f.write(line + "\n")
    note_written(out_dir / "log" / "metrics.jsonl")
    for line in advance(state["max_level"], levels, per_task, cfg["train"]["curriculum"]["threshold"]):
        log.info(line)
    return v


def write_run_info(out_dir: Path, cfg: dict, counts: dict, state: dict, device, finished: bool) -> None:
    """run.json: what recipes and `report --book` read about a run (never parsed from log text)."""
    write_json_atomic(out_dir / "run.json", {
        "parameters": counts, "steps_done": state["step"], "finished": finished,
        "best_val_exact": state["best"], "train_wall_s": round(state["wall_s"], 1),
        "hardware": hardware(device), "git_rev": git_revision(), "config_hash": fingerprint(cfg), "config": cfg})


def build(cfg: dict, cb: Codebook) -> MiniJMamba:
    mc = model_config(cfg["model"])
    if mc.sample_rate != cb.sample_rate:
        raise JerichoError(f"model.sample_rate={mc.sample_rate} differs from the codebook's {cb.sample_rate} Hz",
                           cb.source)
    torch.manual_seed(cfg["train"]["seed"])
    try:
        return MiniJMamba(mc)
    except (RuntimeError, MemoryError) as exc:  # sizes in the config beyond this machine's memory
        if "allocate" not in str(exc) and not isinstance(exc, MemoryError):
            raise
        raise JerichoError(f"model config too large to allocate here ({str(exc).splitlines()[0][:120]})") from None


def train(config: list[str] | str | None, out: str | None, sets: list[str] = (), resume: bool = False,
          overwrite: bool = False, dry_run: bool = False, quiet: bool = False, codebook: str | None = None) -> dict:
    cfg = load_config(config, sets)
    t = cfg["train"]
    cb = Codebook.load(codebook)
    tasks = task_list(t)
    for task in tasks:
        cb.require(pools.task_symbols(task, cfg["data"]), f"task {task}")
    cfg["model"]["n_symbols"] = len(cb.alphabet)
    model_cfg = cfg["model"]
    if model_cfg.get("copy_align") == "count" or model_cfg.get("answer_slots") or model_cfg.get("symbol_readout"):
        # the answer's symbol clock: the codebook's canonical timing
        model_cfg["answer_clock_ms"] = [cb.lead_ms, cb.symbol_ms, cb.gap_ms]
    levels = {task: pools.split_levels(task, "train", cfg["data"]) for task in tasks}
    model = build(cfg, cb)
    counts = model.parameter_counts()
    if dry_run:
        return {"parameters": counts, "config": cfg}
    device = pick_device(t["device"])
    if t["mix"] and set(t["mix"]) != set(tasks):
        raise JerichoError(f"train.mix names {sorted(t['mix'])}, train.task is {tasks}")
    batches = Batches(cfg, cb)  # checks a training manifest before the run folder is touched
    out_dir, lock = check_out_path(out), None
    run_dir = run_folder(out, resume, overwrite)
    continues = resume and not overwrite and (run_dir / "last.pt").exists()
    if t["init"] and not continues:  # a resumed run continues from its own last.pt: init is not read
        model.load_state_dict(init_weights(t["init"], model, cb))
    device = distributed.setup(device)  # under torchrun: join the group; rank 0 owns the run folder
    rank = distributed.world()[1]
    if rank == 0:
        had_lock_file = (out_dir / LOCK_FILE).exists()
        lock = lock_run_folder(out_dir)
        try:
            prepare_run_folder(out, resume, overwrite)
        except JerichoError:  # refused: the folder is left as it was
            lock.close()
            if not had_lock_file:
                (out_dir / LOCK_FILE).unlink(missing_ok=True)
            raise
    distributed.barrier()
    if rank != 0:
        log.setLevel(logging.WARNING)  # one process reports; the others only warn
    handler = add_file(run_dir / "log" / "train.log") if rank == 0 else None
    try:
        result = _run(cfg, cb, model, counts, levels, batches, run_dir, device, quiet)
        if run_dir != out_dir and rank == 0:
            swap_in(out_dir, run_dir, RUN_FILES, last="run.json")  # the new run replaces the old one
        return result
    except Exception:
        if run_dir != out_dir and rank == 0:  # the earlier run is untouched either way
            if (run_dir / "last.pt").exists():
                log.warning(f"the new run's checkpoints are in {run_dir}; --resume continues it there")
            else:
                shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        distributed.teardown()
        if handler is not None:
            log.removeHandler(handler)
            handler.close()
        if lock is not None:
            lock.close()  # releases the lock


def _run(cfg, cb, model, counts, levels, batches, out_dir, device, quiet) -> dict:
    t, tasks = cfg["train"], list(levels)
    _, rank = distributed.world()
    model.to(device)
    opt = build_optimizer(model, t)
    selector = SubjectSelector(t["mix"] or {task: 1.0 for task in tasks}, adaptive=t["adaptive"], seed=t["seed"])
    state = {"step": 0, "best": -1.0, "wall_s": 0.0, "selector": selector.state(),
             "max_level": {task: curriculum_start(t["curriculum"], task, lv) for task, lv in levels.items()}}
    state = load_checkpoint_if_available(out_dir, cfg, cb, model, opt, selector, state, device, rank)
    state.setdefault("wall_s", 0.0)
    if rank == 0:
        write_text_atomic(out_dir / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    log.info(f"parameters: {json.dumps(counts)}; device {device}; git {git_revision()}")
    net = distributed.wrap(model)
    validator = Validator(cfg, cb) if rank == 0 else None
    tb = TensorBoard(out_dir, t["tensorboard"] and rank == 0, cb.sample_rate)
    sym_index = {s: i for i, s in enumerate(cb.alphabet)}
    end = min(t["steps"], t["stop_at"] or t["steps"])
    bar = tqdm(total=t["steps"], initial=state["step"], desc="train", unit="step", disable=quiet or rank != 0)
    window, tick = [], time.time()
    while state["step"] < end:
        window.append(train_step(net, model, opt, batches, selector, state, cfg, sym_index, device, rank))
        tb.step(state["step"], lr_at(state["step"] - 1, t), window[-1])
        bar.update(1)
        if rank == 0 and (state["step"] % t["val_every"] == 0 or state["step"] == end):
            v = validate(model, validator, selector, state, levels, cfg, window, out_dir,
                         state["wall_s"] + time.time() - tick, tb)
            window = []
            state["wall_s"] += time.time() - tick  # training and validation, summed over invocations
            tick = time.time()
            if complete(state["max_level"], levels) and v["exact"] >= state["best"]:
                state["best"] = v["exact"]
                save_checkpoint(out_dir / "best.pt", model, opt, cfg, cb, state)
            save_checkpoint(out_dir / "last.pt", model, opt, cfg, cb, state)
    bar.close()
    tb.close()
    if rank == 0:
        if not (out_dir / "best.pt").exists():
            save_checkpoint(out_dir / "best.pt", model, opt, cfg, cb, state)
        write_run_info(out_dir, cfg, counts, state, device, finished=state["step"] >= t["steps"])
    log.info(f"done: {state['step']} steps, best val exact {state['best']:.4f}, {state['wall_s']:.0f}s")
    return {"parameters": counts, "best_val_exact": state["best"], "steps": state["step"]}

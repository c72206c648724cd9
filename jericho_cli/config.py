"""Every configuration default of Jericho, in one place: data, model, training.

A config is a YAML file with `data:`, `model:` and `train:` sections (and optionally `include:`, a
file it extends, or a list of them applied in order, relative to itself) plus `--set key.path=value` overrides. Each layer is checked
against the tables below: an unknown key or a value of the wrong type or range is a one-line error
naming the key and where it came from (nanoGPT's configurator is the model: defaults in one block,
overrides say what they change, typos are errors).
"""

from __future__ import annotations

import copy
import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import yaml

from .errors import JerichoError
from .io.files import read_yaml

# the state-tracking tasks (data/state_tasks.py holds their generators): [min, max] input lengths in
# symbols of train/val/test_iid, then of test_ood_length
STATE_TASK_LEVELS = {
    "count": ([4, 14], [15, 28]),  # one- and two-digit answers in training
    "depth": ([2, 10], [12, 20]),
    "program": ([2, 12], [13, 24]),
    "parity_check": ([2, 10], [11, 20]),
    "even_pairs": ([2, 10], [11, 20]),
    "cycle_navigation": ([2, 10], [11, 20]),
    "modular_arithmetic": ([3, 9], [11, 19]),
    "reverse_string": ([2, 8], [9, 16]),
    "duplicate_string": ([2, 8], [9, 16]),
    "binary_addition": ([3, 9], [10, 18]),
}
TASKS = ("mirror", "bracket", "mod") + tuple(STATE_TASK_LEVELS)
# block kinds a model may stack (model/mini_jmamba.py builds each)
LAYER_KINDS = ("ssd", "attn", "lstm", "s4d", "hyena")
# signal domains: data/render.RENDERERS makes each, scoring/ears.EARS hears each (tests hold them equal)
DOMAINS = ("tone", "tone_independent", "pulse", "carrier", "speech", "speech_wide", "speech_heldout")
# `jericho probe` analyses and `jericho prune` modes: the commands' --help and checks read these
PROBE_ANALYSES = ("state-norms", "linear-probes", "structure", "predictability")
PRUNE_MODES = ("selective", "random", "learned")


@dataclass(frozen=True)
class Opt:
    """One option: its default, what it means, and what values it takes."""
    default: Any
    doc: str
    kind: type | tuple = ()       # accepted types; from the default when empty (None default: give it)
    choices: tuple = ()
    check: Callable[[Any], str | None] | None = None  # returns a complaint or None
    nullable: bool = False


# ------------------------------------------------------------------------------------ checks
def at_least(lo):
    return lambda v: None if v >= lo else f"must be >= {lo}"


def above(lo):
    return lambda v: None if v > lo else f"must be > {lo}"


def between(lo, hi):
    return lambda v: None if lo <= v <= hi else f"must be in [{lo}, {hi}]"


def in_unit(v):
    return None if 0 <= v <= 1 else "must be in [0, 1]"


MAX_LEVEL = 500  # symbols (or digits) of one input: ~1 min of audio; the 8x splits reach 8 times the iid high


def level_range(v):
    if len(v) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return "must be [low, high], two integers"
    return None if 1 <= v[0] <= v[1] <= MAX_LEVEL else f"must have 1 <= low <= high <= {MAX_LEVEL}, got {v}"


def symbol_string(v):
    return None if v and len(set(v)) == len(v) else "must be a non-empty string of distinct symbols"


def layer_list(v):
    bad = [x for x in v if x not in LAYER_KINDS]
    return f"unknown layer kinds {bad} ({', '.join(LAYER_KINDS)})" if bad else (None if v else "must not be empty")


def window_spec(v):
    ws = v if isinstance(v, list) else [v]
    ok = ws and all(w is None or (isinstance(w, int) and not isinstance(w, bool) and w >= 1) for w in ws)
    return None if ok else "must be a positive number of steps, or a list of them (null: full attention)"


def int_list(v):
    return None if all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v) else \
        "must be a list of non-negative integers"


def task_spec(v):
    names = [v] if isinstance(v, str) else v
    bad = [t for t in names if t not in TASKS]
    if bad or not names:
        return f"unknown task {bad[0]!r} (available: {', '.join(TASKS)})" if bad else "must name a task"
    return None


MAX_WEIGHT = 1e6  # relative weights: beyond this their sum can overflow to inf (probabilities NaN)


def _is_weight(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and 0 <= x <= MAX_WEIGHT


def _unknown_task(v):
    bad = [t for t in v if t not in TASKS]
    return f"names unknown task {bad[0]!r}" if bad else None


def task_weights(v):
    if err := _unknown_task(v):
        return err
    ok = all(_is_weight(w) for w in v.values())
    return None if ok and sum(v.values()) > 0 else \
        f"weights must be finite numbers in [0, {MAX_WEIGHT:g}] with a positive sum"


def level_weights(v):
    if err := _unknown_task(v):
        return err
    for w in v.values():
        if not isinstance(w, dict) or not w:
            return "must map each task to {level: weight}"
        if not all(isinstance(lv, int) and not isinstance(lv, bool) for lv in w):
            return "levels must be integers"
        if not all(_is_weight(x) for x in w.values()):
            return f"weights must be finite numbers in [0, {MAX_WEIGHT:g}]"
    return None


def range_pair(v):
    ok = len(v) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)
    return None if ok and v[0] <= v[1] else "must be [low, high], two numbers with low <= high"


def range_within(lo: float, hi: float):
    """A [low, high] pair inside [lo, hi]: durations and factors that size audio buffers are bounded
    (a 1e6 time scale would render a day of audio per utterance)."""
    def check(v):
        return range_pair(v) or (None if lo <= v[0] and v[1] <= hi else f"must lie within [{lo:g}, {hi:g}]")
    return check


def subset_of(allowed):
    return lambda v: None if v and all(x in allowed for x in v) else f"must be a non-empty list of {', '.join(allowed)}"


def device_name(v):
    return None if v in ("auto", "cpu", "cuda") or v.startswith("cuda:") else "must be auto, cpu, cuda or cuda:N"


# -------------------------------------------------------------------------------------- data
DATA = {
    "pools": {  # percent of the hashed input space (data/pools.py): no test input can occur in train
        "train": Opt(80, "buckets [0, train) are the train pool", check=at_least(1)),
        "val": Opt(10, "the next `val` buckets are the val pool", check=at_least(1)),
        "test": Opt(10, "the rest is the test pool", check=at_least(1)),
    },
    "mirror": {
        "variant": Opt("copy", "copy the input, or repeat it twice, or reverse it",
                       choices=("copy", "repeat", "reverse")),
        "train_symbols": Opt("ABCDEFGHIJ", "symbols of train and IID splits", check=symbol_string),
        "ood_symbols": Opt("KL", "held-out symbols of test_ood_symbol", check=symbol_string),
        "iid_levels": Opt([3, 10], "[min, max] sequence length of train/val/test_iid", check=level_range),
        "ood_length_levels": Opt([11, 20], "[min, max] length of test_ood_length", check=level_range),
    },
    "bracket": {
        "iid_levels": Opt([4, 10], "[min, max] sequence length (odd lengths round up)", check=level_range),
        "ood_length_levels": Opt([12, 20], "[min, max] length of test_ood_length", check=level_range),
    },
    "mod": {
        "iid_levels": Opt([1, 3], "[min, max] digits of the dividend A", check=level_range),
        "divisor_digits": Opt(2, "divisors have 1..this many digits (never more than A)", check=at_least(1)),
        "iid_steps": Opt([1, 2], "[min, max] number of % operators in train/IID", check=level_range),
        "ood_length_levels": Opt([4, 5], "[min, max] dividend digits of test_ood_length", check=level_range),
        "compose_steps": Opt(3, "number of % operators in test_ood_compose", check=at_least(1)),
        "edge_prob": Opt(0.1, "extra probability of an edge case (A<B, A=B, B=1)", check=in_unit),
        "balance_remainders": Opt(True, "draw the remainder first (else uniform A, B: half the answers 0)"),
    },
    **{name: {"iid_levels": Opt(iid, "[min, max] input length of train/val/test_iid", check=level_range),
              "ood_length_levels": Opt(ood, "[min, max] input length of test_ood_length", check=level_range)}
       for name, (iid, ood) in STATE_TASK_LEVELS.items()},
}
DATA["binary_addition"]["little_endian"] = Opt(True, "numbers and sum little-endian (the Chomsky benchmark); "
                                                     "false: as written on paper (the appendix's 101+011 -> 1000)")
DATA["cycle_navigation"]["cycle"] = Opt(5, "positions on the cycle (the answer is the final one)",
                                        check=at_least(2))
DATA["modular_arithmetic"]["operators"] = Opt("+-X", "operators drawn between the numbers (X: times)",
                                              check=symbol_string)

# ------------------------------------------------------------------------------------- model
MODEL = {
    "name": Opt("appendix", "named size (NAMED_MODELS) the other keys override"),
    "d_model": Opt(128, "residual width", check=at_least(1)),
    "layers": Opt(["ssd", "ssd", "attn", "ssd", "ssd", "attn"], f"block kinds in order ({', '.join(LAYER_KINDS)})",
                  check=layer_list),
    "d_state": Opt(64, "SSD state size N per head", check=at_least(1)),
    "headdim": Opt(32, "SSD head dimension P", check=at_least(1)),
    "expand": Opt(2, "SSD inner width = expand * d_model", check=at_least(1)),
    "d_conv": Opt(4, "SSD depthwise causal conv width", check=at_least(1)),
    "chunk_size": Opt(64, "SSD chunk length of the chunked scan", check=at_least(1)),
    "lti_layers": Opt([], "indices (among SSD layers) made LTI: dt, B, C input-independent", check=int_list),
    "neg_eig": Opt(False, "SSD eigenvalues in [-1, 1] instead of [0, 1] (parity-like state tracking)"),
    "ssd_integrators": Opt(0, "SSD heads per layer whose decay is pinned at 1: an exact running sum (a counter "
                           "that does not leak, so it holds depths and counts beyond the training lengths)",
                           check=at_least(0)),
    "n_heads": Opt(4, "attention heads", check=at_least(1)),
    "positions": Opt("restart", "rotary positions of attention: restart (input and answer slot each count from "
                     "0), continue (one count), none (order only from the SSD layers and causality)",
                     choices=("restart", "continue", "none")),
    "positions_stretch": Opt(1.0, "training only: each sequence's rotary positions are scaled by a factor drawn "
                             "from [1, this], so attention meets in training the distances of longer inputs "
                             "(1 = off; evaluation never stretches)", kind=(int, float), check=at_least(1)),
    "attn_window": Opt(None, "attention window in model steps; null = full causal; or a list, one window (or null) "
                       "per attention layer in order (a windowed layer beside a full one)", kind=(int, list),
                       nullable=True, check=window_spec),
    "copy_head": Opt(False, "answer frames may copy the input's own STFT frames by attention (unseen symbols)"),
    "copy_align": Opt("position", "how the copy head finds what to copy: position (answer step k meets input step "
                      "k through rotary positions: input and answer in step) or count (answer symbol k meets "
                      "the input's k-th symbol, counted by a learned onset detector: any input timing)",
                      choices=("position", "count")),
    "copy_gate": Opt("learned", "what the copy head answers with: learned (a gate mixes the copied frames with the "
                     "output head's, per answer frame) or copy (the copied frames alone: a gate trained on noisy "
                     "inputs drifts to the output head, which fails where the copy holds; Mirror's default)",
                     choices=("learned", "copy")),
    "answer_slots": Opt(False, "the answer says one spectrum per symbol: its frames on each symbol's tone (the "
                        "canonical answer clock) are their mean, so no answer symbol changes pitch or splits"),
    "symbol_readout": Opt(False, "each answer symbol also reads the input states where its input symbol was heard, "
                          "found by a learned count of onsets (train.loss.count), not by position; silence past "
                          "the input's last symbol (model/symbol_readout.py; not with copy_head)"),
    "readout_refractory_ms": Opt(0.0, "symbol_readout: after an onset no other begins for this long (at least "
                                 "one model step): the shortest symbol's duration, so a spoken word's second "
                                 "syllable is not counted as a word", kind=(int, float), check=at_least(0)),
    "answer_clock_ms": Opt([50.0, 100.0, 50.0], "lead, tone and gap ms of the canonical answer (copy_align "
                           "count, answer_slots, symbol_readout); set from the codebook by train", kind=list, check=lambda v: None if len(v) == 3
                           and all(isinstance(x, (int, float)) and x >= 0 for x in v) and v[1] + v[2] > 0
                           else "must be [lead_ms, tone_ms, gap_ms], non-negative, tone + gap > 0"),
    "attn_sink": Opt(False, "attention layers get a learned sink key/value every step can attend to"),
    "mlp_ratio": Opt(2.0, "attention block MLP width / d_model", check=above(0)),
    "frontend": Opt("mel", "log-mel, STFT log-magnitude, or a learnable strided conv on the wave",
                    choices=("mel", "stft", "conv")),
    "n_mels": Opt(64, "mel bands (frontend mel)", check=at_least(1)),
    "n_fft": Opt(512, "STFT size (front end, answer frames, Griffin-Lim)", check=at_least(16)),
    "hop": Opt(160, "STFT hop in samples (10 ms at 16 kHz)", check=at_least(1)),
    "win": Opt(400, "STFT window in samples", check=at_least(1)),
    "sample_rate": Opt(16000, "Hz; must equal the codebook's", check=at_least(1000)),
    "downsample": Opt(1, "STFT frames stacked into one model step", check=at_least(1)),
    "context": Opt(0, "earlier model steps the input projection also sees (1: a layer's dt can see onsets, "
                   "which sign-flipping state tracking needs when a symbol lasts several steps)",
                   check=at_least(0)),
    "answer_ratio": Opt(1.0, "answer slot = answer_ratio * input steps + answer_pad", check=at_least(0)),
    "answer_pad": Opt(40, "answer slot padding in STFT frames (40 = 400 ms)", check=at_least(0)),
    "n_symbols": Opt(31, "CTC classes (+1 blank); set from the codebook by train", check=at_least(1)),
    "gl_iters": Opt(32, "Griffin-Lim iterations when decoding", check=at_least(1)),
}

NAMED_MODELS = {
    # the prototype's size: d_model 128, 4 SSD + 2 attention, ~0.9M parameters
    "appendix": {"mlp_ratio": 4.0},
    # the execution plan's depth: 10 SSD + 2 attention (one attention in each half)
    "plan": {"d_model": 256, "headdim": 64, "n_heads": 8,
             "layers": ["ssd"] * 5 + ["attn"] + ["ssd"] * 5 + ["attn"]},
    # small enough to train on 2 CPU cores in minutes (the README's main job)
    "cpu_small": {"d_model": 64, "d_state": 32, "headdim": 16, "n_heads": 4, "n_mels": 48,
                  "layers": ["ssd", "attn", "ssd", "attn"]},
}

# ------------------------------------------------------------------------------------- train
TRAIN = {
    "task": Opt("mirror", f"one task ({', '.join(TASKS)}), or a list for multitask training with the subject "
                "selector",
                kind=(str, list), check=task_spec),
    "mix": Opt(None, "{task: weight} base proportions of the subject selector; null = equal", kind=dict,
               nullable=True, check=task_weights),
    "level_mix": Opt(None, "{task: {level: weight}} tilts the training level draw (unnamed levels 1); "
                     "null = every level equally likely. Validation and test sets keep their own mix",
                     kind=dict, nullable=True, check=level_weights),
    "adaptive": Opt(False, "subject selector: lagging tasks get more batches"),
    "control": Opt(None, "shuffled_answers: negative control, each input paired with another's answer",
                   kind=str, nullable=True, choices=("shuffled_answers",)),
    "seed": Opt(0, "model init and every batch flow from this", check=at_least(0)),
    "steps": Opt(3000, "optimizer steps", check=at_least(1)),
    "batch_size": Opt(16, "utterances per step (per process)", check=between(1, 4096)),
    "lr": Opt(2e-3, "peak learning rate (AdamW, linear warmup, cosine to 10%)", check=above(0)),
    "warmup": Opt(200, "linear warmup steps", check=at_least(0)),
    "weight_decay": Opt(0.01, "AdamW weight decay on matrices", check=at_least(0)),
    "grad_clip": Opt(1.0, "gradient norm clip", check=above(0)),
    "val_every": Opt(250, "validate and checkpoint every this many steps", check=at_least(1)),
    "tensorboard": Opt(True, "TensorBoard event files in <out>/tb when the tensorboard package is installed"),
    "val_n": Opt(64, "validation utterances per task (scored from decoded audio)", check=between(1, 100000)),
    "manifest": Opt(None, "train on this manifest's wavs instead of on-the-fly data", kind=str, nullable=True),
    "init": Opt(None, "start from this checkpoint's model weights (fine-tuning: same model and codebook; "
                      "fresh optimizer and schedule); a resumed run continues from its own last.pt",
                kind=str, nullable=True),
    "snr_db": Opt(None, "white noise at this SNR on training inputs; null = clean", kind=float, nullable=True),
    "domain": Opt("tone", f"signal domain of the training and validation inputs ({', '.join(DOMAINS)}), or a "
                  "list: each example draws one; answers are tones in every domain", kind=(str, list),
                  check=lambda v: None if v and all(d in DOMAINS for d in ([v] if isinstance(v, str) else v))
                  else f"must be one of {', '.join(DOMAINS)}, or a non-empty list of them"),
    "device": Opt("auto", "auto | cpu | cuda | cuda:N", check=device_name),
    "amp": Opt(True, "bf16 autocast on CUDA"),
    "stop_at": Opt(None, "end this invocation at this step (a cluster time slot); --resume goes on",
                   kind=int, nullable=True, check=at_least(1)),
    "curriculum": {
        "enabled": Opt(True, "raise the max level as validation passes `threshold`; or a list of tasks",
                       kind=(bool, list)),
        "start": Opt(None, "first max level, or {task: level}; null = the lowest level", kind=(int, dict),
                     nullable=True),
        "threshold": Opt(0.9, "validation exact match (up to the level) that raises the level",
                         check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]"),
    },
    "augment": {  # robust training (issue #9): what real audio varies in, drawn per utterance
        "enabled": Opt(False, "render training inputs with the ranges below (validation stays as rendered)"),
        "tone_ms": Opt([40, 150], "[lo, hi] ms of each tone", check=range_within(1, 2000)),
        "gap_ms": Opt([20, 100], "[lo, hi] ms of each gap", check=range_within(0, 2000)),
        "time_scale": Opt([1, 1], "[lo, hi] factor on every tone and gap of an utterance, drawn once per "
                          "utterance (2 = twice as slow), with or without `enabled`: a state holds over more frames",
                          check=range_within(0.1, 8)),
        "envelopes": Opt(["hann", "linear", "exp", "none"], "onset/offset shapes",
                         check=subset_of(("hann", "linear", "exp", "none"))),
        "ramp_ms": Opt([1, 20], "[lo, hi] ms of the onset/offset ramps", check=range_within(0, 100)),
        "freq_offset": Opt(0.015, "relative frequency offset of a whole utterance, uniform +- (DTMF tolerance)",
                           check=lambda v: None if 0 <= v < 0.05 else "must be in [0, 0.05)"),
        "snr_db": Opt([0, 40], "[lo, hi] dB SNR of the added noise", check=range_pair),
        "p_noise": Opt(0.8, "probability of noise", check=in_unit),
        "noise_colours": Opt(["white", "pink", "brown"], "noise spectra",
                             check=subset_of(("white", "pink", "brown"))),
        "p_reverb": Opt(0.3, "probability of reverberation", check=in_unit),
        "rt60": Opt([0.1, 0.6], "[lo, hi] s reverberation time", check=range_within(0, 5)),
        "gain_dbfs": Opt([-40, 0], "[lo, hi] dBFS peak level of the utterance", check=range_pair),
        "p_dc": Opt(0.2, "probability of a DC offset (up to +-0.05)", check=in_unit),
        "p_hum": Opt(0.2, "probability of 50/60 Hz hum 20-40 dB below the tones", check=in_unit),
    },
    "loss": {
        "spec_l1": Opt(1.0, "weight of L1 on answer log-magnitude frames", check=at_least(0)),
        "spec_sc": Opt(0.0, "weight of spectral convergence on answer magnitudes (keeps unsure tones loud)",
                       check=at_least(0)),
        "mrstft": Opt(0.0, "weight of multi-resolution STFT on the Griffin-Lim waveform", check=at_least(0)),
        "ctc": Opt(0.2, "weight of the auxiliary CTC head", check=at_least(0)),
        "count": Opt(1.0, "weight of L1 between the model's symbol count and the renderer's onsets "
                     "(model.copy_align: count or model.symbol_readout; unused otherwise)", check=at_least(0)),
        "copy_gate": Opt(0.0, "weight of cross-entropy between a count-aligned copy head's learned gate (its mean "
                         "logit over the answer) and whether the answer is the input, symbol for symbol: the gate "
                         "follows the task (multitask), not which path scores better on noisy training audio "
                         "(model.copy_gate: learned; unused otherwise)", check=at_least(0)),
        "loss_gl_iters": Opt(4, "Griffin-Lim iterations inside the mrstft loss", check=at_least(1)),
    },
}

SECTIONS = {"data": DATA, "model": MODEL, "train": TRAIN}


# ------------------------------------------------------------------------------ mechanics
def task_defaults(task: str, cfg: dict) -> dict:
    """A task's data section with every key it omits at its default (generators read keys directly)."""
    return {**defaults(DATA.get(task, {})), **cfg}


def defaults(spec: dict) -> dict:
    return {k: defaults(v) if isinstance(v, dict) else copy.deepcopy(v.default) for k, v in spec.items()}


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _type_name(kind) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a mapping"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def all_finite(value) -> bool:
    """No NaN or infinity anywhere in value (a number, or lists and mappings of them): the one check
    every number entering a config passes, whatever else its key requires."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(all_finite(k) and all_finite(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(all_finite(v) for v in value)
    return True


def _coerce(value, opt: Opt, key: str, where: str):
    """The value with its type checked (ints pass as floats, '3e-4' as a float), or a JerichoError."""
    if value is None:
        if opt.nullable:
            return None
        raise JerichoError(f"{key} cannot be null", where)
    kind = opt.kind or type(opt.default)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    ok = any(isinstance(value, k) and not (isinstance(value, bool) and k is not bool) for k in kinds)
    if not ok and float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise JerichoError(f"{key} must be {_type_name(kind)}, got {value!r}", where)
    if not all_finite(value):
        raise JerichoError(f"{key} must hold finite numbers only, got {value!r}", where)
    if opt.choices and value not in opt.choices:
        raise JerichoError(f"{key}: {value!r} is not one of {', '.join(map(str, opt.choices))}", where)
    problem = opt.check(value) if opt.check else None
    if problem:
        raise JerichoError(f"{key} {problem}", where)
    return value


def check_layer(layer: dict, spec: dict, where: str, prefix: str = "") -> dict:
    """Check one layer of overrides (a file or the --set list) against `spec`; returns it coerced."""
    if not isinstance(layer, dict):
        raise JerichoError(f"{prefix.rstrip('.') or 'config'} must be a mapping", where)
    out = {}
    for k, v in layer.items():
        key = f"{prefix}{k}"
        if k not in spec:
            near = difflib.get_close_matches(str(k), [str(s) for s in spec], n=1)
            hint = f" (did you mean {prefix}{near[0]}?)" if near else f" (known: {', '.join(spec)})"
            raise JerichoError(f"unknown config key {key}{hint}", where)
        if isinstance(spec[k], dict):
            out[k] = check_layer(v, spec[k], where, key + ".")
        else:
            out[k] = _coerce(v, spec[k], key, where)
    return out


def _read_layers(path: str | Path, seen: tuple = ()) -> list[tuple[dict, str]]:
    """A config file and the files it includes, base first: [(raw dict, file name)]."""
    p = Path(path)
    if p.resolve() in seen:
        raise JerichoError("include cycle", str(p))
    raw = read_yaml(p, "config")
    layers = []
    inc = raw.pop("include", None)
    if inc is not None:  # a file, or a list of files applied in order (a task config, then a core)
        files = [inc] if isinstance(inc, str) else inc
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise JerichoError("include must be a file name or a list of file names", str(p))
        for f in files:
            layers += _read_layers(p.parent / f, seen + (p.resolve(),))
    return layers + [(raw, str(p))]


def parse_sets(sets: list[str]) -> dict:
    """['train.lr=3e-4', ...] -> nested dict (values parsed as YAML)."""
    out: dict = {}
    for s in sets:
        key, eq, value = s.partition("=")
        if not eq or not key or any(not part for part in key.split(".")):
            raise JerichoError(f"--set expects key.path=value, got {s!r}")
        cur = out
        parts = key.split(".")
        for k in parts[:-1]:
            nxt = cur.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise JerichoError(f"--set {s!r}: {k} is set to a value and a section at once")
            cur = nxt
        try:
            cur[parts[-1]] = yaml.safe_load(value)
        except yaml.YAMLError:
            cur[parts[-1]] = value
    return out


def _check_sections(raw: dict, where: str, allowed=("data", "model", "train")) -> dict:
    bad = [k for k in raw if k not in allowed]
    if bad:
        raise JerichoError(f"unknown config section {bad[0]!r} (sections: {', '.join(allowed)})", where)
    return {k: check_layer(v if v is not None else {}, SECTIONS[k], where, k + ".") for k, v in raw.items()}


def load_config(paths: str | list[str] | None = None, sets: list[str] = ()) -> dict:
    """The full training config: defaults <- each file (with its includes) <- --set; all checked."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths or [])
    layers = [lay for p in paths for lay in _read_layers(p)]
    layers.append((parse_sets(list(sets)), "--set"))
    cfg = {"data": defaults(DATA), "model": {"name": MODEL["name"].default}, "train": defaults(TRAIN)}
    for raw, where in layers:
        cfg = deep_merge(cfg, _check_sections(raw, where))
    model_config(cfg["model"])  # named config and cross-field checks
    check_data(cfg["data"])
    return cfg


def load_data_config(paths: str | Path | list | None) -> dict:
    """A data config for `synth`: defaults <- each file's `data:` section in order (a whole train config works)."""
    cfg = defaults(DATA)
    for path in [paths] if isinstance(paths, (str, Path)) else paths or []:
        for raw, where in _read_layers(path):
            if "data" in raw or set(raw) & {"model", "train"}:
                raw = _check_sections(raw, where).get("data", {})
            else:
                raw = check_layer(raw, DATA, where, "data.")
            cfg = deep_merge(cfg, raw)
    check_data(cfg)
    return cfg


def check_data(data: dict) -> None:
    if data["pools"]["train"] + data["pools"]["val"] >= 100:
        raise JerichoError("data.pools.train + data.pools.val must leave a test pool (sum below 100)")
    m = data["mirror"]
    if set(m["train_symbols"]) & set(m["ood_symbols"]):
        raise JerichoError("data.mirror.ood_symbols must not occur in data.mirror.train_symbols")


class ModelConfig(SimpleNamespace):
    """Expanded model options (attribute access); built only through `model_config`."""

    def to_dict(self) -> dict:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, d: dict, where: str = "model config") -> "ModelConfig":
        return model_config(d, where)


def model_config(d: dict, where: str = "model config") -> ModelConfig:
    """Defaults <- the named size <- explicit keys, checked (also cross-field)."""
    d = check_layer(dict(d), MODEL, where, "model.")
    name = d.get("name", MODEL["name"].default)
    if name not in NAMED_MODELS:
        raise JerichoError(f"model.name: unknown named model {name!r} (available: {', '.join(NAMED_MODELS)})",
                           where)
    full = {**defaults(MODEL), **copy.deepcopy(NAMED_MODELS[name]), **d}
    full.pop("name")
    c = ModelConfig(**full)
    if c.d_model % c.n_heads:
        raise JerichoError(f"model.d_model={c.d_model} must be a multiple of model.n_heads={c.n_heads}", where)
    if (c.expand * c.d_model) % c.headdim:
        raise JerichoError(f"model.expand*d_model={c.expand * c.d_model} must be a multiple of "
                           f"model.headdim={c.headdim}", where)
    if c.win > c.n_fft:
        raise JerichoError(f"model.win={c.win} must be <= model.n_fft={c.n_fft}", where)
    n_ssd = sum(k == "ssd" for k in c.layers)
    if any(i >= n_ssd for i in c.lti_layers):
        raise JerichoError(f"model.lti_layers {c.lti_layers}: there are only {n_ssd} SSD layers", where)
    ssd_heads = c.expand * c.d_model // c.headdim
    if c.ssd_integrators > ssd_heads:
        raise JerichoError(f"model.ssd_integrators={c.ssd_integrators}: an SSD layer has only {ssd_heads} heads "
                           f"(expand * d_model / headdim)", where)
    n_attn = sum(k == "attn" for k in c.layers)
    if isinstance(c.attn_window, list) and len(c.attn_window) != n_attn:
        raise JerichoError(f"model.attn_window {c.attn_window}: one window per attention layer, and there are "
                           f"{n_attn}", where)
    if c.symbol_readout and c.copy_head:
        raise JerichoError("model.symbol_readout and model.copy_head both count the input's symbols: use one", where)
    return c


def describe(spec: dict | None = None, prefix: str = "") -> str:
    """Every option with its default and meaning (`jericho train --show-defaults`)."""
    if spec is None:
        return "".join(describe(s, name + ".") for name, s in SECTIONS.items())
    lines = []
    for k, v in spec.items():
        if isinstance(v, dict):
            lines.append(describe(v, f"{prefix}{k}."))
        else:
            lines.append(f"{prefix}{k} = {json_like(v.default)}  # {v.doc}\n")
    return "".join(lines)


def json_like(v) -> str:
    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()

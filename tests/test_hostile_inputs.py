"""Hostile input, table-driven: every subcommand, every kind of bad file, manifest, config, option and
checkpoint. Each case must end with the documented exit code (1 bad input, 2 usage), exactly one
line on stderr naming the problem (no traceback), and no output left behind."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from jericho_cli.cli import app


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------------------------ the world
class World:
    """A small synthesized set, a tiny trained checkpoint and a score summary, made once."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        r = run("synth", "--task", "mirror", "--split", "test_iid", "--n", 3, "--seed", 1, "--quiet",
                "--out", self.data)
        assert r.exit_code == 0, r.output
        self.records = [json.loads(x) for x in (self.data / "manifest.jsonl").read_text().splitlines()]
        self.run_dir = root / "run"
        r = run("train", "--out", self.run_dir, "--quiet", "--set", "model.name=cpu_small", "--set",
                "model.downsample=2", "--set", "train.steps=2", "--set", "train.val_every=2", "--set",
                "train.val_n=2", "--set", "train.batch_size=2", "--set", "data.mirror.iid_levels=[3,3]")
        assert r.exit_code == 0, r.output
        self.ckpt = self.run_dir / "best.pt"
        self.scored = root / "scored"
        assert run("score", "--ref", self.data, "--out", self.scored).exit_code == 0
        self.n = 0

    def case_dir(self) -> Path:
        self.n += 1
        d = self.root / f"case{self.n:03d}"
        d.mkdir()
        return d


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("world"))


# ------------------------------------------------------------------------------- damaged files
def _write_wav_kind(path: Path, kind: str, good: Path):
    if kind == "missing":
        return
    if kind == "corrupt":
        path.write_bytes(b"RIFF\x00\x01garbage" * 10)
    elif kind == "empty":
        sf.write(path, np.zeros(0, np.float32), 16000)
    elif kind == "zero_bytes":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not audio\n")
    elif kind == "rate":
        sf.write(path, np.zeros(800, np.float32), 8000)
    elif kind == "stereo":
        sf.write(path, np.zeros((800, 2), np.float32), 16000)
    elif kind == "nan":
        sf.write(path, np.full(800, np.nan, np.float32), 16000, subtype="FLOAT")
    elif kind == "inf":
        y = np.zeros(800, np.float32)
        y[10] = np.inf
        sf.write(path, y, 16000, subtype="FLOAT")
    elif kind == "truncated":
        b = good.read_bytes()
        path.write_bytes(b[: len(b) // 2])
    elif kind == "folder":
        path.mkdir()
    else:
        raise ValueError(kind)


WAV_DAMAGE = {"missing": "file not found", "corrupt": "cannot decode audio", "empty": "empty audio",
              "zero_bytes": "cannot decode audio", "text": "cannot decode audio", "rate": "sample rate 8000 Hz",
              "stereo": "2 channels", "nan": "NaN", "inf": "NaN or infinite", "truncated": "truncated file",
              "folder": "is a folder"}


def _hyp_with_bad_wav(w: World, d: Path, kind: str) -> Path:
    """A hypothesis manifest over copies of the reference answers, the second one damaged."""
    lines = []
    for k, r in enumerate(w.records):
        p = d / f"h{k}.wav"
        if k == 1:
            _write_wav_kind(p, kind, w.data / r["target_audio"])
        else:
            shutil.copy(w.data / r["target_audio"], p)
        lines.append(json.dumps({"id": r["id"], "audio": p.name}))
    (d / "hyp.jsonl").write_text("\n".join(lines) + "\n")
    return d / "hyp.jsonl"


def _inputs_with_bad_wav(w: World, d: Path, kind: str) -> Path:
    """A full reference manifest (input and answer audio) whose second input wav is damaged."""
    lines = []
    for k, r in enumerate(w.records):
        rec = dict(r, audio=f"in{k}.wav", target_audio=f"ans{k}.wav")
        shutil.copy(w.data / r["target_audio"], d / rec["target_audio"])
        if k == 1:
            _write_wav_kind(d / rec["audio"], kind, w.data / r["audio"])
        else:
            shutil.copy(w.data / r["audio"], d / rec["audio"])
        lines.append(json.dumps(rec))
    (d / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return d / "manifest.jsonl"


def _wav_folder(w: World, d: Path, kind: str) -> Path:
    folder = d / "wavs"
    folder.mkdir()
    shutil.copy(w.data / w.records[0]["audio"], folder / "a.wav")
    _write_wav_kind(folder / "b.wav", kind, w.data / w.records[1]["audio"])
    return folder


# -------------------------------------------------------------------------- damaged manifests
def _edit_manifest(w: World, d: Path, edit) -> Path:
    """The reference manifest, edited, written beside the real one (so audio paths resolve)."""
    lines = (w.data / "manifest.jsonl").read_text().splitlines()
    p = w.data / f"edited_{d.name}.jsonl"
    text = edit([json.loads(x) for x in lines], lines)
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def _set(field, value):
    def edit(recs, lines):
        recs[1][field] = value
        return "".join(json.dumps(r) + "\n" for r in recs)
    return edit


def _drop(field):
    def edit(recs, lines):
        del recs[1][field]
        return "".join(json.dumps(r) + "\n" for r in recs)
    return edit


MANIFEST_DAMAGE = {
    "bad_json": (lambda recs, lines: lines[0] + "\n" + '{"id": "x", \n' + lines[2] + "\n", "bad JSON"),
    "array_line": (lambda recs, lines: lines[0] + "\n[1, 2]\n", "must be a JSON object"),
    "empty": (lambda recs, lines: "", "empty manifest"),
    "blank_lines": (lambda recs, lines: "\n\n  \n", "empty manifest"),
    "binary": (lambda recs, lines: b"\xff\xfe\x00garbage\x80", "not a UTF-8"),
    "duplicate_id": (lambda recs, lines: lines[0] + "\n" + lines[0] + "\n", "duplicate id"),
    "missing_id": (_drop("id"), "missing field 'id'"),
    "missing_audio": (_drop("audio"), "missing field 'audio'"),
    "id_number": (_set("id", 5), "field 'id' must be a string"),
    "audio_list": (_set("audio", ["a.wav"]), "field 'audio' must be a string"),
    "audio_empty": (_set("audio", ""), "field 'audio' is empty"),
    "input_string": (_set("input", "ABC"), "field 'input' must be a JSON list"),
    "input_numbers": (_set("input", [1, 2]), "list of one-character symbols"),
    "meta_list": (_set("meta", [1]), "field 'meta' must be a JSON dict"),
}
REF_ONLY_DAMAGE = {
    "missing_target": (_drop("target"), "missing field 'target'"),
    "target_string": (_set("target", "ABC"), "field 'target' must be a JSON list"),
    "target_multichar": (_set("target", ["AB"]), "list of one-character symbols"),
    "unknown_symbol": (_set("target", ["A", "Q"]), "unknown symbol 'Q'"),
    "missing_task": (_drop("task"), "missing field 'task'"),
    "missing_target_audio": (_drop("target_audio"), "missing field 'target_audio'"),
}


# -------------------------------------------------------------------------------- checkpoints
def _bad_ckpt(w: World, d: Path, kind: str) -> Path:
    p = d / "model.pt"
    if kind == "missing":
        return p
    if kind == "folder":
        p.mkdir()
    elif kind == "text":
        p.write_text("not a checkpoint\n")
    elif kind == "zip_garbage":
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("archive/data.pkl", b"garbage")
    elif kind == "truncated":
        b = w.ckpt.read_bytes()
        p.write_bytes(b[: len(b) // 2])
    elif kind == "code":  # a pickle that would run a command: weights_only must refuse it
        class Boom:
            def __reduce__(self):
                return (os.system, (f"touch {d / 'PWNED'}",))
        torch.save({"model": Boom()}, p)
    elif kind == "plain_state_dict":
        torch.save(torch.load(w.ckpt, weights_only=True)["model"], p)
    elif kind == "list":
        torch.save([1, 2, 3], p)
    elif kind in ("newer", "foreign", "wrong_shape", "bad_model_config", "no_codebook"):
        ck = torch.load(w.ckpt, weights_only=True)
        if kind == "newer":
            ck["version"] = 99
        elif kind == "foreign":
            ck["format"] = "something-else"
        elif kind == "wrong_shape":
            ck["model"]["in_proj.weight"] = torch.zeros(3, 3)
        elif kind == "bad_model_config":
            ck["model_config"]["frontend"] = "nonsense"
        else:
            del ck["codebook"]
        torch.save(ck, p)
    return p


CKPT_DAMAGE = {"missing": "checkpoint not found", "folder": "not a file", "text": "not a usable jericho checkpoint",
               "zip_garbage": "not a usable jericho checkpoint", "truncated": "not a usable jericho checkpoint",
               "code": "refused (weights_only)", "plain_state_dict": "not a jericho checkpoint",
               "list": "not a jericho checkpoint (not a mapping)", "newer": "newer than this jericho reads",
               "foreign": "format 'something-else'", "wrong_shape": "does not fit its model",
               "bad_model_config": "model.frontend", "no_codebook": "no codebook"}


# ------------------------------------------------------------------------------------- configs
def _cfg(d: Path, text: str, name="c.yaml") -> Path:
    (d / name).write_text(text)
    return d / name


TRAIN_SETS = {  # --set override -> the words the one-line error must contain
    "train.stpes=5": "unknown config key train.stpes (did you mean train.steps?)",
    "model.name=nonexistent": "unknown named model 'nonexistent'",
    "train.lr=abc": "train.lr must be a number",
    "train.steps=-5": "train.steps must be >= 1",
    "train.steps=2.5": "train.steps must be an integer",
    "train.val_n=0": "train.val_n must be in [1, 100000]",
    "train.batch_size=0": "train.batch_size must be in [1, 4096]",
    "train.batch_size=100000000": "train.batch_size must be in [1, 4096]",
    "train.val_n=100000000": "train.val_n must be in [1, 100000]",
    "train.seed=-1": "train.seed must be >= 0",
    "train.lr=.nan": "finite",
    "train.snr_db=.inf": "finite",
    "data.mirror.iid_levels=[5,3]": "1 <= low <= high",
    "data.mirror.iid_levels=[3]": "[low, high]",
    "data.mirror.iid_levels=3": "must be a list",
    "data.mirror.ood_symbols=AB": "must not occur in data.mirror.train_symbols",
    "data.pools.train=95": "leave a test pool",
    "data.bogus.x=1": "unknown config key data.bogus",
    "optim.lr=1": "unknown config section 'optim'",
    "model.n_heads=5": "multiple of model.n_heads",
    "model.lti_layers=[7]": "only 4 SSD layers",
    "model.layers=[ssd,gru]": "unknown layer kinds",
    "model.frontend=wavelet": "not one of mel, stft, conv",
    "model.win=1024": "model.win=1024 must be <= model.n_fft",
    "model.sample_rate=8000": "differs from the codebook",
    "train.curriculum.threshold=0": "must be in (0, 1]",
    "train.device=tpu": "train.device must be auto, cpu, cuda",
    "train.task=chess": "unknown task 'chess'",
    "train.mix={chess: 1}": "names unknown task 'chess'",
    "train.level_mix={mod: {2: -1}}": "weights must be finite numbers in [0, 1e+06]",
    "train.level_mix={mirror: {3: .inf}}": "must hold finite numbers only",
    "train.level_mix={mirror: {3: 1.0e+300, 4: 1.0e+300}}": "weights must be finite numbers in [0, 1e+06]",
    "train.mix={mirror: 1.0e+300}": "weights must be finite numbers in [0, 1e+06]",
    "train.augment.time_scale=[1, 1000000]": "must lie within [0.1, 8]",
    "train.augment.tone_ms=[40, .inf]": "must hold finite numbers only",
    "train.augment.gap_ms=[0, 1000000]": "must lie within [0, 2000]",
    "train.augment.rt60=[0.1, 100]": "must lie within [0, 5]",
    "data.parity_check.iid_levels=[2, 100000]": "1 <= low <= high <= 500",
    "model.positions_stretch=.nan": "must hold finite numbers only",
    "train.level_mix={mod: 4}": "must map each task to {level: weight}",
    "train.level_mix={mod: {2: 4}}": "names task 'mod', which this run does not train",
    "train.level_mix={mirror: {12: 1}}": "mirror level 12 is not a training level (3-10)",
    "train.level_mix={mirror: {3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0}}": "every mirror training level weight 0",
    "train.control=bogus": "not one of shuffled_answers",
    "train.loss.ctc=-1": "train.loss.ctc must be >= 0",
    "train.stop_at=0": "train.stop_at must be >= 1",
    "train.amp=maybe": "train.amp must be true/false",
    "train.curriculum=5": "must be a mapping",
    "train.manifest=/no/such/manifest.jsonl": "manifest not found",
    "train.init=/no/such/model.pt": "checkpoint not found",
    "bad": "--set expects key.path=value",
    "train..lr=1": "--set expects key.path=value",
}

CONFIG_FILES = {  # YAML text -> error words (train --config and synth --config)
    "train: {steps: [unclosed": "bad YAML",
    "- a\n- b\n": "expected a YAML mapping",
    "train: {stpes: 3}": "unknown config key train.stpes",
    "data: {mirror: {iid_levels: [9, 2]}}": "1 <= low <= high",
    "include: nowhere.yaml": "config not found",
    "include: c.yaml": "include cycle",
    "include: 5": "include must be a file name",
    "weird: 1": "unknown config",
}

CODEBOOKS = {  # codebook YAML -> error words
    "symbols: [1, 2]": "non-empty 'symbols' mapping",
    "symbols: {AB: 440}": "must be one character",
    "symbols: {A: 9000}": "frequency outside",
    "symbols: {A: 440, B: 440}": "share the same frequencies",
    "symbols: {A: loud}": "needs 'freq' or 'freqs'",
    "symbols: {A: 440}\nsample_rate: abc": "sample_rate must be a number",
    "symbols: {A: 440}\namplitude: 2": "amplitude must be in (0, 1]",
    "symbols: {A: 440}\nsymbol_ms: -1": "symbol_ms must be a positive number",
    "symbols: {A: 440}\ncolour: red": "unknown codebook key 'colour'",
    "symbols: {A: 440, B: 600}": "no signal for",
}


# -------------------------------------------------------------------------------------- cases
@dataclass
class Case:
    name: str
    build: object            # (world, case folder) -> argv list
    needle: str
    code: int = 1
    out: str = "out"         # the output path that must not be left behind (relative to the case folder)


CASES: list[Case] = []


def case(name, needle, code=1, out="out"):
    def deco(fn):
        CASES.append(Case(name, fn, needle, code, out))
        return fn
    return deco


def _add(name, build, needle, code=1, out="out"):
    CASES.append(Case(name, build, needle, code, out))


for kind, needle in WAV_DAMAGE.items():
    _add(f"score-hyp-wav-{kind}", lambda w, d, k=kind: [
        "score", "--ref", w.data, "--hyp", _hyp_with_bad_wav(w, d, k), "--out", d / "out", "--quiet"], needle)
    _add(f"decode-input-wav-{kind}", lambda w, d, k=kind: [
        "decode", "--ckpt", w.ckpt, _inputs_with_bad_wav(w, d, k), "--out", d / "out", "--quiet"], needle)
    _add(f"train-manifest-wav-{kind}", lambda w, d, k=kind: [
        "train", "--out", d / "out", "--quiet", "--set", "model.name=cpu_small", "--set",
        f"train.manifest={_inputs_with_bad_wav(w, d, k)}"], needle)
    if kind not in ("missing", "folder"):
        _add(f"score-wavdir-{kind}", lambda w, d, k=kind: [
            "score", "--wav-dir", _wav_folder(w, d, k), "--out", d / "out", "--quiet"], needle)
        _add(f"decode-wavdir-{kind}", lambda w, d, k=kind: [
            "decode", "--ckpt", w.ckpt, "--wav-dir", _wav_folder(w, d, k), "--out", d / "out", "--quiet"], needle)

for kind, (edit, needle) in {**MANIFEST_DAMAGE, **REF_ONLY_DAMAGE}.items():
    if kind == "missing_audio":  # a reference needs its answer audio, not its input
        continue
    _add(f"score-ref-manifest-{kind}", lambda w, d, e=edit: [
        "score", "--ref", _edit_manifest(w, d, e), "--out", d / "out", "--quiet"], needle)
for kind, (edit, needle) in MANIFEST_DAMAGE.items():
    _add(f"decode-manifest-{kind}", lambda w, d, e=edit: [
        "decode", "--ckpt", w.ckpt, _edit_manifest(w, d, e), "--out", d / "out", "--quiet"], needle)
    if kind != "missing_audio":
        _add(f"split-manifest-{kind}", lambda w, d, e=edit: [
            "split", _edit_manifest(w, d, e), "--ratios", "a=1,b=1", "--out", d / "out"], needle)
for kind in ("bad_json", "empty", "binary", "duplicate_id", "input_string", "missing_id"):
    edit, needle = MANIFEST_DAMAGE.get(kind) or REF_ONLY_DAMAGE[kind]
    _add(f"synth-against-{kind}", lambda w, d, e=edit: [
        "synth", "--task", "mirror", "--split", "test_iid", "--n", 2, "--quiet", "--against",
        _edit_manifest(w, d, e), "--out", d / "out"], needle)
for kind in ("missing_target", "unknown_symbol", "target_multichar", "bad_json"):
    edit, needle = MANIFEST_DAMAGE.get(kind) or REF_ONLY_DAMAGE[kind]
    _add(f"train-manifest-{kind}", lambda w, d, e=edit: [
        "train", "--out", d / "out", "--quiet", "--set", f"train.manifest={_edit_manifest(w, d, e)}"], needle)

for kind, needle in CKPT_DAMAGE.items():
    _add(f"decode-ckpt-{kind}", lambda w, d, k=kind: [
        "decode", "--ckpt", _bad_ckpt(w, d, k), w.data, "--out", d / "out", "--quiet"], needle)

for i, (s, needle) in enumerate(TRAIN_SETS.items()):
    _add(f"train-set-{i:02d}-{s.split('=')[0]}", lambda w, d, s=s: ["train", "--out", d / "out", "--quiet",
                                                                   "--set", s], needle)
_add("train-init-other-model", lambda w, d: [  # the world's checkpoint is cpu_small, the default model is not
    "train", "--out", d / "out", "--quiet", "--set", f"train.init={w.ckpt}"], "train.init: not this run's model")
for i, (text, needle) in enumerate(CONFIG_FILES.items()):
    _add(f"train-config-{i}", lambda w, d, t=text: ["train", "--out", d / "out", "--config", _cfg(d, t)], needle)
    _add(f"synth-config-{i}", lambda w, d, t=text: [
        "synth", "--task", "mirror", "--split", "val", "--n", 2, "--quiet", "--config", _cfg(d, t),
        "--out", d / "out"], needle)
for i, (text, needle) in enumerate(CODEBOOKS.items()):
    _add(f"synth-codebook-{i}", lambda w, d, t=text: [
        "synth", "--task", "mirror", "--split", "val", "--n", 2, "--quiet", "--codebook", _cfg(d, t, "cb.yaml"),
        "--out", d / "out"], needle)
for i, text in enumerate(["symbols: {A: 440, B: 600}", "symbols: {AB: 440}"]):
    _add(f"train-codebook-{i}", lambda w, d, t=text: [
        "train", "--out", d / "out", "--codebook", _cfg(d, t, "cb.yaml")], CODEBOOKS[text])
    _add(f"score-codebook-{i}", lambda w, d, t=text: [
        "score", "--ref", w.data, "--codebook", _cfg(d, t, "cb.yaml"), "--out", d / "out"],
        "unknown symbol" if i == 0 else CODEBOOKS[text])

_add("synth-carrier-codebook-not-ascii", lambda w, d: [  # the keyed carrier sends ASCII characters
    "synth", "--task", "mirror", "--split", "val", "--n", 2, "--quiet", "--domain", "carrier", "--codebook",
    _cfg(d, (Path(__file__).parents[1] / "jericho_cli/data/codebook.yaml").read_text() + '  "\\u00e9": {freq: 300.0}\n', "cb.yaml"),
    "--out", d / "out"], "sends symbols as ASCII characters; 'é' is not one")

SYNTH = ["synth", "--task", "mirror", "--split", "val", "--quiet"]
SYNTH_OPTIONS = {  # extra options -> (error words, exit code)
    ("--n", "0"): ("--n must be positive", 1),
    ("--n", "-3"): ("--n must be positive", 1),
    ("--n", "abc"): ("Invalid value for '--n'", 2),
    ("--seed", "-1"): ("--seed must be >= 0", 1),
    ("--snr-db", "nan"): ("--snr-db must be a finite number", 1),
    ("--snr-db", "inf"): ("--snr-db must be a finite number", 1),
    ("--reverb", "-1"): ("--reverb must be an RT60", 1),
    ("--reverb", "nan"): ("--reverb must be a finite number", 1),
    ("--jobs", "0"): ("--jobs must be in [1, 256]", 1),
    ("--jobs", "100000"): ("--jobs must be in [1, 256]", 1),
    ("--shard", "3/2"): ("need 1 <= i <= N", 1),
    ("--shard", "0/2"): ("need 1 <= i <= N", 1),
    ("--shard", "x"): ("--shard must look like i/N", 1),
    ("--control", "bogus"): ("unknown --control 'bogus'", 1),
    ("--domain", "bogus"): ("unknown --domain 'bogus'", 1),
    ("--against", "/no/such.jsonl"): ("manifest not found", 1),
    ("--config", "/no/such.yaml"): ("config not found", 1),
    ("--codebook", "/no/such.yaml"): ("codebook not found", 1),
    ("--bogus-option", "1"): ("No such option", 2),
}
for i, ((opt, val), (needle, code)) in enumerate(SYNTH_OPTIONS.items()):
    _add(f"synth-option-{i:02d}{opt}", lambda w, d, o=opt, v=val: SYNTH + ["--n", 2, o, v, "--out", d / "out"]
         if o != "--n" else SYNTH + [o, v, "--out", d / "out"], needle, code)
_add("synth-task-unknown", lambda w, d: ["synth", "--task", "chess", "--split", "val", "--n", 1, "--out", d / "out"],
     "unknown task 'chess'")
_add("synth-split-unknown", lambda w, d: ["synth", "--task", "mirror", "--split", "test_ood_compose", "--n", 1,
                                           "--out", d / "out"], "no split 'test_ood_compose'")
_add("synth-missing-options", lambda w, d: ["synth", "--task", "mirror"], "Missing option", 2)
_add("synth-diag-impossible", lambda w, d: [
    "synth", "--task", "mod", "--split", "diag_two_digit_rem", "--n", 1, "--config",
    _cfg(d, "mod: {divisor_digits: 1}"), "--out", d / "out"], "needs divisors of 2 digits")


def _file(d):
    (d / "out").write_text("precious\n")
    return d / "out"


@case("synth-out-is-file", "is an existing file")
def _(w, d):
    return SYNTH + ["--n", 2, "--out", _file(d)]


@case("decode-out-is-file", "is an existing file")
def _(w, d):
    return ["decode", "--ckpt", w.ckpt, w.data, "--out", _file(d), "--quiet"]


@case("score-out-is-file", "is an existing file")
def _(w, d):
    return ["score", "--ref", w.data, "--out", _file(d)]


@case("split-out-is-file", "is an existing file")
def _(w, d):
    return ["split", w.data, "--ratios", "a=1", "--out", _file(d)]


@case("train-out-is-file", "is an existing file")
def _(w, d):
    return ["train", "--out", _file(d), "--set", "model.name=cpu_small", "--set", "train.steps=1"]


for name, extra, needle, code in [
    ("batch-size-0", ["--batch-size", 0], "Invalid value for '--batch-size'", 2),
    ("batch-size-neg", ["--batch-size", -1], "Invalid value for '--batch-size'", 2),
    ("max-seconds-0", ["--max-seconds", 0], "--max-seconds must be positive", 1),
    ("device-bogus", ["--device", "tpu"], "unknown device 'tpu'", 1),
    ("device-cuda", ["--device", "cuda"], "no CUDA device", 1),
    ("both-inputs", ["--wav-dir", "."], "one of them", 1),
]:
    if name == "device-cuda" and torch.cuda.is_available():
        continue
    _add(f"decode-{name}", lambda w, d, e=extra: ["decode", "--ckpt", w.ckpt, w.data, "--out", d / "out",
                                                  "--quiet", *e], needle, code)
_add("decode-no-input", lambda w, d: ["decode", "--ckpt", w.ckpt, "--out", d / "out"], "one of them")
_add("decode-wavdir-missing", lambda w, d: ["decode", "--ckpt", w.ckpt, "--wav-dir", d / "nope", "--out", d / "out"],
     "folder not found")
_add("decode-wavdir-no-wavs", lambda w, d: ["decode", "--ckpt", w.ckpt, "--wav-dir", d, "--out", d / "out"],
     "no .wav files found")


@case("decode-ids-collide", "would write the same answer file")
def _(w, d):
    def edit(recs, lines):
        recs[0]["id"], recs[1]["id"] = "a/b", "a__b"
        return "".join(json.dumps(r) + "\n" for r in recs)
    return ["decode", "--ckpt", w.ckpt, _edit_manifest(w, d, edit), "--out", d / "out", "--quiet"]


@case("decode-too-long", "above the decode limit of 2 s")
def _(w, d):
    folder = d / "long"
    folder.mkdir()
    sf.write(folder / "long.wav", np.zeros(16000 * 3, np.float32), 16000)
    return ["decode", "--ckpt", w.ckpt, "--wav-dir", folder, "--max-seconds", 2, "--out", d / "out", "--quiet"]


for name, extra, needle, code in [
    ("jobs-0", ["--ref", "REF", "--jobs", 0], "Invalid value for '--jobs'", 2),
    ("jobs-huge", ["--ref", "REF", "--jobs", 100000], "--jobs must be in [1, 256]", 1),
    ("format-bogus", ["--ref", "REF", "--format", "html"], "unknown --format 'html'", 1),
    ("wavdir-and-ref", ["--ref", "REF", "--wav-dir", "."], "cannot be combined", 1),
    ("nothing", [], "give --ref MANIFEST", 1),
    ("stdout-with-ref", ["--ref", "REF"], "only for --wav-dir", 1),
    ("ref-missing", ["--ref", "/no/such/manifest.jsonl"], "manifest not found", 1),
    ("hyp-missing", ["--ref", "REF", "--hyp", "/no/such.jsonl"], "manifest not found", 1),
    ("wavdir-missing", ["--wav-dir", "/no/such/folder"], "folder not found", 1),
    ("codebook-missing", ["--ref", "REF", "--codebook", "/no/cb.yaml"], "codebook not found", 1),
]:
    _add(f"score-{name}", lambda w, d, e=extra, n=name: [
        "score", *[w.data if x == "REF" else x for x in e], "--quiet",
        "--out", "-" if n == "stdout-with-ref" else d / "out"], needle, code)


@case("score-hyp-lacks-ids", "have no hypothesis")
def _(w, d):
    hyp = _hyp_with_bad_wav(w, d, "corrupt")
    hyp.write_text("\n".join(hyp.read_text().splitlines()[:1]) + "\n")
    return ["score", "--ref", w.data, "--hyp", hyp, "--out", d / "out"]


SPLIT_OPTIONS = {
    ("--by", "colour"): "unknown --by 'colour'",
    ("--ratios", "a"): "expected name=value",
    ("--ratios", "a=x"): "--ratios must be numbers",
    ("--ratios", "a=-1,b=2"): "non-negative",
    ("--ratios", "a=0,b=0"): "positive sum",
    ("--ratios", "a=nan"): "positive sum",
    ("--ratios", "../../x=1"): "not a plain folder name",
    ("--ratios", "/abs=1"): "not a plain folder name",
    ("--ratios", ".hidden=1"): "not a plain folder name",
    ("--ratios", "a=1,a=2"): "given twice",
    ("--seed", "-1"): "--seed must be >= 0",
}
for i, ((opt, val), needle) in enumerate(SPLIT_OPTIONS.items()):
    _add(f"split-option-{i:02d}", lambda w, d, o=opt, v=val: [
        "split", w.data, *(["--ratios", "a=1"] if o != "--ratios" else []), o, v, "--out", d / "out"], needle)
for name, extra, needle in [
    ("group-no-field", ["--by", "group", "--ratios", "a=1"], "needs --field"),
    ("field-no-field", ["--by", "field"], "needs --field"),
    ("symbols-no-held-out", ["--by", "symbols"], "needs --held-out"),
    ("field-unknown", ["--by", "field", "--field", "meta.colour"], "no field 'meta.colour'"),
    ("bins-bad", ["--by", "length", "--bins", "a=x-y"], "not a range"),
    ("bins-backwards", ["--by", "length", "--bins", "a=5-3"], "runs backwards"),
    ("manifest-missing", [], "manifest not found"),
]:
    _add(f"split-{name}", lambda w, d, e=extra, n=name: [
        "split", "/no/such.jsonl" if n == "manifest-missing" else w.data, *e, "--out", d / "out"], needle)


@case("split-field-value-escapes", "not a plain folder name")
def _(w, d):
    return ["split", _edit_manifest(w, d, _set("task", "/tmp/escape")), "--by", "field", "--field", "task",
            "--out", d / "out"]


@case("split-field-value-dotdot", "not a plain folder name")
def _(w, d):
    return ["split", _edit_manifest(w, d, _set("task", "..")), "--by", "field", "--field", "task",
            "--out", d / "out"]


def _summary(d, obj):
    p = d / "summary.json"
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


for name, obj, needle in [
    ("missing", None, "summary not found"),
    ("bad-json", "{oops", "bad JSON"),
    ("list", "[1, 2]", "expected a JSON object"),
    ("no-groups", {"overall": {}}, "no 'groups'"),
    ("group-no-slash", {"overall": {}, "groups": {"x": {}}}, "is not task/split"),
    ("group-bad-count", {"overall": {}, "groups": {"a/b": {"count": "many", "exact_match": 1, "token_acc": 1,
                                                           "edit_distance": 0, "errors": {}}}}, "lacks count"),
    ("group-bad-errors", {"overall": {}, "groups": {"a/b": {"count": 1, "exact_match": 1, "token_acc": 1,
                                                            "edit_distance": 0, "errors": {"x": 1}}}}, "bad 'errors'"),
]:
    _add(f"report-summary-{name}", lambda w, d, o=obj: ["report", d / "nothing.json" if o is None else _summary(d, o)],
         needle, out="none")
    _add(f"report-book-summary-{name}", lambda w, d, o=obj: [
        "report", "--book", d / "nothing.json" if o is None else _summary(d, o)], needle, out="none")
for name, extra, needle, code in [
    ("format", ["--format", "html"], "unknown --format 'html'", 1),
    ("by", ["--by", "colour"], "unknown --by 'colour'", 1),
    ("update-no-book", ["--update", "R.md"], "--update needs --book", 1),
    ("spectrogram-no-plots", ["--spectrogram", "x.jsonl"], "needs --plots", 1),
    ("book-format", ["--book", "--format", "html"], "unknown --format 'html'", 1),
]:
    _add(f"report-{name}", lambda w, d, e=extra: ["report", w.scored, *e], needle, code, out="none")


@case("report-plots-is-file", "is an existing file")
def _(w, d):
    return ["report", w.scored, "--plots", _file(d)]


@case("report-update-binary-file", "not a UTF-8 text file", out="none")
def _(w, d):
    (d / "R.md").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    return ["report", "--book", w.scored, "--update", d / "R.md"]


for name, field, value, needle in [("field-type", "heard", 5, "'heard' must be a list of symbols"),
                                   ("field-null", "heard", None, "'heard' must be a list of symbols"),
                                   ("symbols-null", "input_symbols", None, "'input_symbols' must be a list")]:
    @case(f"report-html-examples-{name}", needle, out="page")
    def _(w, d, field=field, value=value):
        row = {"task": "mirror", "split": "test_iid", "input": "a.wav", "reference": "b.wav", "answer": "c.wav",
               "heard": ["A"], "exact": True, field: value}
        (d / "index.jsonl").write_text(json.dumps(row) + "\n")
        return ["report", "--html", d / "page", "--examples", d / "index.jsonl"]


# sizes refused before anything is allocated (issue #33): each beyond a limit the message names
for name, argv, needle, code in [
    ("probe-lengths-huge", ["state-norms", "--lengths", "200000"], "beyond the limit of 512", 2),
    ("probe-clusters-huge", ["structure", "M", "--clusters", "100000"], "Invalid value for '--clusters'", 2),
    ("probe-window-huge", ["structure", "M", "--window", "100000"], "Invalid value for '--window'", 2),
    ("probe-horizons-huge", ["predictability", "M", "--horizons", "1 99999"], "beyond the limit of 1024", 2),
]:
    _add(name, lambda w, d, a=argv: ["probe", *[w.data if x == "M" else x for x in a], "--ckpt", w.ckpt,
                                     "--out", d / "out", "--quiet"], needle, code)
_add("decode-stream-window-0", lambda w, d: ["decode", "--ckpt", w.ckpt, w.data, "--out", d / "out", "--stream",
                                             "--window", 0, "--quiet"], "--window needs --stream and a positive", 2)


@case("report-update-is-folder", "--update must name a markdown file", out="none")
def _(w, d):
    return ["report", "--book", w.scored, "--update", d]


@case("report-run-json-damaged", "not a jericho run.json", out="none")
def _(w, d):
    run_dir = d / "r"
    shutil.copytree(w.scored, run_dir / "score_x")
    (run_dir / "run.json").write_text(json.dumps({"parameters": "many", "config": {}}))
    return ["report", "--book", run_dir / "score_x"]


for name, extra, needle, code in [
    ("resume-and-overwrite", ["--resume", "--overwrite"], "contradict", 1),
    ("no-out", [], "--out is required", 1),
    ("config-missing", ["--config", "/no/such.yaml"], "config not found", 1),
    ("codebook-missing", ["--codebook", "/no/cb.yaml"], "codebook not found", 1),
]:
    _add(f"train-{name}", lambda w, d, e=extra, n=name: [
        "train", *([] if n == "no-out" else ["--out", d / "out"]), *e], needle, code)


@case("train-existing-run-without-resume", "holds a training run (step 2 of 2)", out="none")
def _(w, d):
    return ["train", "--out", w.run_dir, "--set", "model.name=cpu_small", "--set", "train.steps=1"]


@case("train-resume-with-other-config", "was trained with another config", out="none")
def _(w, d):
    return ["train", "--out", w.run_dir, "--resume", "--quiet", "--set", "model.name=cpu_small", "--set",
            "model.downsample=2", "--set", "train.steps=4", "--set", "train.val_every=2", "--set", "train.val_n=2",
            "--set", "train.batch_size=2", "--set", "data.mirror.iid_levels=[3,3]"]


for kind in ("missing", "text", "wrong_shape", "no_codebook"):
    _add(f"probe-ckpt-{kind}", lambda w, d, k=kind: [
        "probe", "state-norms", "--ckpt", _bad_ckpt(w, d, k), "--out", d / "out", "--quiet"], CKPT_DAMAGE[kind])
    _add(f"prune-ckpt-{kind}", lambda w, d, k=kind: [
        "prune", "--ckpt", _bad_ckpt(w, d, k), "--mode", "random", "--keep", 0.5, "--out", d / "out",
        "--quiet"], CKPT_DAMAGE[kind])
for kind, needle in WAV_DAMAGE.items():
    _add(f"probe-input-wav-{kind}", lambda w, d, k=kind: [
        "probe", "linear-probes", _inputs_with_bad_wav(w, d, k), "--ckpt", w.ckpt, "--out", d / "out",
        "--quiet"], needle)
    _add(f"prune-calib-wav-{kind}", lambda w, d, k=kind: [
        "prune", "--ckpt", w.ckpt, "--mode", "selective", "--keep", 0.5, "--calib",
        _inputs_with_bad_wav(w, d, k), "--out", d / "out", "--quiet"], needle)


# ----------------------------------------------------------------------------------- the test
def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_line_and_leaves_nothing(c: Case, world: World):
    d = world.case_dir()
    argv = c.build(world, d)
    protected = {p: _snapshot(p) for p in (world.run_dir, world.data, world.scored)}
    out = d / c.out
    before = out.read_bytes() if out.is_file() else None
    res = run(*argv)
    err = res.stderr.strip()
    assert res.exit_code == c.code, f"exit {res.exit_code}: {res.output}"
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert c.needle in err, err
    assert res.stdout == "", res.stdout
    if before is not None:
        assert out.read_bytes() == before  # an existing file given as --out is untouched
    elif c.out != "none":
        assert not out.exists(), sorted(p.name for p in out.rglob("*"))
    assert not (d / "PWNED").exists()  # a crafted checkpoint ran nothing
    for p, snap in protected.items():  # the shared run, data and scores are never changed by a failure
        now = _snapshot(p)
        assert {k: v for k, v in now.items() if not k.startswith("edited_")} == \
               {k: v for k, v in snap.items() if not k.startswith("edited_")}, p


def test_the_table_is_large_and_covers_every_subcommand():
    assert len(CASES) >= 150
    commands = {c.name.split("-")[0] for c in CASES}
    assert commands >= {"synth", "split", "train", "decode", "score", "report", "probe", "prune"}
    assert len({c.name for c in CASES}) == len(CASES)


# ------------------------------------------------------- generated: every config key, every summary field
def _leaves(spec, prefix=""):
    for k, v in spec.items():
        yield from _leaves(v, f"{prefix}{k}.") if isinstance(v, dict) else [(prefix + k, v)]


WRONG_VALUES = ["abc", "[1, 2]", "{a: 1}", "-1", "0", "1.5", "null", "true", "[]", "''", "1e9", ".nan", "[5, 3]"]


def test_every_config_key_takes_any_value_without_a_traceback():
    """Each key of config.py's tables, each value of several wrong kinds: accepted, or one line + exit 1."""
    from jericho_cli.config import SECTIONS

    rejected, named = 0, 0
    for section, spec in SECTIONS.items():
        for key, _ in _leaves(spec, section + "."):
            for v in WRONG_VALUES:
                res = run("train", "--dry-run", "--set", f"{key}={v}")
                err = res.stderr.strip()
                assert res.exit_code in (0, 1), (key, v, res.output)
                if res.exit_code == 1:
                    rejected += 1
                    named += key in err
                    assert len(err.splitlines()) == 1 and "Traceback" not in err, (key, v, err)
    assert rejected > 500 and named > 0.9 * rejected  # the rest name the consequence (a codebook symbol, ...)


def test_every_summary_field_damaged_is_one_line_for_report_and_book(tmp_path):
    import copy

    from jericho_cli.scoring import metrics

    rows = [{"task": "mod", "split": "test_iid", "ref": list(r), "hyp": list(h), "meta": {"length": 3, "steps": 1},
             "diagnosis": "reasoning", **metrics.compare(list(r), list(h))} for r, h in [("12", "12"), ("3", "4")]]
    base = metrics.summarize(rows)
    base["overall"]["aux_exact_match"] = 0.5
    paths = []

    def walk(o, p=()):
        for k, v in o.items():
            paths.append(p + (k,))
            if isinstance(v, dict):
                walk(v, p + (k,))
    walk(base)
    d = tmp_path / "run_x" / "score_mod_test_iid"
    d.mkdir(parents=True)
    for p in paths:
        for v in (None, "x", [], -1):
            s = copy.deepcopy(base)
            cur = s
            for k in p[:-1]:
                cur = cur[k]
            cur[p[-1]] = v
            (d / "summary.json").write_text(json.dumps(s))
            for argv in (["report", d], ["report", "--book", d]):
                res = run(*argv)
                assert res.exit_code in (0, 1), (p, v, res.output)
                assert res.exit_code == 0 or len(res.stderr.strip().splitlines()) == 1, (p, v, res.stderr)

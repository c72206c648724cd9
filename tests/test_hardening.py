"""The second hostile sweep (issue #33), one test per class it found: what was a traceback, a hang,
an unbounded allocation or a silently accepted value is a one-line error naming the file or key,
and `--help` lists what the code accepts from the same registries the code checks against."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from jericho_cli.config import PROBE_ANALYSES, PRUNE_MODES
from jericho_cli.data.pools import TASK_SPLITS
from jericho_cli.data.render import RENDERERS

TINY = ["--set", "model.name=cpu_small", "--set", "model.downsample=2", "--set", "train.batch_size=4",
        "--set", "train.val_n=4", "--set", "train.warmup=5", "--set", "data.mirror.iid_levels=[3,3]",
        "--set", "train.steps=2", "--set", "train.val_every=2", "--quiet"]


def _one_line(res, needle, code=1):
    err = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else ""
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.stderr and needle in err, res.stderr


def _squash(text: str) -> str:
    return "".join(text.split())  # --help wraps lines, also at hyphens


def test_help_lists_every_task_split_domain_analysis_and_mode(cli):
    synth = _squash(cli("synth", "--help").output)
    for task, splits in TASK_SPLITS.items():
        assert task in synth and all(s in synth for s in splits), task
    assert all(d in synth for d in RENDERERS)
    assert all(_squash(a) in _squash(cli("probe", "--help").output) for a in PROBE_ANALYSES)
    assert all(m in _squash(cli("prune", "--help").output) for m in PRUNE_MODES)
    from jericho_cli.config import DOMAINS, LAYER_KINDS, TASKS

    defaults = cli("train", "--show-defaults").output
    for key, names in (("model.layers", LAYER_KINDS), ("train.task", TASKS), ("train.domain", DOMAINS)):
        line = next(ln for ln in defaults.splitlines() if ln.startswith(f"{key} ="))
        assert all(n in line for n in names), line


def test_prune_of_a_checkpoint_without_ssd_layers_says_so(tmp_path, cli):
    assert cli("train", "--out", tmp_path / "lstm", *TINY, "--set", "model.layers=[lstm,attn]").exit_code == 0
    res = cli("prune", "--ckpt", tmp_path / "lstm" / "best.pt", "--mode", "random", "--keep", 0.5,
              "--out", tmp_path / "p", "--quiet")
    _one_line(res, "has no SSD layer")


def test_book_update_of_a_binary_file_is_refused(tmp_path, cli):
    binary = tmp_path / "RESULTS.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    res = cli("report", "--book", "--update", binary, tmp_path / "nothing.json")
    assert res.exit_code != 0 and "Traceback" not in res.stderr
    assert binary.read_bytes() == b"\x89PNG\r\n\x1a\n\xff\xfe"


@pytest.mark.parametrize("weight", ["inf", "1e300", "-1", "nan"])
def test_level_mix_weights_must_be_finite_and_bounded(tmp_path, cli, weight):
    res = cli("train", "--out", tmp_path / "x", *TINY, "--set", f"train.level_mix={{mirror: {{3: {weight}}}}}")
    _one_line(res, "train.level_mix", code=res.exit_code if res.exit_code in (1, 2) else 1)
    assert "weights must be finite numbers" in res.stderr and not (tmp_path / "x" / "best.pt").exists()


def test_a_fifo_as_audio_is_refused_not_waited_on(tmp_path, cli):
    assert cli("synth", "--task", "mirror", "--split", "test_iid", "--n", 2, "--out", tmp_path / "d",
               "--quiet").exit_code == 0
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    ids = [json.loads(ln)["id"] for ln in (tmp_path / "d" / "manifest.jsonl").read_text().splitlines()]
    (tmp_path / "hyp.jsonl").write_text("".join(json.dumps({"id": i, "audio": str(fifo)}) + "\n" for i in ids))
    res = cli("score", "--ref", tmp_path / "d", "--hyp", tmp_path / "hyp.jsonl", "--out", tmp_path / "s", "--quiet")
    _one_line(res, "not a regular file")


def test_resampling_a_wav_that_claims_1_hz_is_refused_up_front(tmp_path, cli):
    d = tmp_path / "w"
    d.mkdir()
    sf.write(str(d / "slow.wav"), np.zeros(64, dtype=np.float32), 1)  # header: 1 Hz
    res = cli("score", "--wav-dir", d, "--resample", "--out", tmp_path / "s", "--quiet")
    _one_line(res, "too low to resample")


def _float_options():
    """(command words, the command, option name) for every float option of every command."""
    import typing

    import typer.main

    from jericho_cli.cli import app

    group = typer.main.get_command(app)
    for name, cmd in sorted(group.commands.items()):
        hints = typing.get_type_hints(cmd.callback)
        for p in cmd.params:
            if type(p).__name__ == "TyperOption" and float in (hints.get(p.name), *typing.get_args(hints.get(p.name))):
                yield [name], cmd, p


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_no_command_accepts_a_non_finite_number(cli, tmp_path, value):
    # one guard (commands/base.step) for every float option of every command; required options and
    # arguments get placeholders: the guard refuses before any of them is read
    cases = list(_float_options())
    assert len(cases) >= 7, cases  # decode --max-seconds, prune (4), synth --snr-db, --reverb
    for words, cmd, opt in cases:
        args = list(words)
        for p in cmd.params:
            if p.required and p is not opt:
                args += ["x"] if type(p).__name__ == "TyperArgument" else [p.opts[0], "1"]
        res = cli(*args, opt.opts[0], value)
        assert res.exit_code in (1, 2) and "Traceback" not in res.stderr, (args, opt.opts, res.output)
        assert "must be a finite number" in res.stderr or "Invalid value" in res.stderr, (args, opt.opts, res.stderr)
    assert not any(tmp_path.iterdir())


def _numeric_keys():
    """Every config key whose value is a number or holds numbers (from the spec the loader checks)."""
    from jericho_cli.config import SECTIONS, Opt

    def walk(spec, prefix):
        for k, v in spec.items():
            if isinstance(v, Opt):
                d = v.default
                kinds = v.kind if isinstance(v.kind, tuple) else (v.kind,)
                numeric = (isinstance(d, (int, float)) and not isinstance(d, bool)) or \
                    (isinstance(d, list) and d and all(isinstance(x, (int, float)) for x in d)) or \
                    any(k_ in (int, float) for k_ in kinds)
                if numeric:
                    yield f"{prefix}{k}", d
            elif isinstance(v, dict):
                yield from walk(v, f"{prefix}{k}.")
    for section, spec in SECTIONS.items():
        yield from walk(spec, f"{section}.")


def test_no_config_key_accepts_a_non_finite_number(cli):
    # the shared guard (config.all_finite) under every numeric key, lists included: one line, exit 1
    keys = list(_numeric_keys())
    assert len(keys) > 50
    for key, default in keys:
        bad = "[.nan, .nan]" if isinstance(default, list) else ".nan"
        res = cli("train", "--dry-run", "--set", f"{key}={bad}")
        err = res.stderr.strip()
        assert res.exit_code == 1 and len(err.splitlines()) == 1 and key in err, (key, res.output)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """6 Mirror utterances and a 2-step checkpoint."""
    from typer.testing import CliRunner

    from jericho_cli.cli import app

    d = tmp_path_factory.mktemp("small")
    run = CliRunner()
    assert run.invoke(app, ["synth", "--task", "mirror", "--split", "test_iid", "--n", "6", "--out", str(d / "data"),
                            "--quiet"]).exit_code == 0
    assert run.invoke(app, ["train", "--out", str(d / "run"), *TINY]).exit_code == 0
    return d / "data", d / "run" / "best.pt"


@pytest.mark.parametrize("argv,needle", [
    (["structure", "--window", "1000"], "no step has --window 1000"),
    (["predictability", "--horizons", "1000"], "no step has --window"),
    (["linear-probes", "--stride", "1000"], "no variable could be probed"),
    (["structure", "--dims", "1000"], "too few samples"),  # was a numpy broadcast traceback
])
def test_probes_with_nothing_to_measure_say_why(small, tmp_path, cli, argv, needle):
    data, ckpt = small
    res = cli("probe", argv[0], data, *argv[1:], "--ckpt", ckpt, "--out", tmp_path / "p", "--quiet")
    _one_line(res, needle)
    assert not (tmp_path / "p").exists()

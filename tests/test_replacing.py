"""Nothing a user owns is lost when a command that replaces earlier output fails (issue #35): every
command that writes into a folder holding good output (`--overwrite` in synth, split, decode,
train, probe, prune; `report --html` over a page) writes beside it and swaps only when whole, so a
run that fails part-way leaves every earlier file byte-identical, and a user's own file in the
folder survives every command, the successful ones included."""

from __future__ import annotations

import errno
import hashlib
import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from jericho_cli.io import audio, checkpoint, files
from jericho_cli.io.folders import STAGING

TINY = ["--set", "model.name=cpu_small", "--set", "model.downsample=2", "--set", "train.batch_size=4",
        "--set", "train.val_n=4", "--set", "train.warmup=5", "--set", "data.mirror.iid_levels=[3,3]",
        "--set", "train.steps=3", "--set", "train.val_every=3", "--quiet"]
SYNTH = ["synth", "--task", "mirror", "--split", "test_iid", "--n", 6, "--quiet"]


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


@contextmanager
def _disk_full_after(monkeypatch, writes: int):
    """Every atomic write (text, JSON, wav, checkpoint) after the first `writes` fails with ENOSPC."""
    real, count = files.atomic_path, [0]

    @contextmanager
    def failing(path, suffix=""):
        count[0] += 1
        if count[0] > writes:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        with real(path, suffix) as tmp:
            yield tmp

    with monkeypatch.context() as m:
        for module in (files, audio, checkpoint):
            m.setattr(module, "atomic_path", failing)
        yield count


def _fails_then_succeeds(cli, monkeypatch, folder: Path, args: list, writes: int = 2):
    """`args` run into `folder` (which holds good output and a user's file) with the disk filling
    after `writes` writes: exit 1, one line, every file as it was. Then the same run with room: it
    succeeds and the user's file is still there. Returns the folder's files before the failure."""
    (folder / "mine.txt").write_text("the user's own notes\n")
    before = _hashes(folder)
    with _disk_full_after(monkeypatch, writes) as count:
        res = cli(*args)
    assert count[0] > writes, "the run never reached the failing write: the test tests nothing"
    assert res.exit_code == 1 and "No space left on device" in res.stderr, res.output
    assert _hashes(folder) == before
    assert not (folder / STAGING).exists()
    assert cli(*args).exit_code == 0
    assert (folder / "mine.txt").read_text() == "the user's own notes\n"
    assert not (folder / STAGING).exists()
    return before


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from typer.testing import CliRunner

    from jericho_cli.cli import app

    d = tmp_path_factory.mktemp("replacing")
    run = CliRunner()
    assert run.invoke(app, ["train", "--out", str(d / "exp"), *TINY]).exit_code == 0
    assert run.invoke(app, [*map(str, SYNTH), "--out", str(d / "data")]).exit_code == 0
    return d / "exp" / "best.pt", d / "data"


def test_synth_overwrite_that_fails_leaves_the_earlier_synth(tmp_path, cli, monkeypatch):
    out = tmp_path / "d"
    assert cli(*SYNTH, "--seed", 1, "--out", out).exit_code == 0
    before = _fails_then_succeeds(cli, monkeypatch, out, [*SYNTH, "--seed", 2, "--out", out, "--overwrite"])
    assert json.loads((out / "synth.json").read_text())["seed"] == 2
    assert _hashes(out) != before
    fresh = tmp_path / "fresh"
    assert cli(*SYNTH, "--seed", 2, "--out", fresh).exit_code == 0
    assert {k: v for k, v in _hashes(out).items() if k != "mine.txt"} == _hashes(fresh)  # as if new


def test_split_overwrite_that_fails_leaves_the_earlier_split(tmp_path, cli, monkeypatch, trained):
    _, data = trained
    out = tmp_path / "parts"
    assert cli("split", data, "--ratios", "a=1,b=1", "--out", out).exit_code == 0
    _fails_then_succeeds(cli, monkeypatch, out, ["split", data, "--ratios", "c=1,d=1", "--out", out,
                                                 "--overwrite"], writes=1)
    assert sorted(p.name for p in out.iterdir()) == ["c", "d", "mine.txt", "split_report.json"]


def test_decode_overwrite_that_fails_leaves_the_earlier_decode(tmp_path, cli, monkeypatch, trained):
    ckpt, data = trained
    out = tmp_path / "dec"
    assert cli("decode", "--ckpt", ckpt, data, "--out", out, "--quiet").exit_code == 0
    _fails_then_succeeds(cli, monkeypatch, out, ["decode", "--ckpt", ckpt, data, "--out", out, "--batch-size", 2,
                                                 "--quiet", "--overwrite"], writes=3)


def test_decode_overwrite_with_audio_found_bad_late_keeps_the_good_decode(tmp_path, cli, trained):
    ckpt, data = trained
    out = tmp_path / "dec"
    assert cli("decode", "--ckpt", ckpt, data, "--out", out, "--quiet").exit_code == 0
    (out / "mine.txt").write_text("mine\n")
    before = _hashes(out)
    lines = (data / "manifest.jsonl").read_text().splitlines()
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVEnot really")
    bad = json.loads(lines[-1])
    bad.update(id="broken", audio=str(tmp_path / "broken.wav"))
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({**json.loads(ln), "audio": str(data / json.loads(ln)["audio"])}) + "\n"
                                for ln in lines) + json.dumps(bad) + "\n")
    res = cli("decode", "--ckpt", ckpt, manifest, "--out", out, "--quiet", "--overwrite")
    assert res.exit_code == 1 and "broken.wav" in res.stderr, res.output
    assert _hashes(out) == before and not (out / STAGING).exists()


def test_train_overwrite_that_fails_leaves_the_earlier_run(tmp_path, cli, monkeypatch):
    out = tmp_path / "exp"
    assert cli("train", "--out", out, *TINY).exit_code == 0
    before = _fails_then_succeeds(cli, monkeypatch, out, ["train", "--out", out, *TINY, "--set", "train.seed=7",
                                                          "--overwrite"], writes=1)
    assert _hashes(out)["best.pt"] != before["best.pt"]
    assert json.loads((out / "run.json").read_text())["config"]["train"]["seed"] == 7


def test_train_overwrite_refused_at_its_first_batch_keeps_the_earlier_run(tmp_path, cli):
    out = tmp_path / "exp"
    assert cli("train", "--out", out, *TINY).exit_code == 0
    before = _hashes(out)
    res = cli("train", "--out", out, *TINY, "--set", "train.task=parity_check",
              "--set", "data.parity_check.iid_levels=[1,1]", "--overwrite")
    assert res.exit_code != 0
    assert _hashes(out) == before and not (out / STAGING).exists()


def test_probe_and_prune_overwrites_that_fail_leave_their_earlier_output(tmp_path, cli, monkeypatch, trained):
    ckpt, _ = trained
    out = tmp_path / "probe"
    assert cli("probe", "state-norms", "--ckpt", ckpt, "--lengths", "4", "--n", 2, "--out", out, "--quiet").exit_code == 0
    _fails_then_succeeds(cli, monkeypatch, out, ["probe", "state-norms", "--ckpt", ckpt, "--lengths", "4 6", "--n", 2,
                                                 "--out", out, "--quiet", "--overwrite"], writes=1)
    out = tmp_path / "prune"
    assert cli("prune", "--ckpt", ckpt, "--mode", "random", "--keep", 0.5, "--out", out, "--quiet").exit_code == 0
    _fails_then_succeeds(cli, monkeypatch, out, ["prune", "--ckpt", ckpt, "--mode", "random", "--keep", 0.25,
                                                 "--out", out, "--quiet", "--overwrite"], writes=1)


def test_report_html_never_empties_a_page_or_touches_the_users_files(tmp_path, cli, monkeypatch, trained):
    ckpt, data = trained
    dec, scores = tmp_path / "dec", tmp_path / "scores"
    assert cli("decode", "--ckpt", ckpt, data, "--out", dec, "--quiet").exit_code == 0
    assert cli("score", "--ref", data, "--hyp", dec, "--out", scores, "--quiet").exit_code == 0
    page = tmp_path / "page"
    (page / "assets").mkdir(parents=True)
    (page / "assets" / "thesis.pdf").write_text("mine\n")
    res = cli("report", "--html", page, tmp_path / "nope.json")  # the case: fails at once
    assert res.exit_code == 1 and (page / "assets" / "thesis.pdf").read_text() == "mine\n"
    assert cli("report", "--html", page, scores / "summary.json").exit_code == 0
    _fails_then_succeeds(cli, monkeypatch, page, ["report", "--html", page, scores / "summary.json"], writes=0)
    assert (page / "assets" / "thesis.pdf").read_text() == "mine\n" and (page / "index.html").exists()

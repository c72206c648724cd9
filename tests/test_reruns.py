"""Reruns and kills: a folder made with other parameters is refused (or cleanly redone with
--overwrite), a finished run is never overwritten, and a step killed with SIGKILL at any moment is
finished by the same command with the bytes (or weights) of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line(res, needle, code=1):
    err = res.stderr.strip()
    assert res.exit_code == code, res.output
    assert len(err.splitlines()) == 1 and needle in err, err


SYNTH = ["synth", "--task", "mirror", "--split", "test_iid", "--n", 6, "--quiet"]


def test_synth_refuses_a_folder_made_with_other_parameters(tmp_path, cli):
    out = tmp_path / "d"
    assert cli(*SYNTH, "--seed", 1, "--out", out).exit_code == 0
    first = _files(out)
    _one_line(cli(*SYNTH, "--seed", 2, "--out", out), "seed 1 -> 2")
    _one_line(cli(*SYNTH, "--seed", 1, "--snr-db", 10, "--out", out), "variation.snr_db null -> 10.0")
    assert _files(out) == first  # refused runs touch nothing
    assert cli(*SYNTH, "--seed", 2, "--out", out, "--overwrite").exit_code == 0
    assert cli(*SYNTH, "--seed", 2, "--out", tmp_path / "fresh").exit_code == 0
    assert _files(out) == _files(tmp_path / "fresh")
    res = cli("score", "--ref", out, "--out", tmp_path / "s")
    assert json.loads((tmp_path / "s" / "summary.json").read_text())["overall"]["exact_match"] == 1.0, res.output


def test_synth_refuses_outputs_of_unknown_origin_and_redoes_damaged_wavs(tmp_path, cli):
    out = tmp_path / "d"
    (out / "wav").mkdir(parents=True)
    _one_line(cli(*SYNTH, "--out", out), "of unknown origin")
    assert cli(*SYNTH, "--out", tmp_path / "ref").exit_code == 0
    assert cli(*SYNTH, "--out", out, "--overwrite").exit_code == 0
    wav = out / "wav" / "mirror-test_iid-000002.wav"
    wav.write_bytes(wav.read_bytes()[:100])  # a truncated wav in a folder of the same parameters
    (out / "manifest.jsonl").unlink()
    assert cli(*SYNTH, "--out", out).exit_code == 0
    assert _files(out) == _files(tmp_path / "ref")


def test_outputs_get_ordinary_permissions(tmp_path, cli):
    old = os.umask(0o022)
    try:
        assert cli(*SYNTH, "--out", tmp_path / "d").exit_code == 0
    finally:
        os.umask(old)
    for p in (tmp_path / "d").rglob("*"):
        if p.is_file():
            assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _jericho(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jericho_cli", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)


def _wait_for(pred, proc, timeout=120.0):
    t0 = time.time()
    while not pred():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() - t0 < timeout
        time.sleep(0.02)


def test_synth_killed_with_sigkill_resumes_to_identical_bytes(tmp_path, cli):
    args = ["synth", "--task", "mirror", "--split", "test_ood_length", "--n", 400, "--seed", 3, "--jobs", 2, "--quiet"]
    assert cli(*args, "--out", tmp_path / "whole").exit_code == 0
    out = tmp_path / "killed"
    proc = _jericho(*args, "--out", out)
    _wait_for(lambda: len(list((out / "wav").glob("*.wav"))) >= 60 if (out / "wav").exists() else False, proc)
    workers = _children(proc.pid)
    assert workers, "--jobs 2 runs worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    assert not [w for w in workers if _alive(w)], "orphaned synth workers"
    assert not (out / "manifest.jsonl").exists()
    assert cli(*args, "--out", out).exit_code == 0
    assert _files(out) == _files(tmp_path / "whole")  # no temp files either


def test_shards_written_at_once_into_one_folder_equal_one_run(tmp_path, cli):
    # the shards of a cluster array start together; none may clear another's temp files
    args = ["synth", "--task", "mirror", "--split", "test_iid", "--n", 240, "--seed", 5, "--quiet"]
    assert cli(*args, "--out", tmp_path / "whole").exit_code == 0
    procs = [_jericho(*args, "--out", tmp_path / "sharded", "--shard", f"{k}/3") for k in (1, 2, 3)]
    errors = [p.communicate()[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    strip = lambda files: {k: v for k, v in files.items() if not k.startswith(".")}  # noqa: E731
    assert strip(_files(tmp_path / "sharded")) == strip(_files(tmp_path / "whole"))


TRAIN = ["train", "--quiet", "--set", "model.name=cpu_small", "--set", "model.downsample=2",
         "--set", "train.batch_size=2", "--set", "train.val_n=2", "--set", "train.warmup=2",
         "--set", "data.mirror.iid_levels=[3,3]", "--set", "train.steps=24", "--set", "train.val_every=4"]


def _weights(path: Path) -> dict:
    return torch.load(path, weights_only=True)["model"]


def test_train_killed_with_sigkill_resumes_to_identical_weights(tmp_path, cli):
    assert cli(*TRAIN, "--out", tmp_path / "whole").exit_code == 0
    out = tmp_path / "killed"
    proc = _jericho(*TRAIN, "--out", out)
    metrics = out / "log" / "metrics.jsonl"
    _wait_for(lambda: metrics.exists() and len(metrics.read_text().splitlines()) >= 2, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _one_line(cli(*TRAIN, "--out", out), "use --resume to continue it")  # never silently restarted
    res = cli(*TRAIN, "--out", out, "--resume")
    assert res.exit_code == 0, res.output
    for name in ("last.pt", "best.pt"):
        a, b = _weights(tmp_path / "whole" / name), _weights(out / name)
        assert all(torch.equal(a[k], b[k]) for k in a), name
    steps = [json.loads(x)["step"] for x in metrics.read_text().splitlines()]
    assert steps == sorted(set(steps)) == list(range(4, 25, 4))  # no duplicated rows
    assert not list(out.rglob("*.tmp"))
    run = json.loads((out / "run.json").read_text())
    assert run["finished"] and run["steps_done"] == 24 and run["parameters"]["total"] > 0
    assert run["hardware"]["threads"] >= 1 and run["config"]["train"]["steps"] == 24


def test_finished_run_is_kept_unless_overwrite(tmp_path, cli):
    args = [*TRAIN, "--set", "train.steps=4", "--out", tmp_path / "r"]
    assert cli(*args).exit_code == 0
    before = _files(tmp_path / "r")
    _one_line(cli(*args), "holds a training run (step 4 of 4)")
    _one_line(cli(*args, "--resume", "--set", "train.lr=0.1"), "another config")
    assert _files(tmp_path / "r") == before
    assert cli(*args, "--overwrite").exit_code == 0
    assert len((tmp_path / "r" / "log" / "metrics.jsonl").read_text().splitlines()) == 1  # a fresh log


def test_decode_resumes_a_killed_run_with_identical_bytes(tmp_path, cli):
    assert cli(*SYNTH, "--n", 10, "--out", tmp_path / "data").exit_code == 0
    assert cli(*TRAIN, "--set", "train.steps=2", "--set", "train.val_every=2", "--out", tmp_path / "r").exit_code == 0
    dec = ["decode", "--ckpt", tmp_path / "r" / "best.pt", tmp_path / "data", "--batch-size", 3, "--quiet"]
    assert cli(*dec, "--out", tmp_path / "whole").exit_code == 0
    whole = _files(tmp_path / "whole")
    # what a kill leaves: some batches logged (the last line torn), their wavs, no manifest
    out = tmp_path / "killed"
    out.mkdir()
    lines = (tmp_path / "whole" / "manifest.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    (out / "decode.json").write_bytes(whole["decode.json"])
    (out / "wav").mkdir()
    for r in recs[:4]:
        (out / r["audio"]).write_bytes(whole[r["audio"]])
    (out / "manifest.partial.jsonl").write_text("\n".join(lines[:4]) + "\n" + lines[4][:20])
    stale, live = out / "wav" / ".x.wav.abc.wav.tmp", out / "wav" / ".y.wav.def.wav.tmp"
    stale.write_bytes(b"")
    os.utime(stale, (time.time() - 3600,) * 2)  # a killed writer's, an hour ago
    live.write_bytes(b"")  # another writer's (it holds the folder's writers lock): not ours to delete
    import fcntl
    other = open(out / ".decode.json.lock", "a+")
    fcntl.flock(other, fcntl.LOCK_SH)
    assert cli(*dec, "--out", out).exit_code == 0
    assert not stale.exists() and live.exists()
    other.close()
    live.unlink()
    assert _files(out) == whole
    _one_line(cli(*dec[:-3], "--batch-size", 4, "--quiet", "--out", out), "batch_size 3 -> 4")
    assert _files(out) == whole


def test_split_parts_stay_inside_out_and_reruns_do_not_mix(tmp_path, cli):
    assert cli(*SYNTH, "--n", 8, "--out", tmp_path / "data").exit_code == 0
    out = tmp_path / "parts"
    assert cli("split", tmp_path / "data", "--ratios", "a=1,b=1", "--out", out).exit_code == 0
    _one_line(cli("split", tmp_path / "data", "--ratios", "c=1,d=1", "--out", out), "other parameters")
    assert cli("split", tmp_path / "data", "--ratios", "c=1,d=1", "--out", out, "--overwrite").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["c", "d", "split_report.json"]
    assert not list(tmp_path.glob("x*")) and not Path("/x").exists()


def test_blocked_band_energies_equal_one_pass_and_long_audio_is_linear():
    from jericho_cli.data.codebook import Codebook
    from jericho_cli.data.render import render
    from jericho_cli.scoring.ear import Scorer

    sc = Scorer(Codebook.load())
    y = np.concatenate([render(list("ABCDEFGHIJ"), sc.cb)] * 30)
    assert np.allclose(sc.band_energies(y, block=97), sc.band_energies(y, block=10 ** 9), rtol=1e-12, atol=0)
    assert sc.transcribe(y) == list("ABCDEFGHIJ") * 30


def test_causal_attention_without_a_mask_equals_the_masked_form():
    from jericho_cli.model.attention import CausalSelfAttention

    torch.manual_seed(0)
    att = CausalSelfAttention(32, 4)
    x, pos = torch.randn(2, 50, 32), torch.arange(50)[None].expand(2, -1)
    big = CausalSelfAttention(32, 4, window=10 ** 6)
    big.load_state_dict(att.state_dict())
    assert torch.allclose(att(x, pos), big(x, pos), atol=1e-6)


def test_a_second_training_into_the_same_folder_is_refused(tmp_path):
    # flock: a second open file description conflicts even within one process, as a second
    # `jericho train` started by a recipe run twice would
    from jericho_cli.errors import JerichoError
    from jericho_cli.training.loop import lock_run_folder

    held = lock_run_folder(tmp_path / "exp")
    with pytest.raises(JerichoError, match="another `jericho train` is training in this folder \\(it holds"):
        lock_run_folder(tmp_path / "exp")
    held.close()
    lock_run_folder(tmp_path / "exp").close()  # released with its holder

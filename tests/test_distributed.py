"""Data-parallel training (torchrun, gloo on CPU: the NCCL code path on GPUs): 2 processes x batch b
give the first-step gradient of 1 process x batch 2b, and `jericho train` runs under torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
# utterances of different lengths (3-6 symbols) and 2 frames per step: the cases where padding and
# the loss's normalization could make a shard's gradient depend on its batch mates
SETS = ["model.name=cpu_small", "model.downsample=2", "data.mirror.iid_levels=[3,6]", "train.warmup=5",
        "train.loss.spec_sc=1.0"]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}


def _run(cmd, tmp_path):
    res = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def gloo_ok():
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")


def test_two_processes_give_the_gradient_of_one_with_twice_the_batch(tmp_path, gloo_ok):
    script = [str(HERE / "ddp_first_step.py")]
    sets = [a for s in SETS for a in ("--set", s)]
    _run([sys.executable, *script, str(tmp_path / "one.pt"), "4", *sets], tmp_path)
    _run([*TORCHRUN, *script, str(tmp_path / "two.pt"), "2", *sets], tmp_path)
    one, two = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    assert one.keys() == two.keys() and len(one) > 20
    for name in one:
        scale = one[name].abs().max().item() + 1e-12
        assert torch.allclose(one[name], two[name], rtol=1e-4, atol=1e-5 * scale), name


def test_jericho_train_under_torchrun(tmp_path, gloo_ok):
    out = tmp_path / "exp"
    sets = [a for s in SETS + ["train.batch_size=2", "train.steps=6", "train.val_every=2", "train.val_n=4"]
            for a in ("--set", s)]
    cmd = [*TORCHRUN, "-m", "jericho_cli", "train", "--out", str(out), "--quiet", *sets]
    res = _run([*cmd, "--set", "train.stop_at=4"], tmp_path)
    assert json.loads(res.stdout)["steps"] == 4  # one process prints the result
    info = json.loads((out / "run.json").read_text())
    assert info["steps_done"] == 4 and not info["finished"]
    # and resumes under torchrun from last.pt
    res = _run([*cmd, "--resume"], tmp_path)
    assert "resumed" in res.stderr and json.loads(res.stdout)["steps"] == 6
    assert json.loads((out / "run.json").read_text())["finished"]
    rows = (out / "log" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(ln)["step"] for ln in rows] == [2, 4, 6]  # one process writes the log

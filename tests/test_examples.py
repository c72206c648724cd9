"""examples/: the pretrained checkpoints answer the example inputs as recorded, and pipelines.sh runs."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import torch

from jericho_cli.inference import answer
from jericho_cli.model.loading import load_model
from jericho_cli.io.audio import read_wav
from jericho_cli.scoring.ear import Scorer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ROWS = [json.loads(line) for line in (EXAMPLES / "audio" / "index.jsonl").read_text().splitlines()]


def test_every_task_split_and_an_honest_failure_are_there():
    assert {r["task"] for r in ROWS} == {"mirror", "bracket", "mod"}
    assert {(r["task"], r["split"]) for r in ROWS} >= {("mirror", "test_ood_symbol"), ("mod", "test_ood_compose"),
                                                       ("bracket", "test_ood_length")}
    assert any(not r["exact"] for r in ROWS) and any(r["exact"] for r in ROWS)
    for r in ROWS:
        for kind in ("input", "reference", "answer"):
            assert (EXAMPLES / "audio" / r[kind]).stat().st_size > 1000
        assert (EXAMPLES / r["checkpoint"]).stat().st_size < 1_000_000


def test_example_checkpoints_give_the_recorded_answers():
    by_ckpt = defaultdict(list)
    for r in ROWS:
        by_ckpt[r["checkpoint"]].append(r)
    for ckpt, rows in by_ckpt.items():
        model, cb, _ = load_model(str(EXAMPLES / ckpt), torch.device("cpu"))
        scorer = Scorer(cb)
        waves = [read_wav(EXAMPLES / "audio" / r["input"], cb.sample_rate) for r in rows]
        audio, aux, _ = answer(model, waves, cb.alphabet)
        for r, y, a in zip(rows, audio, aux):
            assert scorer.transcribe(y) == r["heard"], r["answer"]
            assert a == r["ctc_symbols"], r["answer"]
            assert scorer.transcribe(read_wav(EXAMPLES / "audio" / r["reference"], cb.sample_rate)) == r["reference_symbols"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_pipelines_script_runs(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run([str(EXAMPLES / "pipelines.sh"), str(tmp_path / "work")], capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert re.search(r"\| mirror_score \| mirror \| test_iid \|  20 \| +\d+\.\d\d \|", res.stdout)  # 20 scored
    assert '"id": "take_00"' in res.stdout and (tmp_path / "work" / "bracket_parts" / "eval").is_dir()

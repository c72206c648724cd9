"""Subject selector proportions, negative-control generators, multitask training."""

import json

import numpy as np
import pytest

from jericho_cli.data.codebook import Codebook
from jericho_cli.data.controls import apply_control
from jericho_cli.data.render import render
from jericho_cli.scoring.ear import Scorer
from jericho_cli.training.selector import SubjectSelector


def _shares(sel, n=6000):
    picks = [sel.pick(s) for s in range(n)]
    return {t: picks.count(t) / n for t in sel.tasks}


def test_selector_follows_configured_proportions():
    sel = SubjectSelector({"mirror": 1, "bracket": 1, "mod": 2}, seed=3)
    share = _shares(sel)
    assert abs(share["mirror"] - 0.25) < 0.03 and abs(share["mod"] - 0.5) < 0.03
    assert [sel.pick(s) for s in range(50)] == [sel.pick(s) for s in range(50)]  # deterministic


def test_adaptive_selector_gives_a_lagging_task_more_batches():
    sel = SubjectSelector({"mirror": 1, "bracket": 1, "mod": 1}, adaptive=True, seed=0)
    sel.update({"mirror": 0.99, "bracket": 0.9, "mod": 0.2})
    p = sel.probs()
    assert p["mod"] > p["bracket"] > p["mirror"] > 0  # floor keeps every task alive
    share = _shares(sel)
    assert share["mod"] > 0.6
    with pytest.raises(ValueError):
        SubjectSelector({"mirror": 0})


def test_control_generators():
    cb, rng = Codebook.load(), np.random.default_rng(0)
    y = render(list("CAJ"), cb, rng=rng, variation=None)
    scr = apply_control("phase_scramble", y, rng)
    assert scr.shape == y.shape and np.corrcoef(scr, y)[0, 1] < 0.5  # waveform destroyed...
    import torch

    mag = lambda a: torch.stft(torch.from_numpy(a), 512, 128, window=torch.hann_window(512),  # noqa: E731
                               return_complex=True).abs().flatten().numpy()
    # ...magnitude kept up to the overlap-add of frames whose phases no longer agree
    assert np.corrcoef(mag(scr), mag(y))[0, 1] > 0.8
    assert not apply_control("silence", y, rng).any()
    assert Scorer(cb).transcribe(apply_control("noise", y, rng)) == []


def test_synth_control_and_shuffled_answer_training(tmp_path, cli):
    res = cli("synth", "--task", "mirror", "--split", "test_iid", "--n", 4, "--control", "silence", "--out",
              tmp_path / "sil", "--quiet")
    assert res.exit_code == 0
    rec = json.loads((tmp_path / "sil" / "manifest.jsonl").read_text().splitlines()[0])
    assert rec["meta"]["control"] == "silence" and rec["target"]  # the answer is still the true one
    from jericho_cli.config import DATA, defaults
    from jericho_cli.config import load_config
    from jericho_cli.training.batches import Batches

    cfg = load_config(None, ["train.control=shuffled_answers", "train.batch_size=32"])
    exs = Batches(cfg, Codebook.load()).examples(0, "bracket", None)
    normal = Batches(load_config(None, ["train.batch_size=32"]), Codebook.load()).examples(0, "bracket", None)
    assert [e.target for e in exs] != [e.target for e in normal]
    assert defaults(DATA)  # (config untouched)


def test_multitask_training_runs_and_logs_per_task(tmp_path, cli):
    res = cli("train", "--out", tmp_path, "--quiet", "--set", "model.name=cpu_small", "--set", "model.downsample=2",
              "--set", "train.task=[mirror,bracket,mod]", "--set", "train.adaptive=true", "--set", "train.steps=6",
              "--set", "train.val_every=3", "--set", "train.val_n=2", "--set", "train.batch_size=2",
              "--set", "data.mirror.iid_levels=[3,3]", "--set", "data.bracket.iid_levels=[4,8]",
              "--set", "train.curriculum.enabled=true")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "log" / "metrics.jsonl").read_text().splitlines()]
    assert set(rows[-1]["val_by_task"]) == {"mirror", "bracket", "mod"}
    assert abs(sum(rows[-1]["mix"].values()) - 1) < 1e-9
    assert set(rows[-1]["max_level"]) == {"mirror", "bracket", "mod"}


def test_curriculum_advances_past_levels_the_val_pool_cannot_check():
    # parity at length 2 has four inputs: the val pool may hold none, and the level must not stick there
    from jericho_cli.training.curriculum import advance

    levels, max_level = {"parity_check": [2, 3, 4]}, {"parity_check": 2}
    lines = advance(max_level, levels, {"parity_check": {"exact": 0.1, "exact_upto_level": None}}, 0.9)
    assert max_level == {"parity_check": 3} and "no val input" in lines[0]
    assert advance(max_level, levels, {"parity_check": {"exact": 0.1, "exact_upto_level": 0.5}}, 0.9) == []
    assert max_level == {"parity_check": 3}
    advance(max_level, levels, {"parity_check": {"exact": 0.9, "exact_upto_level": 0.95}}, 0.9)
    assert max_level == {"parity_check": 4}


def test_curriculum_per_task_switch_and_start():
    from jericho_cli.training.curriculum import curriculum_start

    assert curriculum_start({"enabled": True, "start": None}, "mod", [1, 2, 3]) == 1
    assert curriculum_start({"enabled": False, "start": 2}, "mod", [1, 2, 3]) is None
    per_task = {"enabled": ["mirror", "mod"], "start": {"mod": 2}}
    assert curriculum_start(per_task, "mod", [1, 2, 3]) == 2
    assert curriculum_start(per_task, "mirror", [3, 4, 5]) == 3
    assert curriculum_start(per_task, "bracket", [4, 6, 8]) is None


def test_multitask_training_with_a_count_copy_head_trains_its_gate_toward_the_task(tmp_path, cli):
    """train.loss.copy_gate: Mirror batches (the answer is the input) pull the gate to the copy,
    Bracket and Mod batches to the output head; the term is logged beside the others."""
    res = cli("train", "--out", tmp_path, "--quiet", "--set", "model.name=cpu_small", "--set", "model.downsample=2",
              "--set", "model.copy_head=true", "--set", "model.copy_align=count", "--set", "train.loss.copy_gate=1",
              "--set", "train.task=[mirror,bracket,mod]", "--set", "train.steps=6", "--set", "train.val_every=3",
              "--set", "train.val_n=2", "--set", "train.batch_size=2", "--set", "data.mirror.iid_levels=[3,3]")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "log" / "metrics.jsonl").read_text().splitlines()]
    assert any("copy_gate" in r for r in rows)

"""jericho probe and jericho prune: recorded states, probes, structure, predictability, pruned checkpoints."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from jericho_cli.analysis import probe, stats
from jericho_cli.analysis.states import heard_counts, state_sequence, variables
from jericho_cli.model.ssd import Mamba2Layer

TINY = ["--set", "model.name=cpu_small", "--set", "model.downsample=2", "--set", "train.batch_size=4",
        "--set", "train.val_n=4", "--set", "train.warmup=5", "--set", "data.mirror.iid_levels=[3,3]",
        "--set", "train.steps=3", "--set", "train.val_every=3"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 3-step Mirror checkpoint and 8 test utterances (what the CLI tests need, not a good model)."""
    from typer.testing import CliRunner

    from jericho_cli.cli import app
    d = tmp_path_factory.mktemp("analysis")
    run = CliRunner()
    assert run.invoke(app, ["train", "--out", str(d / "exp"), "--quiet", *TINY]).exit_code == 0
    assert run.invoke(app, ["synth", "--task", "mirror", "--split", "test_iid", "--n", "8", "--out",
                            str(d / "data"), "--quiet"]).exit_code == 0
    return d / "exp" / "best.pt", d / "data" / "manifest.jsonl"


@pytest.mark.parametrize("neg_eig", [False, True])
def test_recorded_states_equal_the_streaming_steps_states(neg_eig):
    torch.manual_seed(0)
    layer = Mamba2Layer(16, d_state=8, headdim=8, chunk_size=4, neg_eig=neg_eig).double()
    u = torch.randn(2, 11, 16, dtype=torch.float64)
    got = []
    layer.ssm_hooks.append(lambda m, x, dt, A, B, C: got.append(state_sequence(x, dt, A, B, m.neg_eig)))
    layer(u)
    state, steps = layer.init_state(2, dtype=torch.float64), []
    for t in range(11):
        _, state = layer.step(u[:, t], state)
        steps.append(state[1])
    assert len(got) == 12  # the forward's hook, then one per step() (which also calls the hooks)
    torch.testing.assert_close(got[0], torch.stack(steps, 1), rtol=1e-10, atol=1e-12)


def test_linear_probe_recovers_a_known_linear_state_and_shuffled_labels_give_chance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1200, 20))
    w = rng.normal(size=(20, 4))
    cls = np.argmax(x @ w, 1).astype(float)          # a class read linearly from the state
    pos = x @ rng.normal(size=20) + 0.05 * rng.normal(size=1200)  # a linear regression target
    c = probe.probe_one(x[:600], cls[:600], x[600:], cls[600:], "class", seed=0)
    assert c["value"] > 0.9 and abs(c["shuffled"] - c["chance"]) < 0.1 and c["chance"] < 0.45
    r = probe.probe_one(x[:600], pos[:600], x[600:], pos[600:], "regression", seed=0)
    assert r["value"] > 0.95 and r["shuffled"] < 0.05


def test_structure_ratio_is_low_on_planted_clusters_and_one_under_permutation():
    rng = np.random.default_rng(1)
    centers, drift = rng.normal(size=(6, 3)) * 5, rng.normal(size=(6, 4)) * 3
    lab = rng.integers(6, size=3000)
    keys = centers[lab] + 0.3 * rng.normal(size=(3000, 3))
    delta = drift[lab] + 0.5 * rng.normal(size=(3000, 4))
    groups = np.arange(3000) // 10
    res = probe.variance_ratio_study(keys[:1500], delta[:1500], keys[1500:], delta[1500:], groups[1500:],
                                     k=6, min_count=20, seed=0)
    assert res["ratio"] < 0.2 and 0.95 < res["permuted_ratio"] < 1.05
    assert res["ratio_ci"][0] <= res["ratio"] <= res["ratio_ci"][1]
    # no structure: deltas independent of the keys -> ratio ~ 1 as well
    flat = probe.variance_ratio_study(keys[:1500], rng.normal(size=(1500, 4)), keys[1500:],
                                      rng.normal(size=(1500, 4)), groups[1500:], k=6, min_count=20, seed=0)
    assert flat["ratio"] > 0.95


def test_mdn_delta_nll_is_negative_when_the_context_predicts_and_not_when_it_does_not():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3000, 3))
    y = np.stack([2 * x[:, 0], -x[:, 1]], 1) + 0.1 * rng.normal(size=(3000, 2))
    groups = np.arange(1500) // 10
    known = probe.delta_nll(x[:1500], y[:1500], x[1500:], y[1500:], groups, seed=0, epochs=15)
    assert known["delta_nll"] < -1.0 and known["ci"][1] < 0
    noise = rng.normal(size=(3000, 2))
    none = probe.delta_nll(x[:1500], noise[:1500], x[1500:], noise[1500:], groups, seed=0, epochs=15)
    assert none["delta_nll"] > -0.1


def test_hidden_variables_are_timed_by_tone_ends():
    counts = heard_counts([0.1, 0.25, 0.4], n_steps=10, step_s=0.05)
    assert counts.tolist() == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    v = variables("bracket", list("(()"), counts)
    assert v["depth"].tolist() == [0, 1, 1, 1, 2, 2, 2, 1, 1, 1] and v["parity"][-1] == 1
    m = variables("mod", list("17%5"), np.array([0, 2, 3, 4]))
    assert np.isnan(m["remainder"][0]) and m["remainder"][1:].tolist() == [17, 17, 2]
    p = variables("parity_check", list("1101"), np.array([0, 1, 2, 3, 4]))
    assert p["ones_parity"].tolist() == [0, 1, 0, 0, 1]
    e = variables("even_pairs", list("0110"), np.array([0, 1, 2, 3, 4]))
    assert np.isnan(e["ends_differ"][0]) and e["ends_differ"][1:].tolist() == [0, 1, 1, 0]


def test_stats_kmeans_finds_planted_centres_and_pca_keeps_the_main_axis():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(size=(100, 2)) * 0.1 + c for c in ([0, 0], [5, 5], [-5, 5])])
    cent = stats.kmeans(x, 3, rng)
    assert sorted(np.round(cent).astype(int).tolist()) == [[-5, 5], [0, 0], [5, 5]]
    y = rng.normal(size=(500, 1)) * np.array([[3.0, 0.0, 0.0]]) + rng.normal(size=(500, 3)) * 0.01
    assert abs(stats.PCA(1).fit(y).components[0, 0]) > 0.99


def test_probe_cli_runs_each_analysis_and_writes_what_report_reads(tiny, tmp_path, cli):
    ckpt, manifest = tiny
    res = cli("probe", "state-norms", "--ckpt", ckpt, "--lengths", "4 8", "--n", 2, "--out", tmp_path / "n",
              "--quiet")
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "n" / "summary.json").read_text())
    assert s["analysis"] == "state-norms" and {r["length"] for r in s["table"]} == {4, 8}
    assert (tmp_path / "n" / "state-norms.png").stat().st_size > 0 and "| SSD layer |" in res.stdout
    for analysis, extra in (("linear-probes", []), ("structure", ["--clusters", 4, "--min-count", 2]),
                            ("predictability", ["--horizons", "1 2", "--epochs", 2])):
        res = cli("probe", analysis, manifest, "--ckpt", ckpt, "--reps", "input ssd1", "--out",
                  tmp_path / analysis, "--quiet", *extra)
        assert res.exit_code == 0, res.output
        s = json.loads((tmp_path / analysis / "summary.json").read_text())
        assert s["table"] and {r["rep"] for r in s["table"]} == {"input", "ssd1"}
    rep = cli("report", tmp_path / "linear-probes" / "summary.json", tmp_path / "n" / "summary.json")
    assert rep.exit_code == 0 and "shuffled labels" in rep.stdout and "growth" in rep.stdout


def test_probe_and_prune_usage_errors_are_one_line(tiny, tmp_path, cli):
    ckpt, manifest = tiny
    for args, code, text in ((("probe", "wiggle", "--ckpt", ckpt, "--out", tmp_path / "a"), 2, "unknown analysis"),
                             (("probe", "structure", "--ckpt", ckpt, "--out", tmp_path / "b"), 2, "needs a manifest"),
                             (("probe", "linear-probes", manifest, "--ckpt", ckpt, "--reps", "ssd9",
                               "--out", tmp_path / "c"), 2, "unknown representation"),
                             (("prune", "--ckpt", ckpt, "--mode", "selective", "--keep", 0.5, "--out",
                               tmp_path / "d"), 2, "needs --calib"),
                             (("prune", "--ckpt", ckpt, "--mode", "random", "--keep", 1.5, "--out",
                               tmp_path / "e"), 2, "--keep must be in (0, 1]"),
                             (("prune", "--ckpt", ckpt, "--mode", "learned", "--keep", 0.5, "--out",
                               tmp_path / "f"), 2, "--keep is for selective and random"),
                             (("prune", "--ckpt", ckpt, "--mode", "learned", "--sparsity", "inf", "--out",
                               tmp_path / "g"), 1, "--sparsity must be a finite number"),
                             (("prune", "--ckpt", ckpt, "--mode", "learned", "--lr", "nan", "--out",
                               tmp_path / "h"), 2, "--lr")):
        res = cli(*args)
        assert res.exit_code == code and text in res.stderr and res.stderr.count("\n") == 1, res.stderr
        assert not Path(args[-1]).exists()  # refused before anything was written


def test_prune_keep_one_is_bit_exact_and_pruned_checkpoints_decode(tiny, tmp_path, cli):
    ckpt, manifest = tiny
    outs = {}
    for name, args in (("full", ["--mode", "selective", "--keep", 1.0, "--calib", manifest]),
                       ("half", ["--mode", "random", "--keep", 0.5, "--seed", 1])):
        res = cli("prune", "--ckpt", ckpt, "--out", tmp_path / name, "--quiet", *args)
        assert res.exit_code == 0, res.output
    for name, c in (("orig", ckpt), ("full", tmp_path / "full" / "pruned.pt"), ("half", tmp_path / "half" / "pruned.pt")):
        res = cli("decode", "--ckpt", c, manifest, "--out", tmp_path / f"dec_{name}", "--quiet")
        assert res.exit_code == 0, res.output
        outs[name] = sorted((tmp_path / f"dec_{name}" / "wav").glob("*.wav"))
    same = [a.read_bytes() == b.read_bytes() for a, b in zip(outs["orig"], outs["full"])]
    assert len(same) == 8 and all(same)  # k = 1.0: the very same answer audio
    assert not all(a.read_bytes() == b.read_bytes() for a, b in zip(outs["orig"], outs["half"]))
    ck = torch.load(tmp_path / "half" / "pruned.pt", weights_only=True)
    masks = [v for k, v in ck["model"].items() if k.endswith("state_mask")]
    assert len(masks) == 2 and all(float(m.mean()) == 0.5 for m in masks) and ck["prune"]["mode"] == "random"
    again = cli("prune", "--ckpt", tmp_path / "half" / "pruned.pt", "--mode", "random", "--keep", 0.5,
                "--out", tmp_path / "again")
    assert again.exit_code == 1 and "already pruned" in again.stderr


def test_learned_keep_ratio_reports_its_trajectory(tiny, tmp_path, cli):
    ckpt, _ = tiny
    res = cli("prune", "--ckpt", ckpt, "--mode", "learned", "--steps", 4, "--sparsity", 1.0, "--out",
              tmp_path / "l", "--quiet")
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "l" / "summary.json").read_text())
    traj = s["trajectory"]
    assert traj[0]["step"] == 0 and traj[-1]["step"] == 3 and traj[-1]["soft_k"] < traj[0]["soft_k"]
    assert 0 < s["table"][0]["keep"] <= 1 and (tmp_path / "l" / "pruned.pt").exists()

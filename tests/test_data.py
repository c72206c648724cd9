"""Task generators, splits, synth determinism and disjointness, split and report."""

import json

import numpy as np
import pytest

from jericho_cli.config import DATA, defaults
from jericho_cli.data import pools, tasks

DATA_DEFAULTS = defaults(DATA)


def test_bracket_generator_properties():
    rng = np.random.default_rng(0)
    exs = [tasks.bracket(rng, 8, {}) for _ in range(2000)]
    valid = [e for e in exs if e.target == ["V"]]
    invalid = [e for e in exs if e.target == ["X"]]
    assert all(tasks.is_dyck(e.input) for e in valid)
    assert not any(tasks.is_dyck(e.input) for e in invalid)
    assert 0.45 < len(valid) / len(exs) < 0.55
    assert all(len(e.input) == 8 for e in exs)  # valid and invalid length-matched
    assert sum(e.meta["equal_count"] for e in invalid) >= 0.5 * len(invalid) * 0.9
    kinds = {e.meta["fail_kind"] for e in invalid}
    assert {"early", "late"} <= kinds


@pytest.mark.parametrize("digits", [19, 30, 126])
def test_mod_dividends_beyond_int64_are_exact(digits):
    # the analysis recipe's long inputs (Mod: 128 symbols = a 126-digit dividend); Python's own
    # integers are the reference
    cfg = {**defaults(DATA)["mod"], "divisor_digits": 2}
    for seed in range(20):
        e = tasks.mod(np.random.default_rng(seed), digits, cfg, steps=2)
        a, b, c = map(int, "".join(e.input).split("%"))
        assert len(str(a)) == digits and "".join(e.target) == str(a % b % c)


def test_mod_generator_answers_and_edge_cases():
    rng = np.random.default_rng(1)
    cases = set()
    for _ in range(3000):
        ex = tasks.mod(rng, 2, {"divisor_digits": 2, "edge_prob": 0.1}, steps=2)
        ops = ex.meta["operands"]
        assert 0 not in ops[1:]
        r = ops[0]
        for b in ops[1:]:
            r %= b
        assert ex.target == list(str(r))
        assert ex.input == list("%".join(str(o) for o in ops))
        cases.add(ex.meta.get("case"))
    assert {"a_lt_b", "a_eq_b", "b_eq_1"} <= cases
    two = tasks.mod(rng, 3, {"divisor_digits": 2}, steps=1, case="two_digit_rem")
    assert len(two.target) == 2



@pytest.mark.parametrize("steps", [1, 2, 3])
def test_mod_remainders_are_balanced(steps):
    """Uniform A and B make ~half the answers 0; drawing the remainder first spreads them out, every
    step stays a real reduction where the digits allow, and the unbalanced generator is still there."""
    rng = np.random.default_rng(steps)
    cfg = {"divisor_digits": 1, "edge_prob": 0.0}
    exs = [tasks.mod(rng, 2, cfg, steps=steps) for _ in range(2700)]
    counts = np.bincount([e.meta["remainder"] for e in exs], minlength=9)
    assert len(counts) == 9 and counts.min() > 200 and counts.max() < 400  # 300 each expected
    assert all(e.meta["operands"][0] > e.meta["operands"][1] for e in exs)
    for e in exs:
        r = e.meta["operands"][0]
        for b in e.meta["operands"][1:]:
            assert 1 <= b <= 9
            r %= b
        assert r == e.meta["remainder"] and 10 <= e.meta["operands"][0] <= 99
    plain = [tasks.mod(rng, 2, {**cfg, "balance_remainders": False}, steps=steps).meta["remainder"]
             for _ in range(2000)]
    assert plain.count(0) > 0.35 * len(plain)
    # two-digit divisors: one- and two-digit remainders about equally often
    two = [tasks.mod(rng, 3, {"divisor_digits": 2, "edge_prob": 0.0}, steps=steps).meta["remainder"]
           for _ in range(1000)]
    assert 400 < sum(r >= 10 for r in two) < 600

def test_level_mix_tilts_only_the_level_draw():
    """train.level_mix: Mod two-digit dividends 4 to 1; without weights the draws are unchanged."""
    cfg = DATA_DEFAULTS
    digits = [len(str(pools.draw("mod", "train", i, 0, cfg, level_weights={1: 1, 2: 4, 3: 0}).meta["operands"][0]))
              for i in range(600)]
    assert digits.count(3) == 0 and 0.72 < digits.count(2) / len(digits) < 0.88  # 0.8 expected
    plain = [pools.draw("mod", "train", i, 0, cfg) for i in range(50)]
    assert plain == [pools.draw("mod", "train", i, 0, cfg, level_weights=None) for i in range(50)]
    assert all(pools.in_pool(pools.draw("mod", "train", i, 0, cfg, level_weights={2: 9}).input, "train", cfg["pools"])
               for i in range(50))


def test_mirror_variants_and_ood_symbols():
    rng = np.random.default_rng(2)
    for variant, f in [("copy", lambda s: s), ("repeat", lambda s: s + s), ("reverse", lambda s: s[::-1])]:
        ex = tasks.mirror(rng, 5, {"variant": variant}, alphabet="ABCDEFGHIJ")
        assert ex.target == f(ex.input)
    for i in range(50):
        ex = pools.draw("mirror", "test_ood_symbol", i, 0, DATA_DEFAULTS)
        assert set(ex.input) & set("KL")
        train = pools.draw("mirror", "train", i, 0, DATA_DEFAULTS)
        assert not set(train.input) & set("KL")


def test_ood_length_is_longer_than_any_training_length():
    cfg = DATA_DEFAULTS
    for task in pools.TASK_SPLITS:
        train_max = max(len(pools.draw(task, "train", i, 0, cfg).input) for i in range(300))
        ood_min = min(len(pools.draw(task, "test_ood_length", i, 0, cfg).input) for i in range(100))
        assert ood_min > train_max or task == "mod"  # mod: longer dividends (more digits)
    mod_train = max(pools.draw("mod", "train", i, 0, cfg).meta["operands"][0] for i in range(300))
    mod_ood = min(pools.draw("mod", "test_ood_length", i, 0, cfg).meta["operands"][0] for i in range(100))
    assert mod_ood > mod_train
    assert all(pools.draw("mod", "test_ood_compose", i, 0, cfg).meta["steps"] == 3 for i in range(20))


def test_no_test_input_occurs_in_train(tmp_path, cli):
    for task in pools.TASK_SPLITS:
        train = {tuple(pools.draw(task, "train", i, 5, DATA_DEFAULTS).input) for i in range(3000)}
        for split in pools.TASK_SPLITS[task][1:]:
            held = {tuple(pools.draw(task, split, i, 5, DATA_DEFAULTS).input) for i in range(300)}
            assert not train & held, (task, split)
    # the CLI checks against an existing manifest too
    assert cli("synth", "--task", "bracket", "--split", "train", "--n", 300, "--out", tmp_path / "tr",
               "--quiet").exit_code == 0
    res = cli("synth", "--task", "bracket", "--split", "test_iid", "--n", 100, "--out", tmp_path / "te",
              "--against", tmp_path / "tr" / "manifest.jsonl", "--quiet")
    assert res.exit_code == 0, res.output


def test_synth_is_byte_identical_and_sharding_merges(tmp_path, cli):
    args = ["synth", "--task", "mod", "--split", "val", "--n", 40, "--seed", 9, "--quiet"]
    assert cli(*args, "--out", tmp_path / "a").exit_code == 0
    assert cli(*args, "--out", tmp_path / "b", "--jobs", 2).exit_code == 0
    for k in (1, 2, 3):
        assert cli(*args, "--out", tmp_path / "c", "--shard", f"{k}/3").exit_code == 0
    ma = (tmp_path / "a" / "manifest.jsonl").read_bytes()
    assert ma == (tmp_path / "b" / "manifest.jsonl").read_bytes()
    assert ma == (tmp_path / "c" / "manifest.jsonl").read_bytes()
    for rec in map(json.loads, ma.decode().splitlines()):
        for d in "bc":
            assert (tmp_path / "a" / rec["audio"]).read_bytes() == (tmp_path / d / rec["audio"]).read_bytes()
    assert not list((tmp_path / "c").glob("manifest.shard-*"))
    other = cli(*args[:-3], "--seed", 10, "--quiet", "--out", tmp_path / "d")
    assert other.exit_code == 0
    assert (tmp_path / "d" / "manifest.jsonl").read_bytes() != ma


def test_more_shards_than_utterances_give_the_unsharded_folder(tmp_path, cli):
    # synth --n 2 --shard 4/4: shards 3 and 4 hold nothing, which is a valid shard (issue #35)
    args = ["synth", "--task", "mirror", "--split", "test_iid", "--n", 2, "--quiet"]
    assert cli(*args, "--out", tmp_path / "one").exit_code == 0
    for k in (1, 2, 3, 4):
        assert cli(*args, "--out", tmp_path / "sh", "--shard", f"{k}/4").exit_code == 0
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}  # noqa: E731
    assert files(tmp_path / "sh") == files(tmp_path / "one")


def test_synth_says_when_inputs_repeat(tmp_path, cli, caplog):
    # Mod's one-digit test inputs: far fewer distinct `a%b` than 300 utterances
    with caplog.at_level("WARNING", logger="jericho"):
        assert cli("synth", "--task", "mod", "--split", "test_iid", "--n", 300, "--quiet",
                   "--out", tmp_path / "m").exit_code == 0
    inputs = json.loads((tmp_path / "m" / "synth.json").read_text())["inputs"]
    distinct = len({tuple(json.loads(ln)["input"]) for ln in (tmp_path / "m" / "manifest.jsonl").read_text().splitlines()})
    assert inputs == {"utterances": 300, "distinct": distinct} and distinct < 300
    assert f"300 utterances but only {distinct} distinct inputs" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="jericho"):  # a rerun with the same parameters resumes, says it again
        assert cli("synth", "--task", "mod", "--split", "test_iid", "--n", 300, "--quiet",
                   "--out", tmp_path / "m").exit_code == 0
    assert "distinct inputs" in caplog.text
    with caplog.at_level("WARNING", logger="jericho"):
        caplog.clear()
        assert cli("synth", "--task", "mirror", "--split", "test_ood_length", "--n", 20, "--quiet",
                   "--out", tmp_path / "long").exit_code == 0
    assert "distinct inputs" not in caplog.text
    assert json.loads((tmp_path / "long" / "synth.json").read_text())["inputs"] == {"utterances": 20, "distinct": 20}


def test_synth_resumes_after_interruption(tmp_path, cli):
    args = ["synth", "--task", "mirror", "--split", "test_iid", "--n", 20, "--quiet", "--out", tmp_path]
    assert cli(*args).exit_code == 0
    wavs = sorted((tmp_path / "wav").glob("*.wav"))
    ref = {p.name: p.read_bytes() for p in wavs}
    for p in wavs[5:]:  # a killed run leaves only some complete files (never partial ones)
        p.unlink()
    (tmp_path / "manifest.jsonl").unlink()
    assert cli(*args).exit_code == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "wav").glob("*.wav")} == ref


def test_score_self_check_is_perfect_on_every_task(tmp_path, cli):
    for task, split in [("mirror", "test_ood_symbol"), ("bracket", "diag_equal_count"), ("mod", "diag_two_digit_rem")]:
        d = tmp_path / task
        assert cli("synth", "--task", task, "--split", split, "--n", 30, "--out", d, "--quiet").exit_code == 0
        res = cli("score", "--ref", d / "manifest.jsonl", "--out", tmp_path / f"s_{task}", "--quiet")
        assert res.exit_code == 0, res.output
        summary = json.loads((tmp_path / f"s_{task}" / "summary.json").read_text())
        assert summary["overall"]["exact_match"] == 1.0
        assert summary["groups"][f"{task}/{split}"]["count"] == 30


def test_score_counts_error_kinds_and_diagnosis(tmp_path, cli):
    d = tmp_path / "d"
    cli("synth", "--task", "mirror", "--split", "test_iid", "--n", 3, "--out", d, "--quiet")
    recs = [json.loads(x) for x in (d / "manifest.jsonl").read_text().splitlines()]
    from jericho_cli.io.audio import write_wav_atomic
    from jericho_cli.data.codebook import Codebook
    from jericho_cli.data.render import render

    cb = Codebook.load()
    hyp = []
    for k, r in enumerate(recs):
        said = r["target"][:-1] if k == 0 else (r["target"] + ["A"] if k == 1 else r["target"])
        write_wav_atomic(tmp_path / "h" / f"{k}.wav", render(said, cb), 16000)
        hyp.append({"id": r["id"], "audio": f"{k}.wav", "aux_symbols": r["target"] if k == 0 else ["B"]})
    (tmp_path / "h" / "manifest.jsonl").write_text("".join(json.dumps(h) + "\n" for h in hyp))
    res = cli("score", "--ref", d, "--hyp", tmp_path / "h" / "manifest.jsonl", "--out", tmp_path / "s", "--quiet")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "s" / "scores.jsonl").read_text().splitlines()]
    assert [r["error_kind"] for r in rows] == ["deletion", "insertion", "none"]
    assert [r.get("diagnosis") for r in rows] == ["rendering", "reasoning", None]
    g = json.loads((tmp_path / "s" / "summary.json").read_text())["groups"]["mirror/test_iid"]
    assert abs(g["exact_match"] - 1 / 3) < 1e-9 and g["errors"]["deletions"] == 1


def test_split_modes_and_disjointness(tmp_path, cli):
    d = tmp_path / "all"
    cli("synth", "--task", "mirror", "--split", "test_ood_symbol", "--n", 60, "--out", d, "--quiet")
    res = cli("split", d / "manifest.jsonl", "--by", "ratio", "--ratios", "train=0.8,val=0.2", "--seed", 1,
              "--out", tmp_path / "r", "--strict")
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["counts"]["train"] + rep["counts"]["val"] == 60 and rep["shared_inputs"]["train|val"] == 0
    tr = [json.loads(x) for x in (tmp_path / "r" / "train" / "manifest.jsonl").read_text().splitlines()]
    assert (tmp_path / "r" / "train" / tr[0]["audio"]).exists()  # paths rewritten relative to the part
    res = cli("split", d, "--by", "length", "--bins", "short=3-5,long=6-10", "--out", tmp_path / "l")
    assert res.exit_code == 0
    res = cli("split", d, "--by", "symbols", "--held-out", "K", "--out", tmp_path / "s")
    held = [json.loads(x) for x in (tmp_path / "s" / "held_out" / "manifest.jsonl").read_text().splitlines()]
    assert held and all("K" in r["input"] for r in held)
    res = cli("split", d, "--by", "field", "--field", "meta.length", "--out", tmp_path / "f")
    assert res.exit_code == 0 and (tmp_path / "f" / "3" / "manifest.jsonl").exists()


def test_report_tables_and_plots(tmp_path, cli):
    d = tmp_path / "d"
    cli("synth", "--task", "bracket", "--split", "test_iid", "--n", 20, "--out", d, "--quiet")
    cli("score", "--ref", d, "--out", tmp_path / "exp" / "score_test_iid", "--quiet")
    s = tmp_path / "exp" / "score_test_iid" / "summary.json"
    md = cli("report", s, "--plots", tmp_path / "plots", "--spectrogram", d)
    assert md.exit_code == 0 and "| bracket" in md.stdout and "100.00" in md.stdout
    assert (tmp_path / "plots" / "accuracy_vs_length.png").stat().st_size > 1000
    assert (tmp_path / "plots" / "spectrogram.png").stat().st_size > 1000
    csv = cli("report", s, "--format", "csv", "--by", "none").stdout.splitlines()
    assert csv[0].startswith("run,task,split,n,exact_match") and csv[1].endswith(",0,0,0")
    assert "\\toprule" in cli("report", s, "--format", "latex").stdout


def test_bracket_splits_are_balanced_at_every_length():
    """A split must not hold only one answer at some length (a length shortcut), even where the
    hashed pool is tiny (length 4 has 2 valid sequences)."""
    from collections import Counter

    for split in ("train", "val", "test_iid", "test_ood_length"):
        c = Counter()
        for i in range(600):
            ex = pools.draw("bracket", split, i, 3, DATA_DEFAULTS)
            c[(len(ex.input), ex.target[0])] += 1
        for n in {n for n, _ in c}:
            v, x = c[(n, "V")], c[(n, "X")]
            assert v and x and 0.3 < v / (v + x) < 0.7, (split, n, v, x)


def test_strict_unseen_symbol_protocol_keeps_training_tones_out_of_k_and_l_bands():
    """Issue #9's strict protocol for the copy-head config: no training tone (input or answer, with
    the widest jitter and offset its renderer may draw) inside K's or L's decision band."""
    from jericho_cli.config import load_config
    from jericho_cli.data.codebook import Codebook
    from jericho_cli.training.batches import training_variation
    cfg = load_config(["recipes/mirror/conf/tuning/symbols/copy_head.yaml"], [])
    cb = Codebook.load()
    freqs, lo, hi = cb.band_edges()
    band = [(lo[i], hi[i]) for i, f in enumerate(freqs) if any(f in cb.symbols[s] for s in "KL")]
    v = training_variation(cfg["train"])
    spread = 1 + v.freq_jitter + v.freq_offset
    assert cfg["train"]["snr_db"] is None and not cfg["train"]["augment"]["enabled"]  # no noise in the band
    for s in cfg["data"]["mirror"]["train_symbols"]:
        for f in cb.symbols[s]:
            assert all(f * spread < a or f / spread > b for a, b in band), (s, f)
    assert min(a for a, _ in band) > 950 and max(b for _, b in band) < 1170  # ~962-1158 Hz

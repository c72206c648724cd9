"""The pulse domain (issue #34): symbols as click trains whose spacing codes them, and its own ear;
what every new domain must do through the CLI (synth, score --domain) is checked here for each."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from jericho_cli.config import DOMAINS
from jericho_cli.data.codebook import Codebook
from jericho_cli.data.pulse import intervals, render_pulse
from jericho_cli.data.render import ANSWER_DOMAIN, RENDERERS, Variation
from jericho_cli.scoring.ears import EARS
from jericho_cli.scoring.pulse_ear import PulseEar

CB = Codebook.load()


def _symbol_accuracy(variation, n=200, seed=0, **kw) -> float:
    """1 - (edit distance / reference symbols) over n random sequences of 1-11 symbols."""
    from jericho_cli.scoring.metrics import compare

    rng, ear = np.random.default_rng(seed), PulseEar(CB)
    edits = total = 0
    for _ in range(n):
        seq = list(rng.choice(CB.alphabet, rng.integers(1, 12)))
        heard = ear.transcribe(render_pulse(seq, CB, rng, variation, **kw))
        edits += compare(seq, heard)["edit_distance"]
        total += len(seq)
    return 1 - edits / total


def test_every_domain_has_a_renderer_and_an_ear_and_pulse_answers_in_tones():
    assert set(DOMAINS) == set(RENDERERS) == set(EARS)
    assert ANSWER_DOMAIN["pulse"] == "tone"
    ipi = list(intervals(CB).values())
    assert len(set(ipi)) == len(CB.alphabet) and all(b / a == pytest.approx(1.1) for a, b in zip(ipi, ipi[1:]))


def test_the_ear_hears_every_symbol_of_a_clean_render():
    ear = PulseEar(CB)
    assert ear.transcribe(render_pulse(CB.alphabet, CB)) == CB.alphabet
    for s in CB.alphabet:
        assert ear.transcribe(render_pulse([s], CB)) == [s]
    assert ear.transcribe(np.zeros(16000, np.float32)) == []


def test_the_ear_hears_jittered_renders_at_10_db_at_least_999_in_1000():
    assert _symbol_accuracy(Variation(), n=100) == 1.0
    assert _symbol_accuracy(Variation(snr_db=10), n=200, seed=1) >= 0.999


def test_one_dropped_or_spurious_click_does_not_move_a_symbol():
    assert _symbol_accuracy(Variation(snr_db=20), n=200, seed=2, p_drop=0.03, p_spurious=0.01) >= 0.99


@pytest.mark.parametrize("domain", ["pulse", "carrier", pytest.param("speech_heldout", marks=pytest.mark.skipif(
    not shutil.which("espeak-ng"), reason="espeak-ng not installed (make test installs it)"))])
def test_synth_renders_domain_inputs_with_tone_answers_and_score_hears_both(tmp_path, cli, domain):
    args = ["synth", "--task", "mirror", "--split", "test_iid", "--n", 6, "--domain", domain, "--quiet"]
    assert cli(*args, "--out", tmp_path / "d").exit_code == 0
    assert cli(*args, "--out", tmp_path / "again").exit_code == 0
    recs = [json.loads(x) for x in (tmp_path / "d" / "manifest.jsonl").read_text().splitlines()]
    for r in recs:  # same seed, same bytes
        for f in ("audio", "target_audio"):
            assert (tmp_path / "d" / r[f]).read_bytes() == (tmp_path / "again" / r[f]).read_bytes()
    wavs = tmp_path / "inputs"
    wavs.mkdir()
    for r in recs:
        (wavs / f"{r['id']}.wav").write_bytes((tmp_path / "d" / r["audio"]).read_bytes())
    assert cli("score", "--wav-dir", wavs, "--domain", domain, "--out", tmp_path / "t", "--quiet").exit_code == 0
    heard = {json.loads(x)["id"]: json.loads(x)["symbols"] for x in (tmp_path / "t" / "transcripts.jsonl").read_text().splitlines()}
    assert heard == {r["id"]: r["input"] for r in recs}
    assert cli("score", "--ref", tmp_path / "d", "--out", tmp_path / "s", "--quiet").exit_code == 0  # the answers: tones
    assert json.loads((tmp_path / "s" / "summary.json").read_text())["overall"]["exact_match"] == 1.0
    res = cli("score", "--wav-dir", wavs, "--domain", "morse", "--out", tmp_path / "u", "--quiet")
    assert res.exit_code == 1 and "unknown --domain 'morse'" in res.stderr


TINY = ["--set", "model.name=cpu_small", "--set", "model.downsample=2", "--set", "train.batch_size=2",
        "--set", "train.val_n=4", "--set", "train.warmup=1", "--set", "data.mirror.iid_levels=[3,3]",
        "--set", "train.steps=2", "--set", "train.val_every=2", "--quiet"]


def test_train_domain_renders_training_and_validation_inputs_in_that_domain(tmp_path, cli):
    from jericho_cli.config import load_config
    from jericho_cli.training.batches import Batches
    from jericho_cli.training.validate import Validator

    cfg = load_config(None, ["train.domain=pulse", "data.mirror.iid_levels=[3,3]", "train.val_n=4"])
    ear = PulseEar(CB)
    for wave, target, _ in Validator(cfg, CB).items["mirror"]:
        assert ear.transcribe(wave) == target  # mirror: the answer is the input
    mixed = load_config(None, ["train.domain=[tone, pulse]", "train.batch_size=32"])
    pulses = [ear.transcribe(ex.audio) == ex.target for ex in Batches(mixed, CB).examples(0, "mirror", None)]
    assert 0 < sum(pulses) < len(pulses)  # some inputs clicks, the others tones
    assert cli("train", "--out", tmp_path / "r", *TINY, "--set", "train.domain=pulse").exit_code == 0
    res = cli("train", "--out", tmp_path / "x", *TINY, "--set", "train.domain=morse")
    assert res.exit_code == 1 and "train.domain must be one of tone" in res.stderr


def test_a_run_from_before_a_config_key_existed_resumes_as_its_default(tmp_path, cli):
    from jericho_cli.io import checkpoint

    run = ["train", "--out", tmp_path / "r", *TINY, "--set", "train.steps=4"]
    assert cli(*run, "--set", "train.stop_at=2").exit_code == 0
    last = tmp_path / "r" / "last.pt"
    ck = checkpoint.load(last, "cpu")
    del ck.config["train"]["domain"]  # as a run started before train.domain existed wrote it
    ck.save(last)
    assert cli(*run, "--resume").exit_code == 0
    assert json.loads((tmp_path / "r" / "run.json").read_text())["steps_done"] == 4

"""Audio beyond the training renderer's defaults: the augmentation ranges robust training draws from,
and the independent second renderer that test sets use (issue #9)."""

import json

import numpy as np
import pytest

from jericho_cli.config import DATA, defaults, load_config
from jericho_cli.data import pools
from jericho_cli.data.codebook import Codebook
from jericho_cli.data.render import Variation, coloured_noise, render
from jericho_cli.errors import JerichoError
from jericho_cli.scoring.ear import Scorer
from jericho_cli.training.batches import training_variation

CB = Codebook.load()
SC = Scorer(CB)


def test_independent_renderer_is_heard_by_the_scorer_on_every_task():
    rng = np.random.default_rng(0)
    for task in pools.TASK_SPLITS:
        for i in range(60):
            ex = pools.draw(task, "test_iid", i, 5, defaults(DATA))
            assert SC.transcribe(render(ex.input, CB, "tone_independent", rng)) == ex.input


def test_independent_renderer_is_its_own_sound():
    a = render(list("ABC"), CB, "tone_independent", np.random.default_rng(1))
    b = render(list("ABC"), CB, "tone_independent", np.random.default_rng(1))
    c = render(list("ABC"), CB, "tone", np.random.default_rng(1), Variation())
    assert np.array_equal(a, b)  # deterministic for a seed
    assert len(a) != len(c) and 0.3 <= np.max(np.abs(a)) <= 0.61


def test_synth_independent_domain_keeps_canonical_answers(tmp_path, cli):
    args = ["synth", "--task", "mirror", "--split", "test_iid", "--n", 4, "--quiet"]
    assert cli(*args, "--out", tmp_path / "a").exit_code == 0
    assert cli(*args, "--domain", "tone_independent", "--out", tmp_path / "b").exit_code == 0
    for r in (tmp_path / "b" / "manifest.jsonl").read_text().splitlines():
        r = json.loads(r)
        assert r["meta"]["domain"] == "tone_independent"
        assert (tmp_path / "b" / r["target_audio"]).read_bytes() == (tmp_path / "a" / r["target_audio"]).read_bytes()
        assert (tmp_path / "b" / r["audio"]).read_bytes() != (tmp_path / "a" / r["audio"]).read_bytes()
    assert cli("score", "--ref", tmp_path / "b", "--out", tmp_path / "s").exit_code == 0


def _durations(y):
    return [(s.end - s.start) * 1000 for s in SC.segments(y)]


def test_augment_ranges_reach_the_audio():
    rng = np.random.default_rng(2)
    v = Variation(tone_ms=(40, 60), gap_ms=(20, 30), envelopes=("linear",), ramp_ms=(2, 4))
    y = render(list("ABCDE"), CB, rng=rng, variation=v)
    assert SC.transcribe(y) == list("ABCDE")
    assert all(25 <= d <= 70 for d in _durations(y))
    quiet = render(list("AB"), CB, rng=rng, variation=Variation(gain_dbfs=(-40, -40)))
    assert np.isclose(20 * np.log10(np.max(np.abs(quiet))), -40, atol=0.01)
    dc = render(list("AB"), CB, rng=rng, variation=Variation(p_dc=1.0, dc=0.05))
    assert 0 < abs(np.mean(dc)) <= 0.05
    hum = render(list("A"), CB, rng=rng, variation=Variation(p_hum=1.0, hum_db=(-10, -10)))
    spec = np.abs(np.fft.rfft(hum))
    f = np.fft.rfftfreq(len(hum), 1 / CB.sample_rate)
    assert spec[(f > 45) & (f < 65)].max() > 10 * spec[(f > 200) & (f < 300)].max()
    offsets = []
    for seed in range(5):
        y = render(list("A"), CB, rng=np.random.default_rng(seed), variation=Variation(freq_offset=0.015, freq_jitter=0))
        fs = np.fft.rfftfreq(1 << 18, 1 / CB.sample_rate)
        offsets.append(fs[np.argmax(np.abs(np.fft.rfft(y, n=1 << 18)))] / CB.symbols["A"][0] - 1)
    assert all(abs(o) <= 0.0155 for o in offsets) and max(offsets) - min(offsets) > 0.005


def test_time_scale_slows_the_whole_utterance_and_is_off_by_default():
    v = Variation(tone_ms=(100, 100), gap_ms=(50, 50), time_scale=(2, 2))
    slow = render(list("ABC"), CB, rng=np.random.default_rng(0), variation=v)
    assert SC.transcribe(slow) == list("ABC")
    assert all(180 <= d <= 220 for d in _durations(slow))  # 100 ms tones, twice as slow
    lead = 2 * CB.samples(CB.lead_ms)
    assert len(slow) - lead == 2 * CB.samples(3 * 100 + 2 * 50)
    t = load_config(None, ["train.augment.enabled=true"])["train"]
    assert training_variation(t).time_scale is None  # [1, 1]: no draw, the bytes of earlier runs
    t = load_config(None, ["train.augment.enabled=true", "train.augment.time_scale=[1, 2]"])["train"]
    assert training_variation(t).time_scale == (1, 2)
    t = load_config(None, ["train.augment.time_scale=[1, 2]"])["train"]  # the default jitter, slowed
    assert training_variation(t) == Variation(time_scale=(1, 2))
    with pytest.raises(JerichoError, match="time_scale"):
        load_config(None, ["train.augment.time_scale=[0, 2]"])


@pytest.mark.parametrize("colour,slope", [("white", 0), ("pink", -1), ("brown", -2)])
def test_noise_colours_have_their_spectral_slope(colour, slope):
    x = coloured_noise(colour, 2 ** 16, np.random.default_rng(4))
    assert np.isclose(np.mean(x ** 2), 1.0, rtol=0.02)
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x))
    lo, hi = p[(f > 0.01) & (f < 0.02)].mean(), p[(f > 0.2) & (f < 0.4)].mean()
    measured = np.log10(hi / lo) / np.log10(0.3 / 0.015)
    assert abs(measured - slope) < 0.3


def test_snr_range_and_colours_and_config_switch():
    t = load_config(None, ["train.augment.enabled=true", "train.augment.snr_db=[10, 10]",
                           "train.augment.p_noise=1", "train.augment.noise_colours=[pink]"])["train"]
    v = training_variation(t)
    assert v.snr_range == (10, 10) and v.noise_colours == ("pink",) and v.tone_ms == (40, 150)
    assert training_variation(load_config(None, [])["train"]) == Variation()
    ok = sum(SC.transcribe(render(list("CAFE"), CB, rng=np.random.default_rng(i), variation=v)) == list("CAFE")
             for i in range(50))
    assert ok >= 45  # the scorer still hears nearly all augmented utterances at 10 dB pink noise

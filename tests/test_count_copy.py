"""The count-aligned copy head (model.copy_align: count, issue #32): answer symbol k copies the input's
k-th symbol whatever its timing, stops where the input stops, and its count is trained toward the
renderer's onsets."""

import json

import numpy as np
import pytest
import torch

from jericho_cli.config import ModelConfig
from jericho_cli.data.codebook import Codebook
from jericho_cli.data.render import Variation, render
from jericho_cli.model.mini_jmamba import MiniJMamba
from jericho_cli.training.batches import TrainExample, count_targets, make_targets

CB = Codebook.load()
COUNT = {"name": "cpu_small", "downsample": 2, "copy_head": True, "copy_align": "count"}


@pytest.mark.parametrize("domain", ["tone", "pulse"])
def test_spans_are_where_each_symbol_sounds_and_leave_the_audio_as_it_was(domain):
    rng = lambda: np.random.default_rng(5)  # noqa: E731
    v = Variation(tone_ms=(40, 150), gap_ms=(20, 100)) if domain == "tone" else Variation()
    spans: list = []
    y = render("ABCJ", CB, domain, rng=rng(), variation=v, spans=spans)
    assert np.array_equal(y, render("ABCJ", CB, domain, rng=rng(), variation=v))
    assert len(spans) == 4 and all(a < b <= c for (a, b), (c, _) in zip(spans, spans[1:]))
    inside = sum(float(np.sum(y[a:b] ** 2)) for a, b in spans)
    assert inside > 0.99 * float(np.sum(y ** 2))  # every bit of signal lies in a symbol's span


def test_count_targets_step_up_at_each_onset_and_only_where_onsets_are_known():
    m = MiniJMamba(ModelConfig.from_dict(COUNT))
    hop = m.cfg.hop * m.cfg.downsample  # samples a model step
    known = TrainExample(np.zeros(50 * hop), np.zeros(10), ["A", "B"], (3 * hop, 10 * hop + 200))  # frames 6 and 22 are the first centred there
    unknown = TrainExample(np.zeros(30 * hop), np.zeros(10), ["A"], None)
    steps = m.input_steps(torch.tensor([50 * hop, 30 * hop]))
    counts, mask = count_targets(m, [known, unknown], steps, torch.device("cpu"))
    assert counts[0, :3].tolist() == [0, 0, 0] and counts[0, 3] == 1 and counts[0, 10] == 1 and counts[0, 11] == 2
    assert mask[0].sum() == int(steps[0]) and mask[1].sum() == 0


def _spread_tones(symbols, tone_ms, gap_ms):
    """Tones at the given (per-symbol) durations: an input out of step with the canonical answer."""
    sr, pieces, onsets, pos = CB.sample_rate, [np.zeros(800)], [], 800
    for s, t, g in zip(symbols, tone_ms, gap_ms):
        n = int(sr * t / 1000)
        onsets.append(pos)
        pieces += [0.5 * np.sin(2 * np.pi * CB.symbols[s][0] * np.arange(n) / sr), np.zeros(int(sr * g / 1000))]
        pos += n + int(sr * g / 1000)
    pieces.append(np.zeros(800))
    return torch.tensor(np.concatenate(pieces), dtype=torch.float32), onsets


def test_answer_symbol_k_copies_the_inputs_kth_symbol_at_any_timing_and_stops_after_the_last():
    """With the onset detector replaced by exact counts and the gate open, answer frames inside
    canonical symbol k's tone peak at input symbol k's frequency (K and L included, tones of 45 and
    140 ms), and answer frames past the last symbol are silence."""
    torch.manual_seed(0)
    m = MiniJMamba(ModelConfig.from_dict(COUNT)).eval()
    symbols = "KCLA"
    wave, onsets = _spread_tones(symbols, [45, 140, 60, 100], [90, 20, 60, 30])
    n = torch.tensor([len(wave)])
    steps = m.input_steps(n)
    exact, _ = count_targets(m, [TrainExample(wave.numpy(), np.zeros(1), list(symbols), tuple(onsets))],
                             steps, torch.device("cpu"))
    m.copy.counts = lambda frames, t_in: (exact, torch.zeros_like(exact))
    with torch.no_grad():
        m.copy.mix.bias.copy_(torch.tensor([50.0, 3.9, 0.0]))  # gate open, gamma 1
        m.copy.beta.fill_(20.0)
        frames = m.answer_frames(m(wave[None], n)["log_mag"])[0]
    bin_hz = CB.sample_rate / m.cfg.n_fft
    lead, tone, gap = m.cfg.answer_clock_ms
    for k, s in enumerate(symbols):
        mid = int((lead + k * (tone + gap) + tone / 2) / 10)  # 10 ms frames
        peak_hz = float(frames[mid].argmax()) * bin_hz
        assert abs(peak_hz / CB.symbols[s][0] - 1) < 0.05, (k, s, peak_hz)
    past = int((lead + len(symbols) * (tone + gap) + tone / 2) / 10)
    assert float(frames[past].max()) < float(np.log(m.spec.log_floor)) + 0.2  # silence (the floor: -9.2)


def test_count_loss_trains_the_onset_detector(tmp_path, cli):
    from tests.test_model import TINY
    res = cli("train", "--out", tmp_path, "--quiet", *TINY, "--set", "model.copy_head=true",
              "--set", "model.copy_align=count", "--set", "train.steps=60", "--set", "train.val_every=30")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "log" / "metrics.jsonl").read_text().splitlines()]
    counts = [r["count"] for r in rows if "count" in r]
    assert counts and counts[-1] < counts[0] * 0.7
    cfg = json.loads((tmp_path / "run.json").read_text())["config"]
    assert cfg["model"]["answer_clock_ms"] == [CB.lead_ms, CB.symbol_ms, CB.gap_ms]


def test_make_targets_has_no_count_targets_without_a_count_head():
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 2}))
    ex = TrainExample(render("AB", CB), render("AB", CB), ["A", "B"], (800, 3200))
    assert make_targets(m, [ex], torch.device("cpu"))[-1] is None


def test_onset_features_are_blind_to_which_tone_and_to_the_level():
    """What the onset detector hears does not depend on which frequency sounds (K/L start like A) or
    on the utterance's gain (noise at 40 dB below the tones keeps the STFT floor out of it): the
    same timing gives the same features, up to window leakage."""
    from jericho_cli.model.copy_heads import CountCopyHead
    m = MiniJMamba(ModelConfig.from_dict(COUNT))
    noise = 0.005 * torch.randn(20000, generator=torch.Generator().manual_seed(0))
    feats = {}
    for name, symbols, gain in (("A", "AAB", 1.0), ("K", "KKL", 1.0), ("quiet", "AAB", 0.01)):
        wave, _ = _spread_tones(symbols, [60, 100, 80], [40, 30, 50])
        frames = m.spec.log_mag(gain * (wave + noise[: len(wave)])[None])
        feats[name] = CountCopyHead.frame_features(frames, torch.tensor([frames.shape[1]]))[0]
    scale = feats["A"].abs().amax(0)  # each feature's range
    assert bool(((feats["A"] - feats["K"]).abs().amax(0) < 0.2 * scale).all())
    assert bool(((feats["A"] - feats["quiet"]).abs().amax(0) < 0.2 * scale).all())


def test_mirror_default_keeps_every_training_tone_out_of_k_and_l_bands():
    """The strict unseen-symbol protocol holds for the default (robust) Mirror config: no training
    tone, at the widest jitter and offset its renderer draws, falls in K's or L's decision band. Its
    noise is broadband (white, pink, brown: no tone, so no symbol), and its hum sits below 400 Hz."""
    from jericho_cli.config import load_config
    from jericho_cli.training.batches import training_variation
    cfg = load_config(["recipes/mirror/conf/train_cpu.yaml"], [])
    assert cfg["model"]["copy_head"] and cfg["model"]["copy_align"] == "count" and cfg["train"]["augment"]["enabled"]
    freqs, lo, hi = CB.band_edges()
    band = [(lo[i], hi[i]) for i, f in enumerate(freqs) if any(f in CB.symbols[s] for s in "KL")]
    v = training_variation(cfg["train"])
    spread = (1 + v.freq_jitter) * (1 + v.freq_offset)
    assert "K" not in cfg["data"]["mirror"]["train_symbols"] and "L" not in cfg["data"]["mirror"]["train_symbols"]
    for s in cfg["data"]["mirror"]["train_symbols"]:
        for f in CB.symbols[s]:
            assert all(f * spread < a or f / spread > b for a, b in band), (s, f)


def test_copy_targets_mark_answers_that_are_the_input_and_only_where_known():
    from jericho_cli.training.batches import copy_targets
    exs = [TrainExample(np.zeros(10), np.zeros(10), ["A", "B"], copies=True),      # Mirror
           TrainExample(np.zeros(10), np.zeros(10), ["V"], copies=False),          # Bracket
           TrainExample(np.zeros(10), np.zeros(10), ["A"])]                        # unknown
    copies, known = copy_targets(exs, torch.device("cpu"))
    assert copies.tolist() == [1, 0, 0] and known.tolist() == [1, 1, 0]


@pytest.mark.parametrize("gate", ["learned", "copy"])
def test_copy_gate_loss_is_the_cross_entropy_of_the_gates_mean_logit(gate):
    """train.loss.copy_gate: at initialisation the gate's logit is GATE_INIT on every answer frame, so
    the loss over a copy and a non-copy is the mean of -log sigmoid(3) and -log sigmoid(-3); a model
    whose answer is the copy alone (copy_gate: copy) has no gate to train."""
    from jericho_cli.model.copy_heads import CountCopyHead
    from jericho_cli.training.loop import compute_loss
    m = MiniJMamba(ModelConfig.from_dict({**COUNT, "copy_gate": gate}))
    exs = [TrainExample(render("ABC", CB), render("ABC", CB), ["A", "B", "C"], None, copies=True),
           TrainExample(render("(())", CB), render("V", CB), ["V"], None, copies=False)]
    batch = make_targets(m, exs, torch.device("cpu"))
    weights = {"spec_l1": 1.0, "copy_gate": 1.0}
    total, parts = compute_loss(m, batch, [[0, 1, 2], [3]], weights)
    if gate == "copy":
        assert "copy_gate" not in parts
        return
    g = CountCopyHead.GATE_INIT
    expected = (np.log1p(np.exp(-g)) + np.log1p(np.exp(g))) / 2
    assert abs(parts["copy_gate"] - expected) < 1e-5
    total.backward()
    assert m.copy.mix.weight.grad[0].abs().sum() > 0  # the gate's row learns from it

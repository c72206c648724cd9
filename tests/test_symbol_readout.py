"""model.symbol_readout: each answer symbol reads the input states where its input symbol was heard,
found by a learned count of onsets (trained toward the renderer's onsets), not by position; the answer
is silent past the input's last symbol."""

import json

import numpy as np
import pytest
import torch

from jericho_cli.config import ModelConfig
from jericho_cli.data.codebook import Codebook
from jericho_cli.data.render import render
from jericho_cli.errors import JerichoError
from jericho_cli.model.answer_clock import answer_clock
from jericho_cli.model.mini_jmamba import MiniJMamba
from jericho_cli.model.symbol_readout import SymbolReadout
from jericho_cli.training.batches import TrainExample, make_targets

CB = Codebook.load()
CLOCK = (CB.lead_ms, CB.symbol_ms, CB.gap_ms)  # 50 ms lead, 100 ms tone, 50 ms gap
READOUT = {"name": "cpu_small", "downsample": 2, "symbol_readout": True, "answer_clock_ms": list(CLOCK)}


def _readout_with_onsets_on_feature_0(d=8, k=2):
    """A readout whose onset head fires exactly where feature 0 of the state is high, reading the
    matching symbol's steps sharply and evenly (no preference among them), adding what it reads as is."""
    r = SymbolReadout(d, CLOCK, 10.0, k)
    with torch.no_grad():
        r.onset.weight.zero_()
        r.onset.weight[0, 0] = 40.0
        r.onset.bias.fill_(-20.0)
        r.prefer.weight.zero_()
        r.prefer.bias.zero_()
        r.beta.fill_(50.0)
        r.proj.weight.copy_(torch.eye(d))
        r.proj.bias.zero_()
    return r


def test_each_answer_symbol_reads_its_own_input_symbols_steps_whatever_their_timing():
    d, k = 8, 2
    r = _readout_with_onsets_on_feature_0(d, k)
    # three input symbols of unequal length (4, 9 and 4 steps) after a 3-step lead: onsets at 3, 7, 16
    T, onsets, lengths = 20, [3, 7, 16], [4, 9, 4]
    h = torch.zeros(1, T, d)
    for i, (t0, n) in enumerate(zip(onsets, lengths)):
        h[0, t0, 0] = 1.0
        h[0, t0:t0 + n, 1 + i] = 1.0  # symbol i's identity, on its own steps only
    A = 30  # answer steps of 20 ms: 600 ms, room for four canonical symbols
    new, count, silent = r(h, torch.tensor([T]), torch.zeros(1, A, d))
    assert torch.allclose(count[0, -1], torch.tensor(3.0), atol=1e-3)
    a = answer_clock(A * k, 10.0, CLOCK, "cpu").reshape(A, k).mean(1).floor()  # each step's symbol
    for j in range(A):
        if 0 <= a[j] < 3:  # the step says symbol a_j: it read symbol a_j's identity, no other
            ident = new[0, j, 1:4]
            assert ident.argmax().item() == int(a[j]) and ident.max() > 0.99 and ident.sum() < 1.01
    frames_a = torch.floor(answer_clock(A * k, 10.0, CLOCK, "cpu"))
    assert bool((silent[0, frames_a >= 3] > 0.99).all())  # past the third symbol: silence
    assert bool((silent[0, (frames_a >= 0) & (frames_a < 3)] < 0.01).all())


def test_the_readout_is_on_the_models_answer_and_silences_it_past_the_count():
    torch.manual_seed(0)
    m = MiniJMamba(ModelConfig.from_dict(READOUT)).eval()
    torch.nn.init.normal_(m.out_head.weight, std=0.05)  # starts silent; give the answer some sound
    with torch.no_grad():
        m.readout.onset.bias.fill_(-30.0)  # no onset heard: the whole answer is past the count
        out = m(torch.randn(1, 9000) * 0.1, torch.tensor([9000]))
    assert out["count"].shape == (1, int(out["in_steps"][0])) and float(out["count"].max()) < 1e-6
    floor = np.log(m.spec.log_floor)
    frames = m.answer_frames(out["log_mag"])
    on_symbols = torch.floor(answer_clock(frames.shape[1], 1000 * m.cfg.hop / m.cfg.sample_rate, CLOCK, "cpu")) >= 0
    assert float((frames[:, on_symbols] - floor).abs().max()) < 0.05  # silence, up to the soft count's edge
    assert not torch.allclose(frames[:, ~on_symbols], torch.full_like(frames[:, ~on_symbols], floor), atol=1e-4)


def test_the_count_is_trained_toward_the_renderers_onsets():
    from jericho_cli.training.loop import compute_loss
    m = MiniJMamba(ModelConfig.from_dict(READOUT))
    spans: list = []
    audio = render("ABC", CB, spans=spans)
    ex = TrainExample(audio, render("ABC", CB), ["A", "B", "C"], tuple(a for a, _ in spans), copies=True)
    batch = make_targets(m, [ex], torch.device("cpu"))
    assert batch[-1] is not None and float(batch[-1][0][0, -1]) == 3.0  # three onsets counted by the end
    total, parts = compute_loss(m, batch, [[0, 1, 2]], {"spec_l1": 1.0, "count": 1.0})
    assert parts["count"] > 1.0  # the count starts near 0 of 3
    total.backward()
    assert m.readout.onset.weight.grad.abs().sum() > 0


def test_readout_and_copy_head_are_not_both_allowed_and_it_does_not_stream():
    with pytest.raises(JerichoError, match="symbol_readout"):
        ModelConfig.from_dict({**READOUT, "copy_head": True, "copy_align": "count"})
    m = MiniJMamba(ModelConfig.from_dict(READOUT))
    with pytest.raises(ValueError, match="streaming"):
        m.stream(torch.zeros(1, 4000), torch.tensor([4000]))


def test_train_sets_the_answer_clock_for_the_readout(cli):
    res = cli("train", "--dry-run", "--set", "model.symbol_readout=true")
    assert res.exit_code == 0, res.stdout
    model = json.loads(res.stdout)["model"]
    assert model["symbol_readout"] is True and model["answer_clock_ms"] == list(CLOCK)


def test_a_refractory_time_counts_a_words_second_syllable_as_no_new_word():
    """model.readout_refractory_ms: onsets 3 steps apart (a two-syllable word) count once when no
    onset may follow another within 4 steps, twice with the default (one step); onsets further apart
    count each."""
    d, k = 8, 2
    one_step, four_steps = _readout_with_onsets_on_feature_0(d, k), SymbolReadout(d, CLOCK, 10.0, k, refractory_ms=80.0)
    four_steps.load_state_dict(one_step.state_dict())
    assert four_steps.refractory == 4 and one_step.refractory == 1
    h = torch.zeros(1, 20, d)
    h[0, [2, 5, 12], 0] = 1.0  # a word at step 2 whose second syllable starts at 5; the next word at 12
    t_in = torch.tensor([20])
    with torch.no_grad():
        assert round(float(one_step.counts(h, t_in)[0, -1])) == 3
        assert round(float(four_steps.counts(h, t_in)[0, -1])) == 2

"""model.answer_slots: the answer says one spectrum per symbol, the mean of the output's frames over
each symbol's tone on the canonical answer clock; the lead and the gaps stay as the output says them."""

import json

import pytest
import torch

from jericho_cli.config import ModelConfig
from jericho_cli.data.codebook import Codebook
from jericho_cli.model.answer_clock import answer_clock, slot_means
from jericho_cli.model.mini_jmamba import MiniJMamba

CB = Codebook.load()
CLOCK = (CB.lead_ms, CB.symbol_ms, CB.gap_ms)  # 50 ms lead, 100 ms tone, 50 ms gap


def test_the_clock_places_each_frame_in_its_symbols_slot():
    a = torch.floor(answer_clock(60, 10.0, CLOCK, "cpu"))  # 10 ms frames
    assert a[:3].tolist() == [-1, -1, -1] and a[3].item() == 0  # the lead, up to half a gap before tone 1
    assert a[17].item() == 0 and a[18].item() == 1  # half a gap past tone 1's end (150 ms + 25)


def test_each_tone_says_its_slots_mean_and_lead_and_gaps_stay():
    torch.manual_seed(0)
    x = torch.randn(2, 40, 6)
    y = slot_means(x, 10.0, CLOCK)
    for first, last in [(5, 15), (20, 30), (35, 40)]:  # tones 1-3 (the third cut short by the answer's end)
        torch.testing.assert_close(y[:, first:last], x[:, first:last].mean(1, keepdim=True).expand(-1, last - first, -1))
    for gap in [range(0, 5), range(15, 20), range(30, 35)]:  # the lead and the gaps
        torch.testing.assert_close(y[:, list(gap)], x[:, list(gap)])


def test_a_spectrum_already_constant_over_each_tone_is_unchanged():
    x = torch.randn(1, 1, 4).expand(1, 40, 4).clone()
    torch.testing.assert_close(slot_means(x, 10.0, CLOCK), x)


def _model(slots):
    cfg = {"name": "cpu_small", "downsample": 2, "answer_slots": slots, "answer_clock_ms": list(CLOCK)}
    return MiniJMamba(ModelConfig.from_dict(cfg)).eval()


@pytest.mark.parametrize("stream", [False, True])
def test_the_model_says_the_slot_means_of_what_it_would_say_without(stream):
    """The option has no weights: one model's answer with and without it, in the batch forward and
    one step at a time; the gradient reaches every frame of a tone."""
    torch.manual_seed(1)
    plain, slots = _model(False), _model(True)
    torch.nn.init.normal_(plain.out_head.weight, std=0.05)  # starts silent; give the answer some sound
    slots.load_state_dict(plain.state_dict())
    wave, n = torch.randn(1, 9000) * 0.1, torch.tensor([9000])
    with torch.no_grad():
        a = plain.stream(wave, n) if stream else plain(wave, n)
        b = slots.stream(wave, n) if stream else slots(wave, n)
    hop_ms = 1000 * plain.cfg.hop / plain.cfg.sample_rate
    want = slot_means(plain.answer_frames(a["log_mag"]), hop_ms, CLOCK)
    torch.testing.assert_close(slots.answer_frames(b["log_mag"]), want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(a["ctc"], b["ctc"])


def test_gradient_reaches_every_frame_of_a_tone():
    x = torch.randn(1, 20, 3, requires_grad=True)
    slot_means(x, 10.0, CLOCK)[0, 7].sum().backward()  # one frame of tone 1
    touched = (x.grad[0].abs().sum(-1) > 0).nonzero().flatten().tolist()
    assert touched == list(range(5, 15))


def test_train_sets_the_answer_clock_from_the_codebook(cli):
    res = cli("train", "--dry-run", "--set", "model.answer_slots=true")
    assert res.exit_code == 0, res.stdout
    model = json.loads(res.stdout)["model"]
    assert model["answer_slots"] is True and model["answer_clock_ms"] == list(CLOCK)

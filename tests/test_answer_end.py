"""model.answer_end: ctc: answer frames past the symbols the CTC head reads in the answer are silence,
on the canonical answer clock; a soft count, the same in the batch forward and in streaming."""

import json
import math

import pytest
import torch

from jericho_cli.config import ModelConfig
from jericho_cli.data.codebook import Codebook
from jericho_cli.model.answer_clock import answer_clock, ctc_symbol_count, past_symbols
from jericho_cli.model.mini_jmamba import MiniJMamba

CB = Codebook.load()


def _peaky(classes, n_classes=5):
    """CTC logits (1, T, V+1) that say `classes` (0 = blank) one step each, all but certain."""
    return torch.nn.functional.one_hot(torch.tensor([classes]), n_classes).float() * 30.0


@pytest.mark.parametrize("classes, n", [([1, 0, 1], 2), ([1, 1, 2], 2), ([0, 3, 3, 3, 0], 1), ([0, 0, 0], 0),
                                        ([2, 3, 4, 1], 4)])
def test_ctc_count_is_the_number_of_symbols_best_path_decoding_reads(classes, n):
    """Repeats collapse unless a blank parts them, as CTC decoding reads them."""
    logits = _peaky(classes)
    assert ctc_symbol_count(logits, torch.tensor([len(classes)])).item() == pytest.approx(n, abs=1e-6)


def test_ctc_count_ignores_steps_past_the_answer_and_is_detached():
    logits = _peaky([1, 0, 2, 3, 4]).requires_grad_()
    count = ctc_symbol_count(logits, torch.tensor([3]))  # the last two steps are padding
    assert count.item() == pytest.approx(2, abs=1e-6) and not count.requires_grad


def test_frames_past_the_last_symbol_fall_silent_on_the_canonical_clock():
    hop_ms, clock = 10.0, (CB.lead_ms, CB.symbol_ms, CB.gap_ms)  # 50 ms lead, 100 ms tone, 50 ms gap
    a = torch.floor(answer_clock(60, hop_ms, clock, "cpu"))
    assert a[:3].tolist() == [-1, -1, -1] and a[3].item() == 0  # the lead, up to half a gap before tone 1
    assert a[17].item() == 0 and a[18].item() == 1  # half a gap after tone 1 (its 100 ms end at 150 + 25)
    silent = past_symbols(a, torch.tensor([[2.0]]))[0]
    assert (silent[a <= 1] < 0.01).all() and (silent[a >= 2] > 0.99).all()


def _model(end):
    cfg = {"name": "cpu_small", "downsample": 2, "answer_end": end, "answer_clock_ms": [50.0, 100.0, 50.0]}
    return MiniJMamba(ModelConfig.from_dict(cfg)).eval()


def test_gated_model_says_what_the_ungated_says_up_to_the_ctc_count_and_silence_after():
    torch.manual_seed(0)
    plain, gated = _model("none"), _model("ctc")
    torch.nn.init.normal_(plain.out_head.weight, std=0.05)  # starts silent; give the answer some sound
    torch.nn.init.normal_(plain.ctc_head.weight, std=0.5)
    gated.load_state_dict(plain.state_dict())  # the gate has no weights: one model, two ends
    wave, n = torch.randn(2, 12000) * 0.1, torch.tensor([12000, 9000])
    with torch.no_grad():
        a, b = plain(wave, n), gated(wave, n)
    torch.testing.assert_close(a["ctc"], b["ctc"])
    floor = math.log(gated.spec.log_floor)
    frames = gated.answer_frames
    count = ctc_symbol_count(a["ctc"], a["ans_steps"])
    sym = torch.floor(answer_clock(frames(a["log_mag"]).shape[1], 1000 * gated.cfg.hop / gated.cfg.sample_rate,
                                   gated.cfg.answer_clock_ms, "cpu"))
    for i in range(2):
        before, after = sym + 0.5 < count[i] - 0.5, sym + 0.5 > count[i] + 0.5  # clear of the soft edge
        assert before.any() and after.any()
        torch.testing.assert_close(frames(b["log_mag"])[i][before], frames(a["log_mag"])[i][before], atol=1e-2, rtol=0)
        assert torch.allclose(frames(b["log_mag"])[i][after], torch.tensor(floor), atol=1e-2)


def test_streaming_gives_the_batch_forwards_gated_answer():
    torch.manual_seed(1)
    m = _model("ctc")
    torch.nn.init.normal_(m.out_head.weight, std=0.05)
    torch.nn.init.normal_(m.ctc_head.weight, std=0.5)
    wave, n = torch.randn(1, 8000) * 0.1, torch.tensor([8000])
    with torch.no_grad():
        full, streamed = m(wave, n), m.stream(wave, n)
    torch.testing.assert_close(streamed["log_mag"], full["log_mag"], atol=1e-4, rtol=1e-4)


def test_train_sets_the_answer_clock_from_the_codebook(cli):
    res = cli("train", "--dry-run", "--set", "model.answer_end=ctc")
    assert res.exit_code == 0, res.stdout
    model = json.loads(res.stdout)["model"]
    assert model["answer_end"] == "ctc" and model["answer_clock_ms"] == [CB.lead_ms, CB.symbol_ms, CB.gap_ms]

"""Spoken symbols (issue #34): espeak-ng voices as speakers, training and held-out speakers apart,
and the check that spoken inputs say what their manifests say (template matching, no model).
Skips cleanly without espeak-ng (`make test` installs it)."""

from __future__ import annotations

import numpy as np
import pytest

from jericho_cli.data import speech
from jericho_cli.data.codebook import Codebook
from jericho_cli.data.render import ANSWER_DOMAIN, Variation, render
from jericho_cli.errors import JerichoError
from jericho_cli.scoring.metrics import compare

CB = Codebook.load()
needs_espeak = pytest.mark.skipif(not speech.available(), reason="espeak-ng not installed (make test installs it)")


@pytest.fixture(scope="module")
def ear():
    from jericho_cli.scoring.speech_ear import SpeechEar

    return SpeechEar(CB)


def test_every_symbol_has_a_word_and_held_out_speakers_share_no_accent_or_variant_with_training():
    assert set(speech.words(CB)) == set(CB.alphabet) and len(set(speech.WORDS.values())) == len(speech.WORDS)
    held = {(a, v) for a, v, _, _ in speech.HELDOUT_SPEAKERS}
    for speakers in (speech.TRAIN_SPEAKERS, speech.TRAIN_SPEAKERS_WIDE):
        train = {(a, v) for a, v, _, _ in speakers}
        assert not {a for a, _ in train} & {a for a, _ in held} and not {v for _, v in train} & {v for _, v in held}
    wide = {(a, v) for a, v, _, _ in speech.TRAIN_SPEAKERS_WIDE}
    assert len(wide) == 300 and {(a, v) for a, v, _, _ in speech.TRAIN_SPEAKERS} <= wide
    assert ANSWER_DOMAIN["speech"] == ANSWER_DOMAIN["speech_wide"] == ANSWER_DOMAIN["speech_heldout"] == "tone"
    cb = Codebook.from_dict({"symbols": {"A": 440, "Q": 600}}, "cb.yaml")
    with pytest.raises(JerichoError, match="no word for symbol"):
        speech.words(cb)


@needs_espeak
def test_every_wide_variant_is_a_voice_of_its_own():
    # espeak-ng falls back to the plain voice for a variant it does not have, without a word
    said = {v: speech.clip(("en-us", v, 170, 50), "alpha", CB.sample_rate).tobytes() for v in speech.WIDE_VARIANTS}
    plain = speech.clip(("en-us", "nosuchvariant", 170, 50), "alpha", CB.sample_rate).tobytes()
    assert plain not in said.values() and len(set(said.values())) == len(said)


def test_without_espeak_the_speech_domain_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(speech, "available", lambda: False)
    with pytest.raises(JerichoError, match="needs espeak-ng"):
        speech.clip.__wrapped__(speech.TRAIN_SPEAKERS[0], "alpha", 16000)


@needs_espeak
def test_spans_cover_each_word_and_a_render_is_a_function_of_its_seed():
    spans = []
    y = render(list("A(3"), CB, "speech", np.random.default_rng(4), Variation(), spans=spans)
    assert len(spans) == 3 and all(a < b <= c for (a, b), (c, _) in zip(spans, spans[1:]))
    again = render(list("A(3"), CB, "speech", np.random.default_rng(4), Variation())
    assert np.array_equal(y, again)


@needs_espeak
def test_template_matching_hears_unseen_voices_at_least_99_percent(ear):
    rng = np.random.default_rng(0)
    edits = total = 0
    for _ in range(80):
        seq = [str(s) for s in rng.choice(CB.alphabet, rng.integers(1, 6))]
        heard = ear.transcribe(render(seq, CB, "speech_heldout", rng, Variation()))
        edits += compare(seq, heard)["edit_distance"]
        total += len(seq)
    assert 1 - edits / total >= 0.99
    assert ear.transcribe(np.zeros(16000, np.float32)) == []

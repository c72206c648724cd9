"""Which ear hears which signal domain: the registry behind `score --domain` (and its --help).

Answers are canonical tones in every domain, so model answers are always heard by the tone ear;
another domain's ear transcribes that domain's own audio (its inputs, or audio made elsewhere)."""

from __future__ import annotations

from ..data.codebook import Codebook
from ..errors import JerichoError
from .carrier_ear import CarrierEar
from .ear import Scorer
from .pulse_ear import PulseEar
from .speech_ear import SpeechEar

EARS = {"tone": Scorer, "tone_independent": Scorer, "pulse": PulseEar, "carrier": CarrierEar,
        "speech": SpeechEar, "speech_wide": SpeechEar, "speech_heldout": SpeechEar}


def ear_for(domain: str, cb: Codebook):
    if domain not in EARS:
        raise JerichoError(f"unknown --domain {domain!r} (available: {', '.join(EARS)})")
    return EARS[domain](cb)

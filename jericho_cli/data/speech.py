"""Spoken symbols (`--domain speech`, `--domain speech_heldout`): each symbol is a word spoken by
espeak-ng (Debian package `espeak-ng`), voices as speakers (issue #34).

Words: the letters are the radiotelephony (NATO) alphabet, made to be told apart over a noisy
channel (the letter names "bee, dee, ee, vee, three" are the classic confusable set); digits are
their names; operators and brackets are words (`%` "modulo", `(` "open", `)` "shut": "close" is
too near "plus"). A codebook symbol
with no word here is refused.
Speakers: an espeak-ng accent with a voice variant (its formants, pitch and breathiness) at a rate
and pitch of its own. TRAIN_SPEAKERS (and the wider TRAIN_SPEAKERS_WIDE) share no accent and no
variant with HELDOUT_SPEAKERS: `speech` (`speech_wide`) renders the first (what training and
validation hear), `speech_heldout` the second (the test sets of unseen voices). Each (speaker, word) is synthesized once per process and kept.
An utterance: a speaker is drawn, its words are joined by GAP_MS of silence (canonical) and, with a
variation, the speed is perturbed (SPEED, resampling, as Kaldi's speed perturbation: tempo and
pitch together), pauses vary (GAP_JITTER; the tones' tone_ms/gap_ms ranges do not apply), each word's level varies
(amp_jitter_db), then the room, noise, hum, DC and gain of variation.effects.
"""

from __future__ import annotations

import functools
import io
import math
import shutil
import subprocess
import zlib

import numpy as np
import soundfile as sf
from scipy.signal import firwin, resample_poly

from ..errors import JerichoError
from .codebook import Codebook
from .variation import NO_JITTER, _uniform, effects

WORDS = {
    "A": "alpha", "B": "bravo", "C": "charlie", "D": "delta", "E": "echo", "F": "foxtrot", "G": "golf",
    "H": "hotel", "I": "india", "J": "juliet", "K": "kilo", "L": "lima", "V": "victor", "X": "x-ray",
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
    "8": "eight", "9": "nine", "%": "modulo", "(": "open", ")": "shut", "+": "plus", "-": "minus",
    "=": "equals", "#": "hash",
}


def _speakers(accents, variants, rates, pitches):
    """Every accent with every variant; each such voice gets one rate and pitch (cycled)."""
    voices = [(a, v) for a in accents for v in variants]
    return [(a, v, rates[i % len(rates)], pitches[(i // len(rates)) % len(pitches)]) for i, (a, v) in enumerate(voices)]


TRAIN_ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029"]
TRAIN_SPEAKERS = _speakers(TRAIN_ACCENTS, ["m1", "m3", "m5", "m7", "f1", "f3", "f5", "klatt"], [140, 165, 190], [35, 50, 65])
# `speech_wide`: the training accents with every voiced, human-sounding variant espeak-ng ships but
# the held-out ones (left out: robots, whispers, caleb (unvoiced), `fast`), at five rates and five
# pitches: 300 voices where `speech` has 40, for a model that must generalise across speakers.
WIDE_VARIANTS = ["m1", "m3", "m5", "m7", "m8", "f1", "f3", "f5", "klatt", "klatt3", "klatt4", "Alex", "Alicia",
                 "Andrea", "Andy", "Annie", "Denis", "Diogo", "Gene", "Henrique", "Hugo", "Jacky", "Lee", "Marco",
                 "Mario", "Michael", "Mike", "Nguyen", "adam", "anika", "antonio", "aunty", "belinda", "benjamin",
                 "boris", "david", "ed", "edward", "grandma", "grandpa", "gustave", "iven", "john", "linda",
                 "marcelo", "max", "michel", "miguel", "norbert", "pablo", "paul", "pedro", "quincy", "rob",
                 "robert", "sandro", "shelby", "steph", "travis", "victor"]
TRAIN_SPEAKERS_WIDE = _speakers(TRAIN_ACCENTS, WIDE_VARIANTS, [130, 150, 170, 190, 210], [30, 40, 50, 60, 70])
HELDOUT_SPEAKERS = _speakers(["en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd"],
                             ["m2", "m4", "m6", "f2", "f4", "klatt2"], [150, 175], [40, 60])
GAP_MS = 150.0        # canonical silence between words
GAP_JITTER = (100.0, 300.0)  # ms, with a variation that sets no gap_ms
SPEED = (0.9, 1.1)    # speed perturbation with a variation
LEAD_MS = 50.0
ESPEAK_SR = 22050


def available() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=None)
def clip(speaker: tuple, word: str, sr: int) -> np.ndarray:
    """One word spoken by one speaker at sample rate sr, leading and trailing silence trimmed."""
    if not available():
        raise JerichoError("the speech domain needs espeak-ng (Debian: apt-get install espeak-ng; "
                           "`make test` installs it)")
    accent, variant, rate, pitch = speaker
    res = subprocess.run(["espeak-ng", "-v", f"{accent}+{variant}", "-s", str(rate), "-p", str(pitch),
                          "--stdout", word], capture_output=True, timeout=60)
    if res.returncode != 0 or not res.stdout:
        raise JerichoError(f"espeak-ng failed for voice {accent}+{variant}: "
                           f"{res.stderr.decode(errors='replace').strip()[:120]}")
    y, rate_in = sf.read(io.BytesIO(res.stdout), dtype="float64")
    y = resample_poly(y, sr, rate_in) if rate_in != sr else y
    loud = np.flatnonzero(np.abs(y) > 0.02 * np.max(np.abs(y)))
    y = y[loud[0]:loud[-1] + 1] if len(loud) else y
    return y / (np.max(np.abs(y)) or 1.0)


@functools.lru_cache(maxsize=512)
def _lowpass(up: int, down: int) -> np.ndarray:
    """resample_poly's own default anti-aliasing filter for up/down, designed once per ratio:
    designing it (a Kaiser window thousands of taps long) cost more than the resampling."""
    g = math.gcd(up, down)
    m = max(up, down) // g
    return firwin(20 * m + 1, 1.0 / m, window=("kaiser", 5.0))


def speed_perturb(y: np.ndarray, speed: float) -> np.ndarray:
    """Kaldi-style speed perturbation: resampled, so speed > 1 is shorter and higher."""
    up, down = 1000, int(round(1000 * speed))
    if up == down:
        return y.copy()
    return resample_poly(y, up, down, window=_lowpass(up, down))


def words(cb: Codebook) -> dict[str, str]:
    missing = [s for s in cb.alphabet if s not in WORDS]
    if missing:
        raise JerichoError(f"the speech domain has no word for symbol(s) {' '.join(missing)}", cb.source)
    return {s: WORDS[s] for s in cb.alphabet}


def speaker_for(symbols, rng, speakers) -> tuple:
    """A random speaker, or (canonical form) one fixed by the symbols, so a render is a function of them."""
    if rng is not None:
        return speakers[int(rng.integers(len(speakers)))]
    return speakers[zlib.crc32("".join(symbols).encode()) % len(speakers)]


def render_speech(symbols, cb: Codebook, rng: np.random.Generator | None = None, variation=None, *,
                  speakers=TRAIN_SPEAKERS, spans: list | None = None) -> np.ndarray:
    """Render `symbols` as speech at cb.sample_rate (`spans`: as render.render_tone's, one per word)."""
    sr, table = cb.sample_rate, words(cb)
    jit = variation is not None and rng is not None
    v = variation or NO_JITTER
    speaker = speaker_for(symbols, rng, speakers)
    speed = _uniform(rng, SPEED) if jit else 1.0
    lead = int(LEAD_MS / 1000 * sr)
    parts, active, t = [np.zeros(lead)], [], lead
    for n, s in enumerate(symbols):
        y = clip(speaker, table[s], sr)
        if jit:
            y = speed_perturb(y, speed)
            y = y * 10 ** (rng.uniform(-v.amp_jitter_db, v.amp_jitter_db) / 20)
        parts.append(cb.amplitude * y)
        active.append((t, t + len(y)))
        t += len(y)
        if n < len(symbols) - 1:
            gap = _uniform(rng, GAP_JITTER) if jit else GAP_MS  # not the tones' gap ranges: a pause between words
            parts.append(np.zeros(int(gap / 1000 * sr)))
            t += len(parts[-1])
    parts.append(np.zeros(lead))
    out = np.concatenate(parts)
    if spans is not None:
        spans.extend(active)
    return (effects(out, active, sr, rng, v) if jit else out).astype(np.float32)

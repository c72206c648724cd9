"""Keyed carrier (`--domain carrier`): each symbol is one character sent by binary FSK on one
carrier, as a modem or a radio teletype link sends it (issue #34).

The code is the one a standard modem tool reads: asynchronous serial ASCII 8-N-1 (a space start bit,
the character's 8 bits least significant first, a mark stop bit) at BAUD bits/s, mark MARK Hz and
space SPACE Hz, phase-continuous; Debian's `minimodem --rx 50 -M 1200 -S 2200` prints our renders
as text and our ear (scoring/carrier_ear.py) reads minimodem's own transmissions. A symbol (one
character, as every codebook's) is sent as itself, so a codebook for this domain must be ASCII.
The carrier idles on mark: a LEAD of mark before the first character (a receiver's carrier detect),
IDLE_BITS of mark after each character, a TRAIL after the last; SILENCE before and after.
Inputs vary as a real link does (with a variation): the transmitter's clock (CLOCK_JITTER of the
baud rate), extra idle time between characters (up to MAX_EXTRA_IDLE bits), the carrier's frequency
offset (the variation's freq_offset), each character's level (amp_jitter_db); then the room, noise,
hum, DC and gain of variation.effects, the SNR measured against the carrier's power.
"""

from __future__ import annotations

import numpy as np

from ..errors import JerichoError
from .codebook import Codebook
from .variation import NO_JITTER, effects

BAUD = 50.0          # bits/s: a bit lasts 20 ms, two of the model's 10 ms frames
MARK = 1200.0        # Hz, binary 1 and the idle carrier (Bell 202's mark)
SPACE = 2200.0       # Hz, binary 0 (Bell 202's space)
DATA_BITS = 8
LEAD = 0.1           # s of mark before the first character
TRAIL = 0.05         # s of mark after the last stop bit
SILENCE = 0.05       # s of silence around the carrier
IDLE_BITS = 2        # mark bits after each stop bit (the canonical gap between characters)
MAX_EXTRA_IDLE = 3.0  # bits: the most extra idle time a varied render adds after a character
CLOCK_JITTER = 0.01  # relative: the transmitter's baud rate, uniform +- per utterance


def codes(cb: Codebook) -> dict[str, int]:
    """Symbol -> the byte that sends it; the renderer's and the ear's one table."""
    for s in cb.alphabet:
        if not 0 < ord(s) < 128:
            raise JerichoError(f"the carrier domain sends symbols as ASCII characters; {s!r} is not one",
                               cb.source)
    return {s: ord(s) for s in cb.alphabet}


def frame_bits(code: int) -> list[int]:
    """One 8-N-1 character: start (0), 8 data bits LSB first, stop (1)."""
    return [0] + [(code >> i) & 1 for i in range(DATA_BITS)] + [1]


def render_carrier(symbols, cb: Codebook, rng: np.random.Generator | None = None, variation=None, *,
                   spans: list | None = None) -> np.ndarray:
    """Render `symbols` as a float32 FSK signal at cb.sample_rate (`spans`: as render.render_tone's,
    each symbol's character from its start bit to its stop bit)."""
    sr, table = cb.sample_rate, codes(cb)
    jit = variation is not None and rng is not None
    v = variation or NO_JITTER
    bit_s = 1.0 / (BAUD * (1 + rng.uniform(-CLOCK_JITTER, CLOCK_JITTER))) if jit else 1.0 / BAUD
    shift = 1 + (rng.uniform(-v.freq_offset, v.freq_offset) if jit and v.freq_offset else 0.0)
    # (seconds, bit, amplitude) runs, carrier only: the silence is added around it
    runs = [(LEAD, 1, 1.0)]
    active, t = [], SILENCE + LEAD
    for s in symbols:
        amp = 10 ** (rng.uniform(-v.amp_jitter_db, v.amp_jitter_db) / 20) if jit else 1.0
        bits = frame_bits(table[s])
        runs += [(bit_s, b, amp) for b in bits]
        active.append((int(t * sr), int((t + len(bits) * bit_s) * sr)))
        idle = (IDLE_BITS + (rng.uniform(0, MAX_EXTRA_IDLE) if jit else 0.0)) * bit_s
        runs.append((idle, 1, amp))
        t += len(bits) * bit_s + idle
    runs[-1] = (runs[-1][0] + TRAIL, 1, runs[-1][2]) if symbols else (LEAD + TRAIL, 1, 1.0)
    # sample-exact boundaries from cumulative times, so the clock never drifts by rounding
    ends = np.round((SILENCE + np.cumsum([r[0] for r in runs])) * sr).astype(int)
    starts = np.concatenate([[int(round(SILENCE * sr))], ends[:-1]])
    freq = np.zeros(ends[-1])
    amp = np.zeros(ends[-1])
    for (_, b, a), i, j in zip(runs, starts, ends):
        freq[i:j] = (MARK if b else SPACE) * shift
        amp[i:j] = a
    phase = 2 * np.pi * np.cumsum(freq) / sr  # phase-continuous FSK
    y = np.concatenate([cb.amplitude * amp * np.sin(phase), np.zeros(int(round(SILENCE * sr)))])
    ramp = int(0.005 * sr)  # the carrier keys on and off over 5 ms, not with a click
    i0, i1 = starts[0], ends[-1]
    y[i0:i0 + ramp] *= np.linspace(0, 1, ramp)
    y[i1 - ramp:i1] *= np.linspace(1, 0, ramp)
    if spans is not None:
        spans.extend(active)
    return (effects(y, [(i0, i1)], sr, rng, v) if jit else y).astype(np.float32)

"""The scorer must be right: clean audio of every task/split, noisy jittered audio, foreign files."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from jericho_cli.config import DATA, defaults
from jericho_cli.data import pools

DATA_DEFAULTS = defaults(DATA)
from jericho_cli.data.codebook import Codebook
from jericho_cli.data.render import Variation, render
from jericho_cli.scoring.ear import Scorer

CB = Codebook.load()
SC = Scorer(CB)
CFG = DATA_DEFAULTS
ALL = [(t, s) for t, ss in pools.TASK_SPLITS.items() for s in ss]


@pytest.mark.parametrize("task,split", ALL)
def test_round_trip_clean_every_task_and_split(task, split):
    for i in range(25):
        ex = pools.draw(task, split, i, 3, CFG)
        rng = np.random.default_rng(i)
        assert SC.transcribe(render(ex.input, CB, rng=rng, variation=Variation())) == ex.input
        assert SC.transcribe(render(ex.target, CB)) == ex.target


def test_noisy_jittered_inputs_at_10db_snr_over_1000_utterances():
    n = ok = 0
    for task, split in ALL:
        for i in range(1000 // len(ALL) + 1):
            ex = pools.draw(task, split, i, 11, CFG)
            rng = np.random.default_rng([5, i])
            y = render(ex.input, CB, rng=rng, variation=Variation(snr_db=10.0))
            ok += SC.transcribe(y) == ex.input
            n += 1
    assert n >= 1000
    assert ok / n >= 0.999, f"{n - ok} of {n} wrong"


def test_reverberant_inputs():
    ok = 0
    for i in range(50):
        ex = pools.draw("mirror", "test_iid", i, 2, CFG)
        y = render(ex.input, CB, rng=np.random.default_rng(i), variation=Variation(reverb_rt60=0.15))
        ok += SC.transcribe(y) == ex.input
    assert ok >= 49


def test_silence_and_noise_only_give_no_symbols():
    assert SC.transcribe(np.zeros(16000, np.float32)) == []
    assert SC.transcribe(0.01 * np.random.default_rng(0).standard_normal(16000).astype(np.float32)) == []


def _numpy_tone_file(path, freqs, sr=16000, dur=0.12, gap=0.08):
    """Written by scipy/numpy as 32-bit float, no ramps, sharp edges: not our renderer."""
    t = np.arange(int(dur * sr)) / sr
    parts = []
    for f in freqs:
        parts += [0.3 * np.sin(2 * np.pi * f * t), np.zeros(int(gap * sr))]
    sf.write(path, np.concatenate(parts).astype(np.float32), sr, subtype="FLOAT")


def test_decodes_tones_made_by_another_writer(tmp_path):
    syms = list("HELLO%()V")
    syms = [s for s in syms if s in CB.symbols]
    _numpy_tone_file(tmp_path / "x.wav", [CB.symbols[s][0] for s in syms])
    y, sr = sf.read(tmp_path / "x.wav", dtype="float32")
    assert SC.transcribe(y) == syms


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed (make test installs it)")
def test_decodes_a_sox_made_file(tmp_path, cli):
    syms = ["C", "A", "J", "7", "%", "3"]
    parts = []
    for k, s in enumerate(syms):
        p = tmp_path / f"p{k}.wav"
        subprocess.run(["sox", "-n", "-r", "16000", "-b", "16", str(p), "synth", "0.1",
                        "sine", str(CB.symbols[s][0]), "pad", "0", "0.05"], check=True)
        parts.append(str(p))
    folder = tmp_path / "made_elsewhere"
    folder.mkdir()
    subprocess.run(["sox", *parts, str(folder / "seq.wav")], check=True)
    res = cli("score", "--wav-dir", folder, "--out", "-", "--quiet")
    assert res.exit_code == 0, res.output
    assert '"symbols": ["C", "A", "J", "7", "%", "3"]' in res.stdout


def test_dtmf_style_codebook_with_two_tones_per_symbol():
    cb = Codebook.from_dict({"symbols": {
        "1": {"freqs": [697, 1209]}, "2": {"freqs": [697, 1336]}, "4": {"freqs": [770, 1209]},
        "5": {"freqs": [770, 1336]}}})
    seq = list("1245521")
    y = render(seq, cb, rng=np.random.default_rng(0), variation=Variation(freq_jitter=0.005))
    assert Scorer(cb).transcribe(y) == seq

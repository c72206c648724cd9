"""Wav files: reading with every check the file contract asks for, atomic writing, folders of wavs."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from ..errors import JerichoError
from .files import atomic_path, write_failed

AUDIO_SUFFIXES = (".wav", ".flac")


def write_wav_atomic(path: str | os.PathLike, audio: np.ndarray, sample_rate: int,
                     subtype: str = "PCM_16") -> None:
    audio = np.asarray(audio, dtype=np.float32)
    if subtype.startswith("PCM"):
        audio = np.clip(audio, -1.0, 32767 / 32768)
    with atomic_path(path, suffix=".wav") as tmp:
        try:
            sf.write(str(tmp), audio, sample_rate, subtype=subtype, format="WAV")
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise write_failed(exc, path) from None


def _undecodable(exc: Exception, where: str) -> JerichoError:
    """soundfile raises several types for broken files: one message for all of them."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return JerichoError(f"cannot decode audio ({msg})", where)


MIN_RESAMPLE_RATE = 1000  # below this no audio we score exists; upsampling 1 Hz to 16 kHz would need GBs


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Header facts of an audio file, or a one-line JerichoError (missing, undecodable, truncated)."""
    where = str(path)
    if not os.path.exists(path):
        raise JerichoError("file not found", where)
    if os.path.isdir(path):
        raise JerichoError("is a folder, expected an audio file", where)
    if not os.path.isfile(path):  # a FIFO would block the read forever
        raise JerichoError("not a regular file (a FIFO, device or socket), expected an audio file", where)
    try:
        info = sf.info(str(path))
    except Exception as exc:
        raise _undecodable(exc, where) from None
    # libsndfile reads what is there but notes a header that promises more: a truncated file
    m = re.search(r"data\s*:\s*(\d+) \(should be (\d+)\)", info.extra_info)
    if m and int(m.group(2)) < int(m.group(1)):
        raise JerichoError(f"truncated file (header says {m.group(1)} bytes of audio, file holds {m.group(2)})",
                           where)
    if info.frames == 0:
        raise JerichoError("empty audio (0 samples)", where)
    return info


def read_wav(path: str | os.PathLike, sample_rate: int, *, resample: bool = False, mix: bool = False) -> np.ndarray:
    """Read a mono float32 waveform at `sample_rate`, or raise a one-line JerichoError.

    Other rates need `resample=True`; several channels need `mix=True` (mean of channels).
    """
    where = str(path)
    info = audio_info(path)
    if info.samplerate != sample_rate and resample and info.samplerate < MIN_RESAMPLE_RATE:
        raise JerichoError(f"sample rate {info.samplerate} Hz: too low to resample to {sample_rate} Hz "
                           f"(at least {MIN_RESAMPLE_RATE} Hz)", where)
    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise _undecodable(exc, where) from None
    if audio.shape[0] == 0:
        raise JerichoError("empty audio (0 samples)", where)
    if audio.shape[1] > 1:
        if not mix:
            raise JerichoError(f"{audio.shape[1]} channels, expected mono (use --mix to average)", where)
        audio = audio.mean(axis=1, keepdims=True)
    audio = audio[:, 0]
    if not np.all(np.isfinite(audio)):
        raise JerichoError("audio contains NaN or infinite samples", where)
    if sr != sample_rate:
        if not resample:
            raise JerichoError(f"sample rate {sr} Hz, expected {sample_rate} Hz (use --resample)", where)
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(sr), int(sample_rate))
        audio = resample_poly(audio, sample_rate // g, sr // g).astype(np.float32)
    return audio


def iter_wavs(folder: str | os.PathLike) -> Iterator[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise JerichoError("not a folder" if folder.exists() else "folder not found", str(folder))
    yield from sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
                      and not p.name.startswith("."))

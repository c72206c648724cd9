"""File contracts: atomic writes, wav reading with checks, JSON Lines manifests."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import soundfile as sf

from .errors import JerichoError


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temp path beside `path`; rename it onto `path` only if the block succeeds.

    A killed or failing writer never leaves a half-written file under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    """Key order is kept as built (breakdowns are already in numeric order)."""
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def write_wav_atomic(path: str | os.PathLike, audio: np.ndarray, sample_rate: int,
                     subtype: str = "PCM_16") -> None:
    audio = np.asarray(audio, dtype=np.float32)
    if subtype.startswith("PCM"):
        audio = np.clip(audio, -1.0, 32767 / 32768)
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), audio, sample_rate, subtype=subtype, format="WAV")


def read_wav(path: str | os.PathLike, sample_rate: int, *, resample: bool = False,
             mix: bool = False) -> np.ndarray:
    """Read a mono float32 waveform at `sample_rate`, or raise a one-line JerichoError.

    Other rates need `resample=True`; several channels need `mix=True` (mean of channels).
    """
    where = str(path)
    if not os.path.exists(path):
        raise JerichoError("file not found", where)
    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for broken files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise JerichoError(f"cannot decode audio ({msg})", where) from None
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


def read_yaml(path: str | os.PathLike, what: str = "file") -> dict:
    """A YAML mapping from a file, or a one-line JerichoError."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise JerichoError(f"{what} not found", str(p))
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise JerichoError(f"bad YAML ({str(exc).splitlines()[0]})", str(p)) from None
    if not isinstance(raw, dict):
        raise JerichoError("expected a YAML mapping", str(p))
    return raw


# ----------------------------------------------------------------------------------- manifests

def read_manifest(path: str | os.PathLike, required: Iterable[str] = ("id", "audio")) -> list[dict]:
    """Read a JSON Lines manifest ('-' = stdin). Audio paths are resolved against its folder.

    Each returned record keeps the original fields plus `_base` (the folder paths are relative to)
    and `_line` (1-based line number, for error messages).
    """
    required = tuple(required)
    if str(path) == "-":
        name, base, lines = "<stdin>", Path.cwd(), sys.stdin.read().splitlines()
    else:
        p = Path(path)
        if p.is_dir():
            p = p / "manifest.jsonl"
        if not p.exists():
            raise JerichoError("manifest not found", str(p))
        name, base = str(p), p.parent
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise JerichoError("not a UTF-8 text file", name) from None
    records, seen = [], set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JerichoError(f"bad JSON ({exc.msg} at column {exc.colno})", f"{name}:{lineno}") from None
        if not isinstance(rec, dict):
            raise JerichoError("a manifest line must be a JSON object", f"{name}:{lineno}")
        missing = [f for f in required if f not in rec]
        if missing:
            raise JerichoError(f"missing field {', '.join(repr(m) for m in missing)}", f"{name}:{lineno}")
        if "id" in rec:
            if rec["id"] in seen:
                raise JerichoError(f"duplicate id {rec['id']!r}", f"{name}:{lineno}")
            seen.add(rec["id"])
        rec["_base"] = str(base)
        rec["_line"] = f"{name}:{lineno}"
        records.append(rec)
    if not records:
        raise JerichoError("empty manifest (no utterances)", name)
    return records


def resolve(rec: dict, field: str = "audio") -> Path:
    """Absolute path of a manifest record's audio field."""
    p = Path(rec[field])
    return p if p.is_absolute() else Path(rec.get("_base", ".")) / p


def clean(rec: dict) -> dict:
    """A record without the reader's private keys, ready to write."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def dumps_records(records: Iterable[dict]) -> str:
    return "".join(json.dumps(clean(r), sort_keys=False, ensure_ascii=False) + "\n" for r in records)


def write_manifest(path: str | os.PathLike, records: Iterable[dict]) -> None:
    """Write a manifest atomically ('-' = stdout)."""
    text = dumps_records(records)
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text_atomic(path, text)


def iter_wavs(folder: str | os.PathLike) -> Iterator[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise JerichoError("not a folder", str(folder))
    yield from sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".wav", ".flac"))

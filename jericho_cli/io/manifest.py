"""Manifests: JSON Lines, one utterance per line, paths relative to the manifest's folder."""

from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Iterable

from ..errors import JerichoError
from .files import NotJSON, loads_strict, to_json, write_text_atomic

# the type every core field must have (file contract: ../shared/DESIGN.md section 2)
FIELD_TYPES = {"id": str, "task": str, "split": str, "audio": str, "target_audio": str, "input_audio": str,
               "input": list, "target": list, "aux_symbols": list, "meta": dict}
SYMBOL_FIELDS = ("input", "target", "aux_symbols")


def _check_record(rec: dict, where: str) -> None:
    for f, kind in FIELD_TYPES.items():
        if f in rec and not isinstance(rec[f], kind):
            raise JerichoError(f"field {f!r} must be a {'JSON ' + kind.__name__ if kind is not str else 'string'}, "
                               f"got {type(rec[f]).__name__}", where)
    for f in SYMBOL_FIELDS:
        if f in rec and not all(isinstance(s, str) and len(s) == 1 for s in rec[f]):
            raise JerichoError(f"field {f!r} must be a list of one-character symbols", where)
    for f in ("id", "audio", "target_audio"):
        if f in rec and (not rec[f] or "\x00" in rec[f]):
            raise JerichoError(f"field {f!r} is empty or not a valid name", where)


def read_manifest(path: str | os.PathLike, required: Iterable[str] = ("id", "audio"),
                  allow_empty: bool = False) -> list[dict]:
    """Read a JSON Lines manifest ('-' = stdin). Audio paths are resolved against its folder.

    Each returned record keeps the original fields plus `_base` (the folder paths are relative to)
    and `_line` (1-based line number, for error messages). An empty manifest is refused unless
    `allow_empty` (a shard of a synth with more shards than utterances).
    """
    required = tuple(required)
    if str(path) == "-":
        name, base, lines = "<stdin>", Path.cwd(), sys.stdin.read().splitlines()
    else:
        p = Path(path)
        if p.is_dir():
            p = p / "manifest.jsonl"
        if not p.is_file():
            raise JerichoError("manifest not found" if not p.exists() else "manifest is not a file", str(p))
        name, base = str(p), p.parent
        try:
            # kept per-utterance scores are gzipped (outputs/); any JSON Lines reader takes both
            raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            lines = raw.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise JerichoError("not a UTF-8 text file", name) from None
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise JerichoError(f"not a gzip file ({exc})", name) from None
    records, seen = [], set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            rec = loads_strict(line)
        except NotJSON as exc:
            raise JerichoError(f"bad JSON ({exc})", where) from None
        except json.JSONDecodeError as exc:
            raise JerichoError(f"bad JSON ({exc.msg} at column {exc.colno})", where) from None
        if not isinstance(rec, dict):
            raise JerichoError("a manifest line must be a JSON object", where)
        missing = [f for f in required if f not in rec]
        if missing:
            raise JerichoError(f"missing field {', '.join(repr(m) for m in missing)}", where)
        _check_record(rec, where)
        if "id" in rec:
            if rec["id"] in seen:
                raise JerichoError(f"duplicate id {rec['id']!r}", where)
            seen.add(rec["id"])
        rec["_base"] = str(base)
        rec["_line"] = where
        records.append(rec)
    if not records and not allow_empty:
        raise JerichoError("empty manifest (no utterances)", name)
    return records


def resolve(rec: dict, field: str = "audio") -> Path:
    """Absolute path of a manifest record's audio field."""
    p = Path(rec[field])
    return p if p.is_absolute() else Path(rec.get("_base", ".")) / p


def clean(rec: dict) -> dict:
    """A record without the reader's private keys, ready to write."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def dumps_records(records: Iterable[dict], what: str = "") -> str:
    return "".join(to_json(clean(r), what, ensure_ascii=False) + "\n" for r in records)


def write_manifest(path: str | os.PathLike, records: Iterable[dict]) -> None:
    """Write a manifest atomically ('-' = stdout)."""
    text = dumps_records(records, str(path))
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text_atomic(path, text)

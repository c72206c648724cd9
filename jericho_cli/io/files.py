"""Files every step writes: atomic writes, YAML/JSON readers with one-line errors, and output
folders stamped with the parameters that made them (so a rerun resumes or refuses, never mixes)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import JerichoError

TMP_SUFFIX = ".tmp"


def _default_mode() -> int:
    """0666 minus the umask: what open() would give (mkstemp alone gives 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temp path beside `path`; fsync and rename it onto `path` only if the block succeeds.

    A killed or failing writer never leaves a half-written file under the final name; a writer
    killed with SIGKILL leaves a `.<name>.*.tmp` file that `remove_stale_temps` clears.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


STALE_TEMP_S = 600  # a live writer's temp file is seconds old; one untouched this long was left by a kill


def remove_stale_temps(folder: str | os.PathLike, min_age_s: float = STALE_TEMP_S) -> int:
    """Delete temp files that killed writers left in `folder` (and its wav/ subfolder). Only old
    ones: the shards of a parallel `synth --shard i/N` (or a recipe started twice) write into one
    folder at once, and a newer temp may be another process's file being written."""
    n, now = 0, time.time()
    for sub in (Path(folder), Path(folder) / "wav"):
        if sub.is_dir():
            for p in sub.glob(f".*{TMP_SUFFIX}"):
                try:
                    if now - p.stat().st_mtime >= min_age_s:
                        p.unlink()
                        n += 1
                except FileNotFoundError:  # its writer renamed it meanwhile
                    pass
    return n


def write_failed(exc: Exception, path: str | os.PathLike) -> Exception:
    """What to raise when a library's writer fails (libsndfile and torch.save report a full disk as
    a generic error): OSError ENOSPC when the disk is (nearly) full, else a one-line JerichoError."""
    import errno

    try:
        full = shutil.disk_usage(Path(path).parent).free < 1 << 20
    except OSError:
        full = False
    if full:
        return OSError(errno.ENOSPC, "No space left on device", str(path))
    return JerichoError(f"cannot write ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})", str(path))


def note_written(path: str | os.PathLike) -> None:
    """Record a file the project wrote in $JERICHO_WRITTEN_LOG, when set (the test suite checks that
    every JSON file on that list parses with a strict reader)."""
    log_path = os.environ.get("JERICHO_WRITTEN_LOG")
    if log_path:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(f"{Path(path).resolve()}\n")


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    note_written(path)


def _finite(obj, where: list[str], at: str = ""):
    """obj with every NaN or infinite float replaced by None; where each one was, appended to `where`."""
    if isinstance(obj, float) and not math.isfinite(obj):
        where.append(at or "(the value)")
        return None
    if isinstance(obj, dict):
        return {k: _finite(v, where, f"{at}.{k}" if at else str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v, where, f"{at}[{i}]") for i, v in enumerate(obj)]
    return obj


def to_json(obj, what: str = "", **kw) -> str:
    """JSON text any strict reader accepts (RFC 8259 has no NaN or Infinity): a non-finite number
    is written as null, and a warning names the file (`what`) and the fields. Every JSON and JSON
    Lines file the project writes goes through here."""
    where: list[str] = []
    text = json.dumps(_finite(obj, where), allow_nan=False, **kw)
    if where:
        from ..logs import log

        more = f" and {len(where) - 3} more" if len(where) > 3 else ""
        log.warning(f"{what or 'JSON'}: not a finite number, written as null: {', '.join(where[:3])}{more}")
    return text


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    """Key order is kept as built (breakdowns are already in numeric order)."""
    write_text_atomic(path, to_json(obj, str(path), indent=2) + "\n")


class NotJSON(ValueError):
    """NaN or Infinity in a file: Python's json reads them, no strict reader does."""


def _no_constant(name: str):
    raise NotJSON(f"{name} is not a JSON value (a missing number is null)")


def loads_strict(text: str):
    """json.loads that refuses NaN and Infinity (NotJSON), as every other JSON reader does."""
    return json.loads(text, parse_constant=_no_constant)


def read_json(path: str | os.PathLike, what: str = "file") -> dict:
    p = Path(path)
    if not p.is_file():
        raise JerichoError(f"{what} not found", str(p))
    try:
        obj = loads_strict(p.read_text(encoding="utf-8"))
    except NotJSON as exc:
        raise JerichoError(f"bad JSON ({exc})", str(p)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JerichoError(f"bad JSON ({getattr(exc, 'msg', type(exc).__name__)})", str(p)) from None
    if not isinstance(obj, dict):
        raise JerichoError("expected a JSON object", str(p))
    return obj


def read_yaml(path: str | os.PathLike, what: str = "file") -> dict:
    """A YAML mapping from a file, or a one-line JerichoError."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise JerichoError(f"{what} not found" if not p.exists() else f"{what} is not a file", str(p))
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise JerichoError("not a UTF-8 text file", str(p)) from None
    except yaml.YAMLError as exc:
        raise JerichoError(f"bad YAML ({str(exc).splitlines()[0]})", str(p)) from None
    if not isinstance(raw, dict):
        raise JerichoError("expected a YAML mapping", str(p))
    return raw


def fingerprint(obj) -> str:
    """A short stable hash of a JSON-able object (sorted keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_digest(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def check_out_path(path: str | os.PathLike, option: str = "--out") -> Path:
    """An output folder path that is not an existing file."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise JerichoError(f"{option} is an existing file, expected a folder", str(p))
    return p

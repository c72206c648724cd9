"""Files every step writes: atomic writes, YAML/JSON readers with one-line errors, and output
folders stamped with the parameters that made them (so a rerun resumes or refuses, never mixes)."""

from __future__ import annotations

import hashlib
import json
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


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    """Key order is kept as built (breakdowns are already in numeric order)."""
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def read_json(path: str | os.PathLike, what: str = "file") -> dict:
    p = Path(path)
    if not p.is_file():
        raise JerichoError(f"{what} not found", str(p))
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
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


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k} {json.dumps(a, default=str)} -> {json.dumps(b, default=str)}")
    return out


@contextmanager
def stamped_folder(path: str | os.PathLike, stamp_name: str, params: dict, *, overwrite: bool,
                   owned: tuple[str, ...], command: str, read_old=None):
    """Claim an output folder for a run with `params`, recorded in `path/stamp_name`.

    - new or empty folder: stamped, and removed again if the block fails with a JerichoError;
    - same parameters: reused (the step resumes, skipping finished files);
    - other parameters, or step outputs (`owned`) without a stamp: refused, unless `overwrite`,
      which deletes the `owned` entries first. Nothing else in the folder is ever touched.
    `read_old` maps an older stamp to today's form (a stamp written by an earlier version that
    recorded more than shapes the output).
    """
    folder = check_out_path(path)
    stamp = folder / stamp_name
    params = json.loads(json.dumps(params, default=str))  # as it reads back from the stamp
    present = [n for n in owned if (folder / n).exists()]
    old = read_json(stamp, stamp_name) if present and stamp.exists() else None
    if old is not None and read_old is not None:
        old = read_old(old)
    conflict = None
    if present and old is None:
        conflict = f"holds {', '.join(present)} of unknown origin (no {stamp_name})"
    elif present and old != params:
        conflict = f"made by a different `jericho {command}` ({'; '.join(_differences(old, params)[:3])})"
    if conflict and not overwrite:
        raise JerichoError(f"{conflict}; use --overwrite or another folder", str(folder))
    if conflict:
        for n in present:
            p = folder / n
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    lock_name = f".{stamp_name}.lock"
    fresh = not folder.exists() or not any(p.name != lock_name for p in folder.iterdir())
    folder.mkdir(parents=True, exist_ok=True)
    lock = _writers_lock(folder / lock_name)
    write_json_atomic(stamp, params)
    try:
        yield folder
    except JerichoError:
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        lock.close()


def _writers_lock(path: Path):
    """A shared lock held by every process writing into the folder (the shards of `synth --shard i/N`
    write into one folder at once). A process that finds no other writer clears every temp file a
    killed one left; beside live writers it clears only old ones, never a file being written."""
    import fcntl

    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        remove_stale_temps(path.parent, min_age_s=0)
    except OSError:
        remove_stale_temps(path.parent)
    fcntl.flock(f, fcntl.LOCK_SH)
    return f

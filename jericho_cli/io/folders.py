"""Output folders: stamped with the parameters that made them (so a rerun resumes or refuses, never
mixes), and replaced, when asked, only once the new content is whole.

Replacing: a command that replaces earlier output (`--overwrite`, `report --html` over a page) writes
the new content into a staging folder inside the target (`FOLDER/.jericho-new`) and swaps it in only
when the command has finished: a failure before that (bad input found late, a refused config, a full
disk) leaves the folder exactly as it was. The swap moves the new files in, one rename each, and
removes the files of the entries the command owns (its outputs: named files, or folders only it
writes into) that the new run did not write. Nothing else is touched: a user's own file in the
folder survives every command.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from ..errors import JerichoError
from .files import TMP_SUFFIX, check_out_path, read_json, remove_stale_temps, write_json_atomic

STAGING = ".jericho-new"


def _files(root: Path) -> set[str]:
    """Relative paths of the regular files under root (lock and temp files excluded)."""
    out = set()
    for p in root.rglob("*"):
        if p.is_file() and not p.name.endswith((".lock", TMP_SUFFIX)) and STAGING not in p.relative_to(root).parts:
            out.add(p.relative_to(root).as_posix())
    return out


def _owned_files(folder: Path, owned: tuple[str, ...]) -> set[str]:
    """The files of the entries a command owns in folder (a file, or every file under a folder)."""
    out = set()
    for name in owned:
        p = folder / name
        if p.is_file():
            out.add(name)
        elif p.is_dir():
            out |= {f"{name}/{f}" for f in _files(p)}
    return out


def swap_in(folder: Path, staging: Path, owned: tuple[str, ...] = (), last: str | None = None) -> None:
    """Move staging's files into folder, remove the files of the `owned` entries the new run did not
    write, drop staging. `last` (a stamp) is removed first and moved in last, so a
    swap cut short leaves a folder that claims no parameters (a rerun then needs --overwrite)."""
    new = _files(staging)
    old = _owned_files(folder, owned)
    for rel in new:  # before anything moves: a path of ours blocked by something else is refused
        for p in [folder / rel, *(folder / rel).parents]:
            if p == folder:
                break
            if p.exists() and (p.is_dir() if p == folder / rel else not p.is_dir()):
                raise JerichoError(f"cannot write {rel} here: {p.relative_to(folder)} is in the way "
                                   f"(the new output stays in {STAGING})", str(folder))
    if last and (folder / last).exists():
        (folder / last).unlink()
    for rel in sorted(new, key=lambda r: r == last):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, folder / rel)
    for rel in old - new:
        p = folder / rel
        if p.is_file() or p.is_symlink():
            p.unlink()
        for parent in p.parents:  # the folders it leaves empty, up to (not including) folder
            if parent == folder or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()
    shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def staged(folder: str | os.PathLike, owned: tuple[str, ...] = (), last: str | None = None, *, reuse=None,
           complete=None):
    """Yield a staging folder for the new content of `folder`; swap it in when the block completes
    and `complete(staging)` (default: always) says the content is whole (the last shard of a sharded
    synth completes it; the others leave their part there). An existing staging folder is emptied
    first, unless `reuse(staging)` says it holds this same run's work (a resumed or sharded run).
    If the block fails with an error, a staging folder this process created is removed; the folder
    itself is untouched either way."""
    folder = Path(folder)
    staging, existed = folder / STAGING, folder.exists()
    if staging.exists() and not (reuse is not None and reuse(staging)):
        shutil.rmtree(staging)
    created = not staging.exists()
    staging.mkdir(parents=True, exist_ok=True)
    try:
        yield staging
    except Exception:  # an error: nothing of the new run is kept (Ctrl-C or a kill keeps it, to resume)
        if created:
            shutil.rmtree(staging if existed else folder, ignore_errors=True)
        raise
    if complete is None or complete(staging):
        swap_in(folder, staging, owned, last)


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
                   owned: tuple[str, ...], command: str, read_old=None, complete=None):
    """Claim an output folder for a run with `params`, recorded in `path/stamp_name`; yields the
    folder to write into.

    - new or empty folder: stamped, and removed again if the block fails with a JerichoError;
    - same parameters: reused (the step resumes, skipping finished files);
    - other parameters, or step outputs (`owned`) without a stamp: refused, unless `overwrite`.
      Then the new run writes beside the old output (`staged`: the yielded folder is
      `path/.jericho-new`) and replaces it only when the block completes and `complete(folder)`
      says the output is whole; a run that fails leaves the old output as it was. Files the
      command did not write are never touched.
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
    if not conflict:
        with _claimed(folder, stamp_name, params) as out:
            yield out
        return

    def same_run(staging: Path) -> bool:  # a killed or sharded overwrite of these parameters: resume it
        try:
            return json.loads((staging / stamp_name).read_text(encoding="utf-8")) == params
        except (OSError, ValueError):
            return False

    with staged(folder, owned + (stamp_name,), last=stamp_name, reuse=same_run, complete=complete) as staging:
        with _claimed(staging, stamp_name, params) as out:
            yield out


@contextmanager
def _claimed(folder: Path, stamp_name: str, params: dict):
    """Stamp `folder` and hold its writers' lock for the block; a folder that was empty before is
    removed again if the block fails with a JerichoError."""
    lock_name = f".{stamp_name}.lock"
    fresh = not folder.exists() or not any(p.name != lock_name for p in folder.iterdir())
    folder.mkdir(parents=True, exist_ok=True)
    lock = _writers_lock(folder / lock_name)
    write_json_atomic(folder / stamp_name, params)
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

"""Partitioning (`jericho split`): any manifest into parts, keeping equal inputs (or groups) on one side.

Part names become folder names under --out, so they must be plain names (letters, digits, `._-`,
not starting with a dot): a field value like `/etc` or a ratio name like `../x` is refused, never
followed. `split_report.json` records the parameters; a rerun with other parameters is refused
unless `overwrite`. The new parts are written beside the old and replace them only once all are
written (io.folders.staged): a failed split leaves the earlier one as it was."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import numpy as np

from ..errors import JerichoError
from ..io.files import check_out_path, read_json, write_json_atomic
from ..io.folders import staged
from ..io.manifest import clean, read_manifest, resolve, write_manifest
from ..logs import log

MODES = ("ratio", "length", "field", "symbols", "group")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")


def check_part_name(name: str, origin: str) -> str:
    if not SAFE_NAME.match(name):
        raise JerichoError(f"part name {name!r} (from {origin}) is not a plain folder name "
                           "(letters, digits, . _ -; not starting with a dot)")
    return name


def get_field(rec: dict, dotted: str):
    cur = rec
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise JerichoError(f"no field {dotted!r}", rec.get("_line"))
        cur = cur[part]
    return cur


def parse_named(spec: str, what: str) -> dict[str, str]:
    """'train=0.9,val=0.1' -> {'train': '0.9', 'val': '0.1'}."""
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise JerichoError(f"{what}: expected name=value, got {part!r}")
        k, v = part.split("=", 1)
        if k.strip() in out:
            raise JerichoError(f"{what}: {k.strip()!r} given twice")
        out[k.strip()] = v.strip()
    if not out:
        raise JerichoError(f"{what}: empty")
    return out


def _in_range(value: int, spec: str) -> bool:
    lo, _, hi = spec.partition("-")
    try:
        return int(lo) <= value <= int(hi or lo)
    except ValueError:
        raise JerichoError(f"--bins: {spec!r} is not a range lo-hi of integers") from None


def _ratio_assign(keys: list, ratios: dict[str, str], seed: int) -> dict:
    """Shuffle distinct keys deterministically and cut them by the ratios."""
    try:
        fr = {k: float(v) for k, v in ratios.items()}
    except ValueError:
        raise JerichoError(f"--ratios must be numbers, got {ratios}") from None
    total = sum(fr.values())
    if not all(np.isfinite(v) for v in fr.values()) or total <= 0 or any(v < 0 for v in fr.values()):
        raise JerichoError("--ratios must be non-negative with a positive sum")
    uniq = sorted(set(keys), key=lambda k: hashlib.sha1(repr(k).encode()).hexdigest())
    order = np.random.default_rng(seed).permutation(len(uniq))
    uniq = [uniq[i] for i in order]
    bounds = np.cumsum([v / total for v in fr.values()]) * len(uniq)
    assign, start = {}, 0
    for name, end in zip(fr, np.round(bounds).astype(int)):
        for k in uniq[start:end]:
            assign[k] = name
        start = end
    return assign


def input_key(rec: dict):
    return tuple(rec["input"]) if "input" in rec else rec["id"]


def partition(records: list[dict], by: str, *, ratios=None, field=None, bins=None, held_out=None,
              seed: int = 0) -> dict[str, list[dict]]:
    parts: dict[str, list[dict]] = defaultdict(list)
    if by == "ratio" or by == "group":
        key = input_key if by == "ratio" else (lambda r: repr(get_field(r, field)))
        if by == "group" and not field:
            raise JerichoError("--by group needs --field (e.g. meta.speaker)")
        assign = _ratio_assign([key(r) for r in records], parse_named(ratios or "", "--ratios"), seed)
        for r in records:
            parts[assign[key(r)]].append(r)
    elif by == "length" or by == "field":
        fld = field or ("meta.length" if by == "length" else None)
        if not fld:
            raise JerichoError("--by field needs --field (e.g. task)")
        named = parse_named(bins, "--bins") if bins else None
        for spec in (named or {}).values():  # a range written backwards would silently catch nothing
            lo, dash, hi = spec.partition("-")
            if dash and lo.strip().lstrip("-").isdigit() and hi.strip().isdigit() and int(lo) > int(hi):
                raise JerichoError(f"--bins: {spec!r} runs backwards (low > high)")
        for r in records:
            v = get_field(r, fld)
            if named is None:
                parts[check_part_name(str(v), f"field {fld} at {r['_line']}")].append(r)
                continue
            try:
                hits = [n for n, spec in named.items() if _in_range(int(v), spec)]
            except (TypeError, ValueError):
                hits = [n for n, spec in named.items() if str(v) in spec.split("|")]
            if hits:
                parts[hits[0]].append(r)
    elif by == "symbols":
        if not held_out:
            raise JerichoError("--by symbols needs --held-out SYMBOLS (e.g. KL)")
        for r in records:
            if "input" not in r:
                raise JerichoError("no field 'input'", r["_line"])
            parts["held_out" if set(r["input"]) & set(held_out) else "rest"].append(r)
    else:
        raise JerichoError(f"unknown --by {by!r} (one of {', '.join(MODES)})")
    for name in parts:
        check_part_name(name, "--ratios" if by in ("ratio", "group") else "--bins")
    return dict(parts)


def disjointness(parts: dict[str, list[dict]]) -> dict:
    """For every pair of parts: how many input sequences (and ids) they share."""
    keys = {n: {input_key(r) for r in rs} for n, rs in parts.items()}
    return {f"{a}|{b}": len(keys[a] & keys[b]) for a, b in combinations(sorted(parts), 2)}


def write_parts(parts: dict[str, list[dict]], out: str, write_to: str | Path | None = None) -> None:
    """Each part's manifest at OUT/<part>/manifest.jsonl, audio paths relative to that folder; written
    under `write_to` instead when given (a staging folder swapped into OUT afterwards)."""
    for name, recs in parts.items():
        d, written = Path(out) / name, Path(write_to or out) / name
        moved = []
        for r in recs:
            c = clean(r)
            for f in ("audio", "target_audio"):
                if f in r:
                    c[f] = os.path.relpath(resolve(r, f), d)
            moved.append(c)
        written.mkdir(parents=True, exist_ok=True)
        write_manifest(written / "manifest.jsonl", moved)


def split(manifest: str, by: str, out: str, *, seed: int = 0, strict: bool = False, overwrite: bool = False,
          **kw) -> dict:
    if seed < 0:
        raise JerichoError(f"--seed must be >= 0, got {seed}")
    out_dir = check_out_path(out)
    records = read_manifest(manifest, required=("id",))
    parts = partition(records, by, seed=seed, **kw)
    overlap = disjointness(parts)
    params = {"by": by, "seed": seed, "source": str(manifest), **{k: v for k, v in kw.items() if v is not None}}
    report = {"by": by, "counts": {n: len(r) for n, r in sorted(parts.items())}, "shared_inputs": overlap,
              "unassigned": len(records) - sum(len(r) for r in parts.values()), "params": params}
    if strict and any(overlap.values()):
        raise JerichoError(f"parts are not disjoint: {overlap}", str(manifest))
    stamp = out_dir / "split_report.json"
    earlier: tuple[str, ...] = ()
    if stamp.exists():  # parts of an earlier split live here: same parameters are rewritten, others refused
        old = read_json(stamp, "split_report.json")
        if old.get("params") != json.loads(json.dumps(params)) and not overwrite:
            raise JerichoError("holds a split made with other parameters; use --overwrite or another folder",
                               str(out_dir))
        earlier = tuple(n for n in old.get("counts", {}) if SAFE_NAME.match(n))  # its parts, all replaced
    for line in [f"{n}: {c} utterances" for n, c in report["counts"].items()] + \
                [f"shared input sequences {k.replace('|', ' & ')}: {v}" for k, v in overlap.items()]:
        log.info(line)
    with staged(out_dir, earlier + (stamp.name,), last=stamp.name) as staging:  # swapped in once whole
        write_parts(parts, out, write_to=staging)
        write_json_atomic(staging / stamp.name, report)
    return report

"""Synthesis (`jericho synth`): task examples -> input/answer wavs + manifest.jsonl, deterministic per seed.

The output folder is stamped (`synth.json`) with every parameter that shapes its bytes: a rerun with
the same parameters resumes (finished wavs are kept), one with other parameters is refused unless
`overwrite`. Wavs are written atomically, so a killed run leaves only whole files (and temp files
that the next run clears).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from ..config import load_data_config
from ..errors import JerichoError
from ..io.audio import audio_info, write_wav_atomic
from ..io.files import read_json, write_json_atomic, write_text_atomic
from ..io.folders import stamped_folder
from ..io.manifest import read_manifest, write_manifest
from ..logs import log
from ..runtime import check_jobs, die_with_parent
from . import pools
from .codebook import Codebook
from .controls import CONTROLS, apply_control
from .render import ANSWER_DOMAIN, RENDERERS, Variation, render

CHUNK = 64  # utterances per worker task


def parse_shard(shard: str | None) -> tuple[int, int]:
    """'i/N' (1-based, like Kaldi's JOB=1:N) -> (i, N)."""
    if not shard:
        return 1, 1
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise JerichoError(f"--shard must look like i/N, got {shard!r}") from None
    if not 1 <= i <= n:
        raise JerichoError(f"--shard {shard}: need 1 <= i <= N")
    return i, n


def check_variation(v: Variation) -> None:
    if v.snr_db is not None and not math.isfinite(v.snr_db):
        raise JerichoError(f"--snr-db must be a finite number of dB, got {v.snr_db}")
    if v.reverb_rt60 is not None and not (math.isfinite(v.reverb_rt60) and 0 < v.reverb_rt60 <= 10):
        raise JerichoError(f"--reverb must be an RT60 in (0, 10] seconds, got {v.reverb_rt60}")


def _complete(path: Path) -> bool:
    """A wav a previous run of the same parameters finished (atomic writes: whole or absent)."""
    if not path.exists():
        return False
    try:
        audio_info(path)
        return True
    except JerichoError:
        return False


def make_record(task: str, split: str, index: int, seed: int, cfg: dict, cb: Codebook,
                variation: Variation, domain: str, out: Path, control: str | None = None) -> dict:
    """Render one utterance (skipping wavs already finished: a rerun resumes) and describe it."""
    ex = pools.draw(task, split, index, seed, cfg)
    uid = f"{task}-{split}-{index:06d}"
    audio, answer = f"wav/{uid}.wav", f"wav/{uid}.ans.wav"
    if not _complete(out / audio):
        rng = pools.example_rng(seed, task, split + "/audio", index)
        y = render(ex.input, cb, domain, rng, variation)
        if control:  # negative control: same answer, altered input
            y = apply_control(control, y, rng)
        write_wav_atomic(out / audio, y, cb.sample_rate)
    if not _complete(out / answer):
        write_wav_atomic(out / answer, render(ex.target, cb, ANSWER_DOMAIN.get(domain, domain)), cb.sample_rate)
    meta = {"length": ex.meta.pop("length"), "difficulty": ex.meta.pop("difficulty"),
            "domain": domain, "seed": seed, "snr_db": variation.snr_db, **ex.meta}
    if control:
        meta["control"] = control
    return {"id": uid, "task": task, "split": split, "audio": audio, "target_audio": answer,
            "input": ex.input, "target": ex.target, "meta": meta}


def _work(args):
    task, split, seed, chunk, *common = args
    return [make_record(task, split, i, seed, *common) for i in chunk]


def synth(task: str, split: str, n: int, seed: int, out: str, *, data_config=None, codebook=None,
          domain: str = "tone", jobs: int = 1, shard: str | None = None, variation: Variation = Variation(),
          against: list[str] = (), control: str | None = None, overwrite: bool = False,
          quiet: bool = False) -> Path:
    # every check before the first file is written
    pools.check_task_split(task, split)
    if n <= 0:
        raise JerichoError(f"--n must be positive, got {n}")
    if seed < 0:
        raise JerichoError(f"--seed must be >= 0, got {seed}")
    check_jobs(jobs)
    if domain not in RENDERERS:
        raise JerichoError(f"unknown --domain {domain!r} (available: {', '.join(RENDERERS)})")
    if control and control not in CONTROLS:
        raise JerichoError(f"unknown --control {control!r} (one of {', '.join(CONTROLS)})")
    check_variation(variation)
    k, nshards = parse_shard(shard)
    cfg = load_data_config(data_config)
    cb = Codebook.load(codebook)
    cb.require(pools.task_symbols(task, cfg), f"task {task}")
    pools.split_levels(task, split, cfg)  # impossible level settings fail here
    theirs = [{tuple(r["input"]) for r in read_manifest(p, required=("id", "input"))} for p in against]

    params = {"command": "synth", "task": task, "split": split, "n": n, "seed": seed, "domain": domain,
              "control": control, "variation": variation.to_dict(), "data": pools.shaping_sections(cfg, [task]),
              "codebook": cb.to_dict()}
    indices = list(range(k - 1, n, nshards))
    chunks = [indices[j:j + CHUNK] for j in range(0, len(indices), CHUNK)]
    with stamped_folder(out, "synth.json", params, overwrite=overwrite, command="synth",
                        owned=("manifest.jsonl", "wav", "codebook.yaml"),
                        complete=lambda d: (d / "manifest.jsonl").exists(),  # the last shard completes it
                        read_old=lambda old: {**{k: v for k, v in old.items() if k != "inputs"},
                                              "data": pools.shaping_sections(old.get("data", {}), [task])}
                        ) as out_dir:
        (out_dir / "wav").mkdir(exist_ok=True)
        records = []
        bar = tqdm(total=len(indices), desc=f"synth {task}/{split}", unit="utt", disable=quiet)
        common = (cfg, cb, variation, domain, out_dir, control)
        work = [(task, split, seed, c, *common) for c in chunks]
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(work))), initializer=die_with_parent) as pool:
                for recs in pool.map(_work, work):
                    records += recs
                    bar.update(len(recs))
        else:
            for w in work:
                recs = _work(w)
                records += recs
                bar.update(len(recs))
        bar.close()
        check_disjoint(records, cfg, theirs, against)
        write_text_atomic(out_dir / "codebook.yaml", _codebook_yaml(cb))
        if nshards == 1:
            write_manifest(out_dir / "manifest.jsonl", records)
        else:
            write_manifest(out_dir / f"manifest.shard-{k}-of-{nshards}.jsonl", records)
            records = merge_shards(out_dir, nshards)
        if records is not None:  # the whole manifest is written: say how many inputs are distinct
            stamp = read_json(out_dir / "synth.json", "synth.json")
            write_json_atomic(out_dir / "synth.json", {**stamp, "inputs": distinct_inputs(records, task, split)})
    return Path(out)


def distinct_inputs(records: list[dict], task: str, split: str) -> dict:
    """Utterances vs distinct input sequences, and a warning when some inputs repeat (drawn at random
    from an input space that is small at the split's levels: e.g. 90 one-digit `a%b` for Mod)."""
    distinct = len({tuple(r["input"]) for r in records})
    if distinct < len(records):
        log.warning(f"{task}/{split}: {len(records)} utterances but only {distinct} distinct inputs "
                    f"({len(records) - distinct} repeats: inputs are drawn at random from this split's input "
                    f"space, small at its levels next to --n); synth.json records both counts")
    return {"utterances": len(records), "distinct": distinct}


def merge_shards(out_dir: Path, nshards: int) -> list[dict] | None:
    """When every shard's manifest exists, merge them (in id order) into manifest.jsonl and return
    its records; None while shards are missing."""
    parts = [out_dir / f"manifest.shard-{k}-of-{nshards}.jsonl" for k in range(1, nshards + 1)]
    if not all(p.exists() for p in parts):
        return None
    # a shard can be empty (more shards than utterances): a valid part with nothing in it
    records = sorted((r for p in parts for r in read_manifest(p, allow_empty=True)), key=lambda r: r["id"])
    write_manifest(out_dir / "manifest.jsonl", records)
    for p in parts:
        os.unlink(p)
    return records


def check_disjoint(records: list[dict], cfg: dict, theirs: list[set], names=()) -> None:
    """Fail if a held-out input lies in the train pool, or occurs in any `--against` manifest."""
    for r in records:
        if (r["split"] == "train") != pools.in_pool(r["input"], "train", cfg["pools"]):
            raise JerichoError(f"{r['id']}: input {''.join(r['input'])!r} is in the wrong pool")
    mine = {tuple(r["input"]) for r in records}
    for inputs, name in zip(theirs, names):
        both = mine & inputs
        if both:
            raise JerichoError(f"{len(both)} input sequences also occur there, "
                               f"e.g. {''.join(next(iter(both)))!r}", str(name))


def _codebook_yaml(cb: Codebook) -> str:
    import yaml

    return "# codebook used to synthesise this folder (jericho score picks it up)\n" + \
        yaml.safe_dump(cb.to_dict(), sort_keys=False, allow_unicode=True)

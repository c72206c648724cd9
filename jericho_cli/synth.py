"""`jericho synth`: task examples -> input/answer wavs + manifest.jsonl, deterministic per seed."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from . import splits
from .codebook import Codebook
from .controls import CONTROLS, apply_control
from .errors import JerichoError
from .fileio import read_manifest, write_manifest, write_text_atomic, write_wav_atomic
from .render import Variation, render


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


def make_record(task: str, split: str, index: int, seed: int, cfg: dict, cb: Codebook,
                variation: Variation, domain: str, out: Path, control: str | None = None) -> dict:
    """Render one utterance (skipping wavs already on disk: a rerun resumes) and describe it."""
    ex = splits.draw(task, split, index, seed, cfg)
    uid = f"{task}-{split}-{index:06d}"
    audio, answer = f"wav/{uid}.wav", f"wav/{uid}.ans.wav"
    if not (out / audio).exists():
        rng = splits.example_rng(seed, task, split + "/audio", index)
        y = render(ex.input, cb, domain, rng, variation)
        if control:  # negative control: same answer, altered input
            y = apply_control(control, y, rng)
        write_wav_atomic(out / audio, y, cb.sample_rate)
    if not (out / answer).exists():
        write_wav_atomic(out / answer, render(ex.target, cb, domain), cb.sample_rate)
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
          against: list[str] = (), control: str | None = None, quiet: bool = False) -> Path:
    splits.check_task_split(task, split)
    if n <= 0:
        raise JerichoError(f"--n must be positive, got {n}")
    cfg = splits.load_data_config(data_config)
    cb = Codebook.load(codebook)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "wav").mkdir(exist_ok=True)
    k, nshards = parse_shard(shard)
    indices = list(range(k - 1, n, nshards))
    chunks = [indices[j:j + 64] for j in range(0, len(indices), 64)]
    records = []
    bar = tqdm(total=len(indices), desc=f"synth {task}/{split}", unit="utt", disable=quiet)
    if control and control not in CONTROLS:
        raise JerichoError(f"unknown --control {control!r} (one of {', '.join(CONTROLS)})")
    common = (cfg, cb, variation, domain, out_dir, control)
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for recs in pool.map(_work, [(task, split, seed, c, *common) for c in chunks]):
                records += recs
                bar.update(len(recs))
    else:
        for c in chunks:
            recs = _work((task, split, seed, c, *common))
            records += recs
            bar.update(len(recs))
    bar.close()
    check_disjoint(records, cfg, against)
    write_text_atomic(out_dir / "codebook.yaml", _codebook_yaml(cb))
    if nshards == 1:
        write_manifest(out_dir / "manifest.jsonl", records)
    else:
        write_manifest(out_dir / f"manifest.shard-{k}-of-{nshards}.jsonl", records)
        merge_shards(out_dir, nshards)
    return out_dir


def merge_shards(out_dir: Path, nshards: int) -> bool:
    """When every shard's manifest exists, merge them (in id order) into manifest.jsonl."""
    parts = [out_dir / f"manifest.shard-{k}-of-{nshards}.jsonl" for k in range(1, nshards + 1)]
    if not all(p.exists() for p in parts):
        return False
    records = sorted((r for p in parts for r in read_manifest(p)), key=lambda r: r["id"])
    write_manifest(out_dir / "manifest.jsonl", records)
    for p in parts:
        os.unlink(p)
    return True


def check_disjoint(records: list[dict], cfg: dict, against=()) -> None:
    """Fail if a held-out input lies in the train pool, or occurs in any `against` manifest."""
    for r in records:
        if (r["split"] == "train") != splits.in_pool(r["input"], "train", cfg["pools"]):
            raise JerichoError(f"{r['id']}: input {''.join(r['input'])!r} is in the wrong pool")
    mine = {tuple(r["input"]) for r in records}
    for path in against:
        theirs = {tuple(r["input"]) for r in read_manifest(path, required=("id", "input"))}
        both = mine & theirs
        if both:
            raise JerichoError(f"{len(both)} input sequences also occur there, "
                               f"e.g. {''.join(next(iter(both)))!r}", str(path))


def _codebook_yaml(cb: Codebook) -> str:
    import yaml

    return "# codebook used to synthesise this folder (jericho score picks it up)\n" + \
        yaml.safe_dump(cb.to_dict(), sort_keys=False, allow_unicode=True)

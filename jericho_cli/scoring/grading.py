"""Grading (`jericho score`): hear answer audio, turn it into symbols with the ear, grade it against the references."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from ..data.codebook import Codebook
from ..errors import JerichoError
from ..io.audio import iter_wavs, read_wav
from ..io.files import check_out_path, write_json_atomic
from ..io.manifest import read_manifest, resolve, write_manifest
from ..logs import log
from ..runtime import check_jobs, die_with_parent
from .ears import ear_for
from .metrics import compare, summarize


def find_codebook(codebook: str | None, manifest: str | None) -> Codebook:
    """--codebook, else the codebook.yaml that synth wrote beside the manifest, else the default."""
    if codebook:
        return Codebook.load(codebook)
    if manifest and manifest != "-":
        p = Path(manifest)
        beside = (p if p.is_dir() else p.parent) / "codebook.yaml"
        if beside.exists():
            return Codebook.load(beside)
    return Codebook.load()


class _Transcriber:
    """Picklable worker: path -> (symbols, error message or None)."""

    def __init__(self, cb: Codebook, resample: bool, mix: bool, skip_bad: bool, domain: str = "tone"):
        self.cb, self.resample, self.mix, self.skip_bad, self.domain = cb, resample, mix, skip_bad, domain

    def __call__(self, path) -> tuple[list[str], str | None]:
        try:
            audio = read_wav(path, self.cb.sample_rate, resample=self.resample, mix=self.mix)
        except JerichoError as exc:
            if not self.skip_bad:
                raise
            return [], str(exc)
        return ear_for(self.domain, self.cb).transcribe(audio), None


def transcribe_all(paths: list[Path], cb: Codebook, *, resample=False, mix=False, skip_bad=False,
                   jobs: int = 1, quiet: bool = False, desc: str = "score",
                   domain: str = "tone") -> list[tuple[list[str], str | None]]:
    ear_for(domain, cb)  # an unknown domain fails here, before any work
    work = _Transcriber(cb, resample, mix, skip_bad, domain)
    bar = dict(total=len(paths), desc=desc, unit="wav", disable=quiet)
    if check_jobs(jobs) > 1:
        with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(paths))), initializer=die_with_parent) as pool:
            results = list(tqdm(pool.map(work, paths, chunksize=16), **bar))
    else:
        results = [work(p) for p in tqdm(paths, **bar)]
    for path, (_, err) in zip(paths, results):
        if err:
            log.warning(f"warning: skipped {err}")
    return results


def score_manifests(ref: str, hyp: str | None, out: str, *, codebook=None, resample=False, mix=False,
                    skip_bad=False, jobs=1, quiet=False, domain: str = "tone") -> dict:
    out_dir = check_out_path(out)
    refs = read_manifest(ref, required=("id", "task", "split", "target") + (() if hyp else ("target_audio",)))
    cb = find_codebook(codebook, ref)
    for r in refs:
        cb.check_symbols(r["target"], r["_line"], "target")
    if hyp is None:  # self-check: score the references' own canonical answers
        hyps = {r["id"]: {**r, "audio": r["target_audio"]} for r in refs}
    else:
        hyps = {h["id"]: h for h in read_manifest(hyp, required=("id", "audio"))}
        for h in hyps.values():  # averaged into the summary: a probability, or null
            conf = h.get("aux_confidence")
            if conf is not None and (isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0 <= conf <= 1):
                raise JerichoError(f"aux_confidence must be a number in [0, 1] or null, got {conf!r}", h["_line"])
        missing = [r["id"] for r in refs if r["id"] not in hyps]
        if missing and not skip_bad:
            raise JerichoError(f"{len(missing)} reference ids have no hypothesis, e.g. {missing[0]!r} "
                               "(use --skip-bad to score them as empty)", str(hyp))
        extra = set(hyps) - {r["id"] for r in refs}
        if extra:
            log.warning(f"warning: {len(extra)} hypothesis ids are not in the reference; ignored")
    todo = [r for r in refs if r["id"] in hyps]
    results = dict(zip((r["id"] for r in todo),
                       transcribe_all([resolve(hyps[r["id"]]) for r in todo], cb, resample=resample, mix=mix,
                                      skip_bad=skip_bad, jobs=jobs, quiet=quiet, domain=domain)))
    rows = []
    for r in refs:
        symbols, err = results.get(r["id"], ([], "no hypothesis"))
        row = {"id": r["id"], "task": r["task"], "split": r["split"], "ref": r["target"], "hyp": symbols,
               **compare(r["target"], symbols), "meta": r.get("meta", {})}
        if err:
            row.update(error_kind="unreadable", bad=err)
        aux = hyps.get(r["id"], {}).get("aux_symbols")
        if aux is not None:
            row["aux_symbols"] = aux
            row["aux_exact"] = aux == r["target"]
            conf = hyps[r["id"]].get("aux_confidence")
            if conf is not None:
                row["aux_confidence"] = conf
            if not row["exact"]:  # the model knew the answer but said it badly, or did not know it
                row["diagnosis"] = "rendering" if row["aux_exact"] else "reasoning"
        rows.append(row)
    summary = summarize(rows)
    summary["source"] = {"ref": str(ref), "hyp": str(hyp) if hyp else None, "codebook": cb.source}
    if any("aux_symbols" in r for r in rows):
        summary["overall"]["aux_exact_match"] = sum(r.get("aux_exact", False) for r in rows) / len(rows)
    conf = [r["aux_confidence"] for r in rows if "aux_confidence" in r]
    if conf:
        summary["overall"]["aux_confidence"] = sum(conf) / len(conf)
    write_manifest(out_dir / "scores.jsonl", rows)
    write_json_atomic(out_dir / "summary.json", summary)
    return summary


def score_wav_dir(wav_dir: str, out: str, *, codebook=None, resample=False, mix=False, skip_bad=False,
                  jobs=1, quiet=False, domain: str = "tone") -> list[dict]:
    """Transcribe a folder of wavs made anywhere: OUT/transcripts.jsonl (or stdout with --out -)."""
    if out != "-":
        check_out_path(out)
    cb = find_codebook(codebook, None)
    ear_for(domain, cb)
    paths = list(iter_wavs(wav_dir))
    if not paths:
        raise JerichoError("no .wav files found", wav_dir)
    results = transcribe_all(paths, cb, resample=resample, mix=mix, skip_bad=skip_bad, jobs=jobs, quiet=quiet,
                             domain=domain)
    rows = []
    for p, (symbols, err) in zip(paths, results):
        rel = str(p.relative_to(wav_dir))
        row = {"id": rel.rsplit(".", 1)[0], "audio": str(Path(wav_dir).resolve() / rel), "symbols": symbols}
        if err:
            row["bad"] = err
        rows.append(row)
    write_manifest("-" if out == "-" else Path(out) / "transcripts.jsonl", rows)
    return rows

"""Inference (`jericho decode`): a checkpoint hears input audio and answers with audio.

`answer` runs a model (`model.loading.load_model` reads its checkpoint once) on waveforms (also used
by training's validation); `decode` runs it over a manifest or a folder of wavs into OUT/wav + OUT/manifest.jsonl.
The output folder is stamped (`decode.json`: checkpoint and input digests, options); batches are
fixed by the input order, and finished batches are logged in `manifest.partial.jsonl`, so a killed
decode resumes with byte-identical results.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .data.codebook import Codebook
from .errors import JerichoError, UsageError
from .io.audio import audio_info, iter_wavs, read_wav, write_wav_atomic
from .io.files import file_digest, fingerprint, to_json
from .io.folders import stamped_folder
from .io.manifest import read_manifest, resolve, write_manifest
from .model.losses import greedy_ctc
from .model.loading import load_model, pad_batch
from .model.mini_jmamba import MiniJMamba

MAX_SECONDS = 120.0  # default limit per input file: the models are trained on seconds, not minutes
PARTIAL = "manifest.partial.jsonl"


@torch.no_grad()
def answer(model: MiniJMamba, waves: list[np.ndarray], alphabet: list[str], n_iter: int | None = None,
           stream: bool = False, window: int | None = None) -> tuple[list[np.ndarray], list[list[str]], list[float]]:
    """Run the model on input waveforms: answer waveforms, auxiliary CTC symbols, and the CTC head's
    confidence (its mean max class probability over the answer slot: the appendix's pruning measure)."""
    device = next(model.parameters()).device
    wave, n = pad_batch(waves, device)
    out = model(wave, n)
    audio = model.to_wave(out["log_mag"], n_iter).cpu().numpy()
    hop = model.cfg.hop * model.cfg.downsample
    aux = greedy_ctc(out["ctc"], out["ans_steps"])
    max_prob = torch.softmax(out["ctc"].float(), -1).amax(-1).cpu()
    results, confidence = [], []
    for i in range(len(waves)):
        steps = int(out["ans_steps"][i])
        results.append(audio[i, :steps * hop])
        confidence.append(round(float(max_prob[i, :steps].mean()), 6) if steps else 0.0)
    return results, [[alphabet[s] for s in seq if s < len(alphabet)] for seq in aux], confidence


def _inputs(manifest: str | None, wav_dir: str | None) -> list[tuple[str, Path, dict]]:
    if bool(manifest) == bool(wav_dir):
        raise JerichoError("give a manifest or --wav-dir (one of them)")
    if manifest:
        return [(r["id"], resolve(r), r) for r in read_manifest(manifest, required=("id", "audio"))]
    items = [(str(p.relative_to(wav_dir)).rsplit(".", 1)[0], p, {}) for p in iter_wavs(wav_dir)]
    if not items:
        raise JerichoError("no .wav files found", wav_dir)
    return items


def _finished(out_dir: Path) -> dict[str, dict]:
    """Records of a killed run whose wavs are whole (a torn last line is ignored)."""
    done = {}
    p = out_dir / PARTIAL
    if p.exists():
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and (out_dir / str(rec.get("audio", ""))).is_file():
                done[rec["id"]] = rec
    return done


def decode(ckpt: str, manifest: str | None, wav_dir: str | None, out: str, *, batch_size: int = 16,
           device: str = "cpu", resample: bool = False, mix: bool = False, max_seconds: float = MAX_SECONDS,
           overwrite: bool = False, quiet: bool = False, stream: bool = False, window: int | None = None) -> Path:
    if batch_size < 1:
        raise JerichoError(f"--batch-size must be >= 1, got {batch_size}")
    if not max_seconds > 0:
        raise JerichoError(f"--max-seconds must be positive, got {max_seconds}")
    items = _inputs(manifest, wav_dir)
    if window is not None and (not stream or window < 1):
        raise UsageError("--window needs --stream and a positive number of model steps")
    model, cb, _ = load_model(ckpt, device)
    if stream and (model.cfg.copy_head or "hyena" in model.cfg.layers):
        raise UsageError("this model cannot stream (its copy head or Hyena layers need the whole input)")
    # every input's header checked before anything is written: missing, broken, too long
    lengths = []
    for _, path, _ in items:
        info = audio_info(path)
        if info.frames > max_seconds * info.samplerate:
            raise JerichoError(f"{info.frames / info.samplerate:.1f} s long, above the decode limit of "
                               f"{max_seconds:g} s (--max-seconds)", str(path))
        lengths.append(info.frames)
    names = [f"wav/{uid.replace('/', '__')}.wav" for uid, _, _ in items]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise JerichoError(f"two ids would write the same answer file {dup} (ids differ only in / vs __)",
                           str(manifest or wav_dir))
    order = sorted(range(len(items)), key=lambda i: (-lengths[i], i))  # batch similar lengths
    params = {"command": "decode", "checkpoint": file_digest(ckpt), "batch_size": batch_size,
              "resample": resample, "mix": mix, "device": torch.device(device).type,
              "inputs": fingerprint([[uid, str(Path(p).resolve()), lengths[i]] for i, (uid, p, _) in enumerate(items)])}
    if stream:  # only then, so that decodes stamped before streaming existed still resume
        params.update(stream=True, window=window)
    with stamped_folder(out, "decode.json", params, overwrite=overwrite, command="decode",
                        owned=("manifest.jsonl", PARTIAL, "wav")) as out_dir:
        if (out_dir / "manifest.jsonl").exists():  # this very decode finished before
            return Path(out)
        done = _finished(out_dir)
        records = [done.get(uid) for uid, _, _ in items]
        bar = tqdm(total=len(items), initial=sum(r is not None for r in records), desc="decode", unit="utt",
                   disable=quiet)
        with open(out_dir / PARTIAL, "a", encoding="utf-8") as log:
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                if all(records[i] is not None for i in chunk):
                    continue
                waves = [read_wav(items[i][1], cb.sample_rate, resample=resample, mix=mix) for i in chunk]
                audio, aux, confidence = answer(model, waves, cb.alphabet, stream=stream, window=window)
                for i, y, a, c in zip(chunk, audio, aux, confidence):
                    uid, path, ref = items[i]
                    rel = names[i]
                    write_wav_atomic(out_dir / rel, y, cb.sample_rate)
                    rec = {"id": uid, "audio": rel, "aux_symbols": a, "aux_confidence": c,
                           "input_audio": os.path.relpath(Path(path).resolve(), Path(out).resolve()),
                           **{f: ref[f] for f in ("task", "split") if f in ref}}
                    if records[i] is None:
                        records[i] = rec
                        log.write(to_json(rec, str(out_dir / PARTIAL), ensure_ascii=False) + "\n")
                        bar.update(1)
                log.flush()
                os.fsync(log.fileno())
        bar.close()
        write_manifest(out_dir / "manifest.jsonl", records)
        (out_dir / PARTIAL).unlink()
    return Path(out)

"""`jericho decode`: checkpoint + input audio -> answer wavs + decode manifest (with aux_symbols)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .codebook import Codebook
from .errors import JerichoError
from .fileio import iter_wavs, read_manifest, read_wav, resolve, write_manifest, write_wav_atomic
from .model.losses import greedy_ctc
from .model.mini_jmamba import MiniJMamba, ModelConfig


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[MiniJMamba, Codebook, dict]:
    p = Path(path)
    if not p.exists():
        raise JerichoError("checkpoint not found", str(p))
    try:
        ck = torch.load(p, map_location=device, weights_only=False)
        model = MiniJMamba(ModelConfig.from_dict(ck["model_config"]))
        model.load_state_dict(ck["model"])
    except Exception as exc:  # unpickling errors, missing keys, shape mismatches
        raise JerichoError(f"not a usable jericho checkpoint ({str(exc).splitlines()[0][:120]})", str(p)) from None
    model.to(device).eval()
    return model, Codebook.from_dict(ck["codebook"], source=str(p)), ck


def pad_batch(waves: list[np.ndarray], device) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(w) for w in waves)
    batch = np.zeros((len(waves), n), np.float32)
    for i, w in enumerate(waves):
        batch[i, : len(w)] = w
    return torch.from_numpy(batch).to(device), torch.tensor([len(w) for w in waves], device=device)


@torch.no_grad()
def answer(model: MiniJMamba, waves: list[np.ndarray], alphabet: list[str], n_iter: int | None = None
           ) -> tuple[list[np.ndarray], list[list[str]]]:
    """Run the model on input waveforms: answer waveforms and auxiliary CTC symbols."""
    device = next(model.parameters()).device
    wave, n = pad_batch(waves, device)
    out = model(wave, n)
    audio = model.to_wave(out["log_mag"], n_iter).cpu().numpy()
    hop = model.cfg.hop * model.cfg.downsample
    aux = greedy_ctc(out["ctc"], out["ans_steps"])
    results = []
    for i in range(len(waves)):
        length = int(out["ans_steps"][i]) * hop
        results.append(audio[i, :length])
    return results, [[alphabet[s] for s in seq if s < len(alphabet)] for seq in aux]


def decode(ckpt: str, manifest: str | None, wav_dir: str | None, out: str, *, batch_size: int = 16,
           device: str = "cpu", resample: bool = False, mix: bool = False, quiet: bool = False) -> Path:
    if bool(manifest) == bool(wav_dir):
        raise JerichoError("give a manifest or --wav-dir (one of them)")
    model, cb, _ = load_checkpoint(ckpt, device)
    if manifest:
        refs = read_manifest(manifest, required=("id", "audio"))
        items = [(r["id"], resolve(r), r) for r in refs]
    else:
        items = [(str(p.relative_to(wav_dir)).rsplit(".", 1)[0], p, {}) for p in iter_wavs(wav_dir)]
        if not items:
            raise JerichoError("no .wav files found", wav_dir)
    out_dir = Path(out)
    order = sorted(range(len(items)), key=lambda i: -read_len(items[i][1]))  # batch similar lengths
    records = [None] * len(items)
    bar = tqdm(total=len(items), desc="decode", unit="utt", disable=quiet)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        waves = [read_wav(items[i][1], cb.sample_rate, resample=resample, mix=mix) for i in chunk]
        audio, aux = answer(model, waves, cb.alphabet)
        for i, y, a in zip(chunk, audio, aux):
            uid, _, ref = items[i]
            rel = f"wav/{uid.replace('/', '__')}.wav"
            write_wav_atomic(out_dir / rel, y, cb.sample_rate)
            rec = {"id": uid, "audio": rel, "aux_symbols": a,
                   "input_audio": os.path.relpath(Path(items[i][1]).resolve(), out_dir.resolve())}
            for f in ("task", "split"):
                if f in ref:
                    rec[f] = ref[f]
            records[i] = rec
        bar.update(len(chunk))
    bar.close()
    write_manifest(out_dir / "manifest.jsonl", records)
    return out_dir


def read_len(path) -> int:
    import soundfile as sf

    try:
        return sf.info(str(path)).frames
    except Exception:
        return 0  # read_wav reports the problem with the file's name

"""Matplotlib figures for `jericho report` (Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io.audio import read_wav  # noqa: E402
from ..io.files import atomic_path  # noqa: E402
from ..io.manifest import read_manifest, resolve  # noqa: E402
from .names import SEED  # noqa: E402


def plot_accuracy_vs_length(summaries: dict[str, dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, s in summaries.items():
        for key, g in s["groups"].items():
            by = g.get("by_length")
            if not by:
                continue
            xs = sorted(by, key=float)
            ax.plot([float(x) for x in xs], [100 * by[x]["exact_match"] for x in xs], marker="o",
                    label=f"{name} {key}")
    ax.set_xlabel("input length (symbols)")
    ax.set_ylabel("exact match (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7)
    _save(fig, path)


def plot_accuracy_vs_snr(summaries: dict[str, dict], path: Path) -> bool:
    """Exact match vs the SNR of the test audio (breakdown `by_snr_db`), one line per run and task:
    the mean over the run's training seeds (folders `<run>_seed<N>`) with ± sd bars; False (no
    file) when no summary holds noisy sets."""
    points: dict = {}  # (run, task) -> snr -> seed -> exact match (%)
    for name, s in summaries.items():
        folder = name.split("/")[0]
        m = SEED.match(folder)
        run, seed = (m["run"], int(m["seed"])) if m else (folder, None)
        for key, g in s["groups"].items():
            for snr, b in g.get("by_snr_db", {}).items():
                per_seed = points.setdefault((run, key.split("/")[0]), {}).setdefault(float(snr), {})
                per_seed[seed] = 100 * b["exact_match"]
    if not points:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for (run, task), by_snr in sorted(points.items()):
        xs = sorted(by_snr, reverse=True)
        vals = [list(by_snr[x].values()) for x in xs]
        n = max(len(v) for v in vals)
        sd = [float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for v in vals]
        ax.errorbar(xs, [float(np.mean(v)) for v in vals], yerr=sd, marker="o", capsize=3,
                    label=f"{run} {task}" + (f" ({n} seeds)" if n > 1 else ""))
    ax.set_xlabel("SNR of the input audio (dB)")
    ax.set_ylabel("exact match (%, mean ± sd over seeds)")
    ax.set_ylim(-2, 102)
    ax.invert_xaxis()
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    _save(fig, path)
    return True


def draw_spectrogram(ax, wav, sample_rate: int = 16000) -> None:
    """One wav's spectrogram on `ax` (the report's and the results page's look)."""
    y = read_wav(wav, sample_rate)
    y = y + 1e-6 * np.random.default_rng(0).standard_normal(len(y))  # digital silence -> dark, not blank
    ax.specgram(y, NFFT=512, Fs=sample_rate, noverlap=384, cmap="magma", vmin=-120)


def plot_spectrograms(manifest: str, path: Path, index: int = 0, sample_rate: int = 16000) -> None:
    """Spectrogram of one utterance: what was heard and the answer.

    A synth manifest gives input + canonical answer; a decode manifest gives the model's input and
    the model's own answer (with its auxiliary CTC symbols in the title).
    """
    rec = read_manifest(manifest)[index]
    if rec.get("input_audio"):  # decode manifest
        panels = [("model input", resolve(rec, "input_audio"), ""),
                  ("model answer", resolve(rec, "audio"), "aux CTC: " + " ".join(rec.get("aux_symbols", [])))]
    else:
        panels = [("input", resolve(rec, "audio"), " ".join(rec.get("input", [])))]
        if rec.get("target_audio"):
            panels.append(("answer", resolve(rec, "target_audio"), " ".join(rec.get("target", []))))
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.6 * len(panels)), squeeze=False)
    for ax, (label, wav, text) in zip(axes[:, 0], panels):
        draw_spectrogram(ax, wav, sample_rate)
        ax.set_ylabel("Hz")
        ax.set_title(f"{rec['id']} {label}: {text}", fontsize=9)
    axes[-1, 0].set_xlabel("seconds")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)

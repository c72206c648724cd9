"""`jericho synth`: a split of a task as input wavs, canonical answer wavs and manifest.jsonl."""

from typing import List, Optional

import typer

from ..config import DOMAINS
from ..data.pools import COMMON_SPLITS, TASK_SPLITS
from .base import example, step

# --help lists what the code accepts, from the same registries (no second list to drift)
TASKS_HELP = " | ".join(TASK_SPLITS)
_EXTRA: dict[tuple, list[str]] = {}
for _task, _splits in TASK_SPLITS.items():
    _EXTRA.setdefault(tuple(s for s in _splits if s not in COMMON_SPLITS), []).append(_task)
SPLITS_HELP = ", ".join(COMMON_SPLITS) + "; and " + "; ".join(
    f"{', '.join(extra)} ({', '.join(tasks)})" for extra, tasks in _EXTRA.items() if extra)


@step("synth", epilog=example(
    "  jericho synth --task mirror --split test_iid --n 500 --seed 7 --out data/mirror/test_iid\n"
    "  jericho synth --task mod --split train --n 20000 --jobs 8 --out data/mod/train\n"
    "  jericho synth --task bracket --split val --n 1000 --shard 2/4 --out data/bracket/val   # one of 4 jobs\n"
    "\b\nDisjointness: every input sequence is hashed (blake2b) into one of 100 buckets; buckets\n"
    "[0, pools.train) are the train pool. `train` (and on-the-fly training data) draws only from\n"
    "it, every other split only from the rest, so no test input can occur in train. Each run checks\n"
    "this; --against MANIFEST also checks for shared inputs with an existing manifest.\n"
    "\b\nOUT/synth.json records the parameters: a rerun with the same ones resumes (finished wavs\n"
    "are kept), one with other parameters is refused unless --overwrite."))
def synth(
    task: str = typer.Option(..., help=TASKS_HELP),
    split: str = typer.Option(..., help=SPLITS_HELP),
    n: int = typer.Option(..., help="number of utterances"),
    out: str = typer.Option(..., help="output folder: OUT/manifest.jsonl + OUT/wav/"),
    seed: int = typer.Option(0, help="every random choice flows from this (>= 0)"),
    config: List[str] = typer.Option([], help="data config YAML (levels, alphabets, pools; a train config's "
                                     "data: section works); repeat it to layer files, later ones override"),
    codebook: Optional[str] = typer.Option(None, help="codebook YAML (default: built-in tones)"),
    domain: str = typer.Option("tone", help=f"renderer: {' | '.join(DOMAINS)} (tone_independent: a second "
                               "synthesizer, never used in training; pulse: click trains whose spacing codes "
                               "each symbol; carrier: each symbol an ASCII character by FSK, as minimodem "
                               "sends it; speech: each symbol a word spoken by espeak-ng's training voices (speech_wide: 300 of them), "
                               "speech_heldout: by voices no training set hears; answers stay tones)"),
    jobs: int = typer.Option(1, help="parallel worker processes"),
    shard: Optional[str] = typer.Option(None, help="i/N: make only every N-th utterance starting at i "
                                        "(cluster jobs); the last shard to finish merges manifest.jsonl"),
    snr_db: Optional[float] = typer.Option(None, help="add white noise at this SNR (dB) to the inputs"),
    reverb: Optional[float] = typer.Option(None, help="add reverberation with this RT60 (s) to the inputs"),
    no_jitter: bool = typer.Option(False, help="render inputs without phase/frequency/duration jitter"),
    against: List[str] = typer.Option([], help="manifest(s) that must share no input sequence"),
    control: Optional[str] = typer.Option(None, help="negative control on the inputs: phase_scramble "
                                          "(magnitude kept), silence, noise"),
    overwrite: bool = typer.Option(False, help="replace what an earlier synth with other parameters left in OUT"),
    quiet: bool = typer.Option(False, help="no progress bar"),
):
    """Synthesize a split of a task: input wavs, canonical answer wavs, manifest.jsonl."""
    from ..data.render import NO_JITTER, Variation
    from ..data.synthesis import synth as run

    base = NO_JITTER if no_jitter else Variation()
    variation = Variation(**{**base.to_dict(), "snr_db": snr_db, "reverb_rt60": reverb})
    path = run(task, split, n, seed, out, data_config=config or None, codebook=codebook, domain=domain, jobs=jobs,
               shard=shard, variation=variation, against=against, control=control, overwrite=overwrite,
               quiet=quiet)
    typer.echo(str(path / "manifest.jsonl") if (path / "manifest.jsonl").exists() else str(path))

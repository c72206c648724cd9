"""`jericho probe`: what a model's recurrent state holds (state norms, linear probes, structure)."""

from typing import Optional

import typer

from ..config import PROBE_ANALYSES
from .base import example, step


# Bounds on every size option: each one sets an array dimension or a loop count, so a typo like
# --clusters 100000 or --lengths 200000 would allocate gigabytes before failing. Named in --help.
LIMIT = 1024  # steps, clusters, dimensions, utterances per length, batch
MAX_LENGTH = 512  # state-norms input length in symbols (~60 s of audio)


def _ints(text: str, option: str, most: int = LIMIT) -> list[int]:
    from ..errors import UsageError
    try:
        vals = [int(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise UsageError(f"{option} takes whole numbers, e.g. '4 8 16', got {text!r}") from None
    if not vals or min(vals) < 1:
        raise UsageError(f"{option} takes positive whole numbers, got {text!r}")
    if max(vals) > most:
        raise UsageError(f"{option}: {max(vals)} is beyond the limit of {most} (memory grows with it)")
    return vals


@step("probe", epilog=example(
    "  jericho probe state-norms --ckpt exp/mirror_cpu_seed0/best.pt --lengths '4 8 16 32 64 128' --out exp/probe_norms\n"
    "  jericho probe linear-probes --ckpt exp/bracket_cpu_seed0/best.pt data/bracket/test_iid/manifest.jsonl \\\n"
    "      --out exp/probe_bracket\n"
    "  jericho probe structure --ckpt best.pt data/mirror/test_iid/manifest.jsonl --reps 'input ssd1' --out exp/s\n"
    "  jericho probe predictability --ckpt best.pt data/mirror/test_iid/manifest.jsonl --out exp/p\n"
    "\b\nOUT/summary.json goes to `jericho report`; OUT/scores.jsonl holds the rows; OUT/<analysis>.png the plot."))
def probe(
    analysis: str = typer.Argument(..., help=" | ".join(PROBE_ANALYSES)),
    manifest: Optional[str] = typer.Argument(None, help="input manifest (audio + input symbols); "
                                             "state-norms renders its own inputs"),
    ckpt: str = typer.Option(..., help="checkpoint (.pt) written by jericho train or jericho prune"),
    out: str = typer.Option(..., help="folder for summary.json, scores.jsonl and a plot"),
    lengths: str = typer.Option("4 8 13 16 32 64 128", help="state-norms: input lengths in symbols"),
    n: int = typer.Option(8, min=2, max=LIMIT, help="state-norms: utterances per length"),
    reps: Optional[str] = typer.Option(None, help="representations: input, block<i>, ssd<j> (default all)"),
    limit: Optional[int] = typer.Option(None, min=4, help="use the manifest's first N utterances"),
    stride: int = typer.Option(2, min=1, max=LIMIT, help="linear-probes: every STRIDE-th step is a sample"),
    window: int = typer.Option(8, min=1, max=LIMIT, help="structure/predictability: context window W (steps)"),
    lag: int = typer.Option(1, min=1, max=LIMIT, help="structure: the context ends LAG steps before the target step"),
    clusters: int = typer.Option(32, min=2, max=LIMIT, help="structure: k-means clusters"),
    min_count: int = typer.Option(20, min=1, max=100 * LIMIT, help="structure: training members an effective cluster needs"),
    dims: int = typer.Option(16, min=1, max=LIMIT, help="structure/predictability: PCA dimensions of wide states"),
    horizons: str = typer.Option("1 2 4 8", help="predictability: context staleness k (steps)"),
    epochs: int = typer.Option(40, min=1, max=100 * LIMIT, help="predictability: MDN training epochs"),
    seed: int = typer.Option(0),
    batch_size: int = typer.Option(8, min=1, max=LIMIT),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    overwrite: bool = typer.Option(False, help="replace an earlier probe in OUT made with other options"),
    quiet: bool = typer.Option(False),
):
    """State analysis of a checkpoint: state norms vs length, linear probes, latent structure, predictability."""
    from ..analysis.probe import run
    from ..reporting.analysis import markdown
    from ..runtime import pick_device

    summary = run(analysis, ckpt, manifest, out, lengths=_ints(lengths, "--lengths", MAX_LENGTH), n=n,
                  reps=reps.replace(",", " ").split() if reps else None, limit=limit, stride=stride,
                  window=window, lag=lag, clusters=clusters, min_count=min_count, dims=dims,
                  horizons=_ints(horizons, "--horizons"), epochs=epochs, seed=seed, batch_size=batch_size,
                  device=str(pick_device(device)), overwrite=overwrite, quiet=quiet)
    typer.echo(markdown(summary, out), nl=False)

"""`jericho prune`: keep a fraction of each SSD layer's state channels; a checkpoint decode runs as is."""

from typing import Optional

import typer

from ..config import PRUNE_MODES
from .base import example, step


@step("prune", epilog=example(
    "  jericho prune --ckpt exp/mirror_cpu_seed0/best.pt --mode selective --keep 0.5 \\\n"
    "      --calib data/mirror/test_iid/manifest.jsonl --out exp/prune_sel50\n"
    "  jericho prune --ckpt best.pt --mode random --keep 0.5 --seed 3 --out exp/prune_rand50_s3\n"
    "  jericho prune --ckpt best.pt --mode learned --steps 300 --sparsity 0.05 --out exp/prune_learned\n"
    "  jericho decode --ckpt exp/prune_sel50/pruned.pt data/mirror/test_iid/manifest.jsonl --out exp/prune_sel50/decode"))
def prune(
    ckpt: str = typer.Option(..., help="checkpoint (.pt) written by jericho train"),
    mode: str = typer.Option(..., help=" | ".join(PRUNE_MODES)),
    out: str = typer.Option(..., help="folder for pruned.pt, summary.json (masks, energies) and a plot"),
    keep: float = typer.Option(1.0, help="selective/random: share of state channels kept per head"),
    calib: Optional[str] = typer.Option(None, help="selective: manifest whose audio measures channel energy"),
    limit: int = typer.Option(64, min=1, help="selective: calibration utterances used"),
    seed: int = typer.Option(0, help="random: mask draw; learned: training batches"),
    steps: int = typer.Option(200, min=1, help="learned: gate training steps"),
    sparsity: float = typer.Option(0.05, min=0.0, help="learned: weight of the mean gate in the loss"),
    init_keep: float = typer.Option(0.5, help="learned: initial gate value"),
    lr: float = typer.Option(0.05, min=0.0, help="learned: gate learning rate (Adam)"),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    overwrite: bool = typer.Option(False, help="replace an earlier prune in OUT made with other options"),
    quiet: bool = typer.Option(False),
):
    """SSD state-channel pruning of a checkpoint: writes OUT/pruned.pt with its masks."""
    from ..analysis.prune import run
    from ..runtime import pick_device

    run(ckpt, mode, keep, out, calib=calib, limit=limit, seed=seed, steps=steps, sparsity=sparsity,
        init_keep=init_keep, lr=lr, device=str(pick_device(device)), overwrite=overwrite, quiet=quiet)
    typer.echo(f"{out}/pruned.pt")

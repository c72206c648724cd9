"""`jericho train`: Mini-JMamba on on-the-fly data (with a curriculum) or a manifest."""

from typing import List, Optional

import typer

from ..io.files import to_json
from .base import example, step


@step("train", epilog=example(
    "  jericho train --config recipes/mirror/conf/train_cpu.yaml --out exp/mirror\n"
    "  jericho train --config conf/train.yaml --set train.lr=3e-4 --set model.name=plan --out exp/plan\n"
    "  jericho train --config conf/train.yaml --out exp/mirror --resume      # continue a killed run\n"
    "  jericho train --set model.name=appendix --dry-run                     # parameter counts only\n"
    "  jericho train --show-defaults                                         # every option, documented\n"
    "  torchrun --nproc-per-node 4 -m jericho_cli train --config ... --out ...   # several GPUs"))
def train(
    out: Optional[str] = typer.Option(None, help="run folder: best.pt, last.pt, config.yaml, run.json, log/"),
    config: List[str] = typer.Option([], help="YAML with data:, model:, train: sections (may `include:` a "
                                     "base file); repeat to layer several"),
    set_: List[str] = typer.Option([], "--set", help="override a config value: train.lr=3e-4"),
    resume: bool = typer.Option(False, help="continue from OUT/last.pt (same batches as an unbroken run)"),
    overwrite: bool = typer.Option(False, help="delete the run in OUT and start again"),
    dry_run: bool = typer.Option(False, help="print parameter counts per component and the config; no training"),
    show_defaults: bool = typer.Option(False, help="print every config key with its default and meaning"),
    codebook: Optional[str] = typer.Option(None, help="codebook YAML (stored in the checkpoint)"),
    quiet: bool = typer.Option(False),
):
    """Train Mini-JMamba on a task (on-the-fly data with a curriculum, or a manifest)."""
    from ..errors import JerichoError

    if show_defaults:
        from ..config import describe

        typer.echo(describe(), nl=False)
        return
    from ..training.loop import train as run

    if not dry_run and not out:
        raise JerichoError("--out is required (unless --dry-run)")
    if resume and overwrite:
        raise JerichoError("--resume and --overwrite contradict each other")
    result = run(config, out, set_, resume=resume, overwrite=overwrite, dry_run=dry_run, quiet=quiet,
                 codebook=codebook)
    from ..training.distributed import world

    if world()[1] != 0:  # under torchrun, one process prints the result
        return
    typer.echo(to_json(result if not dry_run else {"parameters": result["parameters"],
                                                       "model": result["config"]["model"]}, indent=1))

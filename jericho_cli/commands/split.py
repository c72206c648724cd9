"""`jericho split`: partition any manifest; equal inputs (or groups) always land in one part."""

from typing import Optional

import typer

from ..io.files import to_json
from .base import example, step


@step("split", epilog=example(
    "  jericho split data/all/manifest.jsonl --by ratio --ratios train=0.9,val=0.1 --seed 7 --out data/\n"
    "  jericho split data/all --by length --bins short=3-5,long=6-10 --out data/bylen\n"
    "  jericho split data/all --by field --field task --out data/bytask\n"
    "  jericho split data/all --by symbols --held-out KL --out data/bysym\n"
    "  jericho split data/all --by group --field meta.speaker --ratios train=0.8,test=0.2 --out data/spk\n"
    "  cat manifest.jsonl | jericho split - --by ratio --ratios a=1,b=1 --out parts/"))
def split(
    manifest: str = typer.Argument(..., help="manifest.jsonl, its folder, or - for stdin"),
    by: str = typer.Option("ratio", help="ratio | length | field | symbols | group"),
    out: str = typer.Option(..., help="folder: OUT/<part>/manifest.jsonl for each part"),
    ratios: Optional[str] = typer.Option(None, help="name=weight,... (ratio, group)"),
    field: Optional[str] = typer.Option(None, help="dotted field (field, group, length): task, meta.length"),
    bins: Optional[str] = typer.Option(None, help="name=lo-hi,... for numeric fields (length, field)"),
    held_out: Optional[str] = typer.Option(None, help="symbols whose presence sends an utterance to held_out"),
    seed: int = typer.Option(0),
    strict: bool = typer.Option(False, help="fail (exit 1) if two parts share an input sequence"),
    overwrite: bool = typer.Option(False, help="replace a split made in OUT with other parameters"),
):
    """Partition a manifest; equal inputs (or groups) always land in one part; reports overlaps."""
    from ..data.partition import split as run

    report = run(manifest, by, out, seed=seed, strict=strict, overwrite=overwrite, ratios=ratios, field=field,
                 bins=bins, held_out=held_out)
    typer.echo(to_json({k: v for k, v in report.items() if k != "params"}, sort_keys=True))

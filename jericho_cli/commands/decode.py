"""`jericho decode`: a trained model hears input audio and answers with audio."""

from typing import Optional

import typer

from .base import example, step


@step("decode", epilog=example(
    "  jericho decode --ckpt exp/mirror/best.pt data/test_iid/manifest.jsonl --out exp/mirror/decode_test_iid\n"
    "  jericho decode --ckpt exp/mirror/best.pt --wav-dir my_recordings --resample --out exp/mirror/decode_mine\n"
    "\b\nOUT/decode.json records checkpoint, inputs and options: a rerun resumes a killed decode with\n"
    "identical bytes; one with another checkpoint or inputs is refused unless --overwrite."))
def decode(
    manifest: Optional[str] = typer.Argument(None, help="input manifest (audio = what the model hears)"),
    ckpt: str = typer.Option(..., help="checkpoint (.pt) written by jericho train"),
    out: str = typer.Option(..., help="folder: OUT/wav/*.wav + OUT/manifest.jsonl (with aux_symbols)"),
    wav_dir: Optional[str] = typer.Option(None, help="decode every wav in this folder instead"),
    batch_size: int = typer.Option(16, min=1),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    resample: bool = typer.Option(False),
    mix: bool = typer.Option(False),
    max_seconds: float = typer.Option(120.0, help="refuse inputs longer than this (memory grows with length)"),
    overwrite: bool = typer.Option(False, help="replace an earlier decode in OUT made from other inputs"),
    stream: bool = typer.Option(False, help="one model step at a time (recurrent state, attention cache)"),
    window: Optional[int] = typer.Option(None, help="with --stream: attention keeps the last WINDOW steps"),
    quiet: bool = typer.Option(False),
):
    """Run a trained model: input audio -> answer audio (+ auxiliary CTC symbols)."""
    from ..inference import decode as run
    from ..runtime import pick_device

    path = run(ckpt, manifest, wav_dir, out, batch_size=batch_size, device=str(pick_device(device)),
               resample=resample, mix=mix, max_seconds=max_seconds, overwrite=overwrite, quiet=quiet, stream=stream,
               window=window)
    typer.echo(str(path / "manifest.jsonl"))

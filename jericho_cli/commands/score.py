"""`jericho score`: hear answer audio (no model), turn it into symbols, grade it."""

from typing import Optional

import typer

from ..config import DOMAINS
from .base import example, step


@step("score", epilog=example(
    "  jericho score --ref data/test_iid/manifest.jsonl --hyp exp/mirror/decode_test_iid/manifest.jsonl \\\n"
    "      --out exp/mirror/score_test_iid\n"
    "  jericho score --ref data/test_iid/manifest.jsonl --out exp/selfcheck   # score the reference answers\n"
    "  jericho score --wav-dir some/folder --out -                              # transcribe any wavs\n"
    "  jericho score --wav-dir data/mirror_pulse/test_iid/wav --domain pulse --out -  # click trains\n"
    "  jericho score --wav-dir modem_recordings --domain carrier --out -  # minimodem --tx 50 -M 1200 -S 2200"))
def score(
    ref: Optional[str] = typer.Option(None, help="reference manifest (with target symbols)"),
    hyp: Optional[str] = typer.Option(None, help="hypothesis manifest (same ids, audio = answer wav)"),
    wav_dir: Optional[str] = typer.Option(None, help="transcribe every wav in this folder instead"),
    out: str = typer.Option(..., help="folder for scores.jsonl + summary.json (transcripts.jsonl; - = stdout)"),
    codebook: Optional[str] = typer.Option(None, help="codebook YAML (default: the one beside --ref, "
                                           "else built-in)"),
    resample: bool = typer.Option(False, help="accept other sample rates (resampled)"),
    mix: bool = typer.Option(False, help="accept multi-channel audio (averaged to mono)"),
    skip_bad: bool = typer.Option(False, help="report unreadable audio on stderr, score it as empty, go on"),
    jobs: int = typer.Option(1, min=1, help="parallel worker processes"),
    domain: str = typer.Option("tone", help=f"what the audio is, so which ear hears it: {' | '.join(DOMAINS)} "
                               "(model answers are tones in every domain)"),
    quiet: bool = typer.Option(False),
    fmt: str = typer.Option("md", "--format", help="table printed to stdout: md | csv | latex"),
):
    """Decode answer audio back to symbols (no model) and grade it: exact match, token accuracy, edits."""
    from ..errors import JerichoError
    from ..reporting.tables import COLUMNS, check_format, render_table, summary_rows
    from ..scoring.grading import score_manifests, score_wav_dir

    check_format(fmt)
    if wav_dir:
        if ref or hyp:
            raise JerichoError("--wav-dir cannot be combined with --ref/--hyp")
        rows = score_wav_dir(wav_dir, out, codebook=codebook, resample=resample, mix=mix, skip_bad=skip_bad,
                             jobs=jobs, quiet=quiet, domain=domain)
        if out != "-":
            typer.echo(f"{len(rows)} files transcribed -> {out}/transcripts.jsonl")
        return
    if not ref:
        raise JerichoError("give --ref MANIFEST (optionally --hyp MANIFEST) or --wav-dir DIR")
    if out == "-":
        raise JerichoError("--out - (stdout) is only for --wav-dir; give a folder for scores.jsonl + summary.json")
    summary = score_manifests(ref, hyp, out, codebook=codebook, resample=resample, mix=mix, skip_bad=skip_bad,
                              jobs=jobs, quiet=quiet, domain=domain)
    typer.echo(render_table(COLUMNS, summary_rows({out: summary}), fmt), nl=False)

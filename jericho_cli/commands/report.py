"""`jericho report`: tables (markdown, csv, latex) and plots from score summaries."""

from typing import List, Optional

import typer

from ..cli import example, step


@step("report", epilog=example(
    "  jericho report exp/*/score_*/summary.json > RESULTS.md\n"
    "  jericho report --book --update RESULTS.md outputs/*/score_*/summary.json\n"
    "  jericho report exp/mirror/score_test_iid --format latex --plots exp/mirror/plots \\\n"
    "      --spectrogram exp/mirror/decode_test_iid/manifest.jsonl"))
def report(
    summaries: List[str] = typer.Argument(..., help="summary.json files (or their folders)"),
    fmt: str = typer.Option("md", "--format", help="md | csv | latex"),
    plots: Optional[str] = typer.Option(None, help="folder for PNG plots (accuracy vs length, spectrogram)"),
    by: str = typer.Option("length", help="breakdown table: length | difficulty | steps | subset | none"),
    spectrogram: Optional[str] = typer.Option(None, help="manifest whose first utterance is drawn "
                                              "(input and answer) into PLOTS/spectrogram.png"),
    book: bool = typer.Option(False, help="one document over many runs: runs (model, hardware, wall time), "
                              "task x split table, negative controls, ablations, error diagnosis"),
    update: Optional[str] = typer.Option(None, help="with --book: rewrite the generated part of this markdown "
                                         "file in place, keeping the hand-written text above the marker"),
):
    """Tables (markdown, csv, latex) and plots from score summaries."""
    from ..errors import JerichoError
    from ..reporting.book import write_book
    from ..reporting.tables import report as run

    by_field = None if by == "none" else by
    if update and not book:
        raise JerichoError("--update needs --book")
    if book:
        text = write_book(summaries, fmt=fmt, by=by_field, update_file=update)
        if text is not None:
            typer.echo(text, nl=False)
        return
    typer.echo(run(summaries, fmt=fmt, plots=plots, by=by_field, spectrogram=spectrogram), nl=False)

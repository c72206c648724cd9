"""`jericho report`: tables (markdown, csv, latex) and plots from score summaries."""

from typing import List, Optional

import typer

from ..cli import example, step


@step("report", epilog=example(
    "  jericho report exp/*/score_*/summary.json > RESULTS.md\n"
    "  jericho report --book --update RESULTS.md outputs/*/score_*/summary.json\n"
    "  jericho report exp/mirror/score_test_iid --format latex --plots exp/mirror/plots \\\n"
    "      --spectrogram exp/mirror/decode_test_iid/manifest.jsonl\n"
    "  jericho report --html outputs/report outputs/*/score_*/summary.json --examples examples/audio/index.jsonl"))
def report(
    summaries: Optional[List[str]] = typer.Argument(None, help="summary.json files (or their folders)"),
    fmt: str = typer.Option("md", "--format", help="md | csv | latex"),
    plots: Optional[str] = typer.Option(None, help="folder for PNG plots (accuracy vs length, spectrogram)"),
    by: str = typer.Option("length", help="breakdown table: length | difficulty | steps | subset | none"),
    spectrogram: Optional[str] = typer.Option(None, help="manifest whose first utterance is drawn "
                                              "(input and answer) into PLOTS/spectrogram.png"),
    book: bool = typer.Option(False, help="one document over many runs: runs (model, hardware, wall time), "
                              "task x split table, negative controls, ablations, error diagnosis"),
    update: Optional[str] = typer.Option(None, help="with --book: rewrite the generated part of this markdown "
                                         "file in place, keeping the hand-written text above the marker"),
    html: Optional[str] = typer.Option(None, "--html", help="write a static results page to this folder "
                                       "(index.html + assets/): the book's tables, plots, and --examples"),
    examples: Optional[str] = typer.Option(None, help="with --html: an examples index.jsonl (as "
                                           "examples/make_examples.sh writes) for the listening rows"),
):
    """Tables (markdown, csv, latex) and plots from score summaries."""
    from ..errors import JerichoError
    from ..reporting.book import write_book
    from ..reporting.tables import report as run

    by_field = None if by == "none" else by
    summaries = summaries or []
    if update and not book:
        raise JerichoError("--update needs --book")
    if examples and not html:
        raise JerichoError("--examples needs --html")
    if html:
        from ..reporting.html import write_html

        write_html(html, summaries, examples=examples, by=by_field)
        return
    if not summaries:
        raise JerichoError("give summary.json files (or their folders)")
    if book:
        text = write_book(summaries, fmt=fmt, by=by_field, update_file=update)
        if text is not None:
            typer.echo(text, nl=False)
        return
    typer.echo(run(summaries, fmt=fmt, plots=plots, by=by_field, spectrogram=spectrogram), nl=False)

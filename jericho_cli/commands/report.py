"""`jericho report`: tables (markdown, csv, latex) and plots from score summaries."""

from typing import List, Optional

import typer

from .base import example, step


@step("report", epilog=example(
    "  jericho report exp/*/score_*/summary.json > RESULTS.md\n"
    "  jericho report --book --update RESULTS.md outputs/mirror/*/score_*/summary.json\n"
    "  jericho report exp/mirror/score_test_iid --format latex --plots exp/mirror/plots \\\n"
    "      --spectrogram exp/mirror/decode_test_iid/manifest.jsonl\n"
    "  jericho report --html outputs/report outputs/mirror/*/score_*/summary.json --examples examples/audio/index.jsonl"))
def report(
    summaries: Optional[List[str]] = typer.Argument(None, help="summary.json files (or their folders)"),
    fmt: str = typer.Option("md", "--format", help="md | csv | latex"),
    plots: Optional[str] = typer.Option(None, help="folder for PNG plots (accuracy vs length, spectrogram)"),
    by: Optional[str] = typer.Option(None, help="breakdown table: length | difficulty | steps | subset | none "
                                     "(default: length; none with --book, whose tables are per configuration)"),
    spectrogram: Optional[str] = typer.Option(None, help="manifest whose first utterance is drawn "
                                              "(input and answer) into PLOTS/spectrogram.png"),
    book: bool = typer.Option(False, help="one document over many runs: an environment block, one table per "
                              "configuration (mean ± sd over seeds, each seed, constant answer, robustness "
                              "and controls as rows, error diagnosis), one per ablation family"),
    headline: bool = typer.Option(False, help="with --book: only the headline table (one row per configuration "
                                  "and task: IID, out-of-distribution splits, 10 dB, independent renderer, "
                                  "reverberant)"),
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

    by_field = None if by == "none" or (by is None and book) else (by or "length")
    summaries = summaries or []
    if (update or headline) and not book:
        raise JerichoError(f"{'--update' if update else '--headline'} needs --book")
    if examples and not html:
        raise JerichoError("--examples needs --html")
    if html:
        from ..reporting.html import write_html

        write_html(html, summaries, examples=examples, by=by_field)
        return
    if not summaries:
        raise JerichoError("give summary.json files (or their folders)")
    if book:
        text = write_book(summaries, fmt=fmt, by=by_field, update_file=update, headline_only=headline)
        if text is not None:
            typer.echo(text, nl=False)
        return
    typer.echo(run(summaries, fmt=fmt, plots=plots, by=by_field, spectrogram=spectrogram), nl=False)

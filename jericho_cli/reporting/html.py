"""`jericho report --html DIR`: a static results page that opens from a file (no network, no scripts):
the results book's tables, accuracy-vs-length and SNR plots, and per-example rows with audio players
for input, reference and model answer, their spectrograms, what the scorer heard (errors marked) and
the CTC head's symbols. Media are copied under DIR/assets/, so the folder can be moved or zipped."""

from __future__ import annotations

import difflib
import html
import json
import re
import shutil
from pathlib import Path

from ..errors import JerichoError
from ..io.files import check_out_path, write_text_atomic
from ..io.folders import staged
from ..logs import log

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1300px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0 1.6em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
code { background: #f4f4f4; padding: 0 3px; }
.examples td { font-family: ui-monospace, monospace; }
.examples audio { width: 210px; display: block; }
.examples img { width: 210px; display: block; margin-top: 3px; }
.ok { color: #17752e; font-weight: bold; }
.bad { color: #b3261e; font-weight: bold; }
mark { background: #ffc9c4; }
del { color: #b3261e; }
figure { display: inline-block; margin: 0 1.5em 1em 0; }
figure img { max-width: 600px; }
"""


def markdown_to_html(md: str) -> str:
    """The markdown `jericho report --book` writes: headings, paragraphs, bullets, pipe tables,
    **bold** and `code`."""
    out, para, rows, items = [], [], [], []

    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", text)

    def flush():
        if para:
            out.append(f"<p>{inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()
        if rows:
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows
                     if not re.fullmatch(r"\|?[\s:|-]+\|?", r.strip())]
            head, body = cells[0], cells[1:]
            out.append("<table><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>" +
                       "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body) +
                       "</table>")
            rows.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            if para or items:
                flush()
            rows.append(line)
            continue
        if rows:
            flush()
        m = re.match(r"(#{1,4}) (.*)", line)
        if m:
            flush()
            level = len(m[1]) + 1  # the page's own title is the h1
            out.append(f"<h{level}>{inline(m[2])}</h{level}>")
        elif line.startswith("- "):
            if para:
                flush()
            items.append(line[2:])
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
        elif not line.strip() or line.startswith("<!--"):
            flush()
        else:
            if items:
                flush()
            para.append(line.strip())
    flush()
    return "\n".join(out)


def _marked(ref: list[str], heard: list[str]) -> str:
    """What the scorer heard, with symbols that differ from the reference marked."""
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ref, b=heard, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(html.escape(" ".join(heard[j1:j2])))
        if op in ("replace", "insert"):
            parts.append(f"<mark>{html.escape(' '.join(heard[j1:j2]))}</mark>")
        if op == "delete":
            parts.append(f"<del>{html.escape(' '.join(ref[i1:i2]))}</del>")
    return " ".join(parts) if parts else "<em>(silence)</em>"


def _spectrogram_png(wav: Path, png: Path, sample_rate: int) -> None:
    from .plots import draw_spectrogram, plt

    fig, ax = plt.subplots(figsize=(3.0, 1.5))
    draw_spectrogram(ax, wav, sample_rate)
    ax.set_ylim(0, 7000)
    ax.tick_params(labelsize=6)
    fig.tight_layout(pad=0.2)
    fig.savefig(png, dpi=70, format="png", metadata={"Software": None})
    plt.close(fig)


EXAMPLE_FIELDS = {"input": "a path", "reference": "a path", "answer": "a path", "task": "a string",
                  "split": "a string", "checkpoint": "a string", "domain": "a string", "exact": "true or false",
                  "heard": "a list of symbols", "input_symbols": "a list of symbols",
                  "reference_symbols": "a list of symbols", "ctc_symbols": "a list of symbols"}
NULLABLE_FIELDS = ("ctc_symbols",)  # a model without a CTC head says nothing there; every other field is read


def _is_kind(value, kind: str) -> bool:
    if kind in ("a path", "a string"):
        return isinstance(value, str) and bool(value)
    if kind == "true or false":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def example_rows(index: Path, assets: Path, sample_rate: int = 16000) -> str:
    """The examples table from an index.jsonl as examples/make_examples.sh writes it (paths relative
    to the index): input / reference / answer wavs, symbols, what was heard, the CTC head's symbols."""
    try:
        rows = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise JerichoError(f"not a readable examples index ({exc})", str(index)) from None
    media = assets / "examples"
    media.mkdir(parents=True, exist_ok=True)
    out = ["<table class='examples'><tr><th>task / split / model</th><th>input</th><th>reference answer</th>"
           "<th>model answer</th><th>scorer heard</th><th>CTC head</th></tr>"]
    domain = None
    for n, r in enumerate(rows):
        if not isinstance(r, dict):
            raise JerichoError(f"example {n + 1} is not a JSON object", str(index))
        missing = [k for k in ("input", "reference", "answer", "task", "split", "heard", "exact") if k not in r]
        if missing:
            raise JerichoError(f"example {n + 1} has no {missing[0]!r}", str(index))
        for key, kind in EXAMPLE_FIELDS.items():  # each field's type, before anything reads it
            if key in r and not (r[key] is None and key in NULLABLE_FIELDS) and not _is_kind(r[key], kind):
                raise JerichoError(f"example {n + 1}: {key!r} must be {kind}, got {r[key]!r:.40}", str(index))
        cells = []
        for kind in ("input", "reference", "answer"):
            src = index.parent / r[kind]
            if not src.is_file():
                raise JerichoError(f"example {n + 1}: no {kind} audio {src}", str(index))
            name = f"{n:03d}_{kind}"
            shutil.copyfile(src, media / f"{name}.wav")
            _spectrogram_png(src, media / f"{name}.png", sample_rate)
            symbols = {"input": r.get("input_symbols", []), "reference": r.get("reference_symbols", []),
                       "answer": []}[kind]
            cells.append(f"<td>{html.escape(' '.join(symbols))}<audio controls preload='metadata' "
                         f"src='assets/examples/{name}.wav'></audio><img alt='{kind} spectrogram' "
                         f"src='assets/examples/{name}.png'></td>")
        if r.get("domain", "tone") != domain:  # a row of players per signal domain the inputs are in
            domain = r.get("domain", "tone")
            out.append(f"<tr><th colspan='6'>inputs in the {html.escape(domain)} domain (answers in tones)</th></tr>")
        verdict = "<span class='ok'>right</span>" if r["exact"] else "<span class='bad'>wrong</span>"
        heard = _marked(r.get("reference_symbols", []), r["heard"])
        ckpt = Path(r.get("checkpoint", "")).stem
        out.append(f"<tr><td>{html.escape(r['task'])}<br>{html.escape(r['split'])}<br>{html.escape(ckpt)}</td>"
                   + "".join(cells) + f"<td>{heard}<br>{verdict}</td>"
                   f"<td>{html.escape(' '.join(r.get('ctc_symbols') or []))}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def _mean_over_seeds(entries) -> dict:
    """{run (n seeds): summary-like {"groups": {task/split: {"by_length": {L: {"exact_match"}}}}}} with
    each length's exact match averaged over the run's seeds: one line per run and split."""
    acc: dict = {}
    for e in entries:
        for key, g in e.summary["groups"].items():
            for length, b in g.get("by_length", {}).items():
                acc.setdefault(e.run, {}).setdefault(key, {}).setdefault(length, {})[e.seed] = b["exact_match"]
    out = {}
    for run, groups in acc.items():
        seeds = max(len(v) for by in groups.values() for v in by.values())
        label = run if seeds == 1 else f"{run} ({seeds} seeds)"
        out[label] = {"groups": {k: {"by_length": {L: {"exact_match": sum(v.values()) / len(v)}
                                                   for L, v in by.items()}} for k, by in groups.items()}}
    return out


def write_html(out_dir: str, summaries: list[str], examples: str | None = None, by: str | None = None,
               title: str = "Jericho results") -> Path:
    out = check_out_path(out_dir, "--html")
    # the page is built beside the old one and replaces it only when whole (io.folders.staged): a
    # failed run leaves an earlier page as it was, and files it does not write are never touched
    with staged(out, PAGE_FILES) as staging:
        page = _page(staging, summaries, examples, by, title)
        write_text_atomic(staging / "index.html", page)
    log.info(f"wrote {out / 'index.html'}")
    return out / "index.html"


PAGE_FILES = ("index.html", "assets/examples", "assets/accuracy_vs_length.png", "assets/accuracy_vs_snr.png")


def _page(out: Path, summaries: list[str], examples: str | None, by: str | None, title: str) -> str:
    from .book import book, load_entries
    from .plots import plot_accuracy_vs_length, plot_accuracy_vs_snr
    from .tables import run_name

    assets = out / "assets"
    assets.mkdir(parents=True)
    parts = [f"<h1>{html.escape(title)}</h1>",
             "<p>Every figure is scored from the model's output audio. Generated by "
             "<code>jericho report --html</code>.</p>"]
    if examples:
        parts += ["<h2>Listen: examples</h2>",
                  "<p>Input, the reference answer and the model's answer, each with its spectrogram; what the "
                  "scorer heard in the model's answer (<mark>marked</mark>: symbols that differ from the "
                  "reference, <del>struck</del>: missing ones) and what the auxiliary CTC head said.</p>",
                  example_rows(Path(examples), assets)]
    if summaries:
        entries = load_entries(summaries)
        main = _mean_over_seeds([e for e in entries if e.kind == "main"])
        figures = []
        if main:
            plot_accuracy_vs_length(main, assets / "accuracy_vs_length.png")
            figures.append(("accuracy_vs_length.png", "exact match vs input length"))
        everything = {run_name(e.path): e.summary for e in entries}
        if plot_accuracy_vs_snr(everything, assets / "accuracy_vs_snr.png"):
            figures.append(("accuracy_vs_snr.png", "exact match vs SNR"))
        if figures:
            parts.append("<h2>Plots</h2>" + "".join(
                f"<figure><img alt='{html.escape(c)}' src='assets/{f}'><figcaption>{html.escape(c)}</figcaption>"
                f"</figure>" for f, c in figures))
        parts.append(markdown_to_html(book(summaries, "md", by)))
    if len(parts) == 2:
        raise JerichoError("nothing to show: give summary.json files and/or --examples", str(out))
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")

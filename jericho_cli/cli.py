"""The `jericho` command: one subcommand per pipeline step, each over plain files."""

from __future__ import annotations

import functools
import sys
from typing import List, Optional

import typer

from .errors import JerichoError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Jericho: end-to-end audio reasoning. Symbols become sound, a model answers in "
                       "sound, a scorer hears the answer.")


def cli_errors(name: str):
    """Bad input -> one line on stderr, exit 1 (usage errors stay with click: exit 2)."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except JerichoError as exc:
                typer.echo(f"jericho {name}: error: {exc}", err=True)
                raise typer.Exit(1)
            except KeyboardInterrupt:
                typer.echo(f"jericho {name}: interrupted", err=True)
                raise typer.Exit(130)
        return wrapper
    return deco


def example(text: str) -> str:
    return "\b\nExample:\n" + text


# ------------------------------------------------------------------------------------------ synth
@app.command(epilog=example(
    "  jericho synth --task mirror --split test_iid --n 500 --seed 7 --out data/mirror/test_iid\n"
    "  jericho synth --task mod --split train --n 20000 --jobs 8 --out data/mod/train\n"
    "  jericho synth --task bracket --split val --n 1000 --shard 2/4 --out data/bracket/val   # one of 4 jobs\n"
    "\b\nDisjointness: every input sequence is hashed (blake2b) into one of 100 buckets; buckets\n"
    "[0, pools.train) are the train pool. `train` (and on-the-fly training data) draws only from\n"
    "it, every other split only from the rest, so no test input can occur in train. Each run checks\n"
    "this; --against MANIFEST also checks for shared inputs with an existing manifest."))
@cli_errors("synth")
def synth(
    task: str = typer.Option(..., help="mirror | bracket | mod"),
    split: str = typer.Option(..., help="train, val, test_iid, test_ood_length, test_ood_symbol (mirror), "
                              "test_ood_compose (mod), diag_equal_count (bracket), diag_a_lt_b, diag_a_eq_b, "
                              "diag_b_eq_1, diag_two_digit_rem (mod)"),
    n: int = typer.Option(..., help="number of utterances"),
    out: str = typer.Option(..., help="output folder: OUT/manifest.jsonl + OUT/wav/"),
    seed: int = typer.Option(0, help="every random choice flows from this"),
    config: Optional[str] = typer.Option(None, help="data config YAML (levels, alphabets, pools)"),
    codebook: Optional[str] = typer.Option(None, help="codebook YAML (default: built-in tones)"),
    domain: str = typer.Option("tone", help="renderer"),
    jobs: int = typer.Option(1, help="parallel worker processes"),
    shard: Optional[str] = typer.Option(None, help="i/N: make only every N-th utterance starting at i "
                                        "(cluster jobs); the last shard to finish merges manifest.jsonl"),
    snr_db: Optional[float] = typer.Option(None, help="add white noise at this SNR (dB) to the inputs"),
    reverb: Optional[float] = typer.Option(None, help="add reverberation with this RT60 (s) to the inputs"),
    no_jitter: bool = typer.Option(False, help="render inputs without phase/frequency/duration jitter"),
    against: List[str] = typer.Option([], help="manifest(s) that must share no input sequence"),
    control: Optional[str] = typer.Option(None, help="negative control on the inputs: phase_scramble "
                                          "(magnitude kept), silence, noise"),
    quiet: bool = typer.Option(False, help="no progress bar"),
):
    """Synthesize a split of a task: input wavs, canonical answer wavs, manifest.jsonl."""
    from .render import NO_JITTER, Variation
    from .synth import synth as run

    base = NO_JITTER if no_jitter else Variation()
    variation = Variation(**{**base.to_dict(), "snr_db": snr_db, "reverb_rt60": reverb})
    path = run(task, split, n, seed, out, data_config=config, codebook=codebook, domain=domain, jobs=jobs,
               shard=shard, variation=variation, against=against, control=control, quiet=quiet)
    typer.echo(str(path / "manifest.jsonl") if (path / "manifest.jsonl").exists() else str(path))


# ------------------------------------------------------------------------------------------ split
@app.command("split", epilog=example(
    "  jericho split data/all/manifest.jsonl --by ratio --ratios train=0.9,val=0.1 --seed 7 --out data/\n"
    "  jericho split data/all --by length --bins short=3-5,long=6-10 --out data/bylen\n"
    "  jericho split data/all --by field --field task --out data/bytask\n"
    "  jericho split data/all --by symbols --held-out KL --out data/bysym\n"
    "  jericho split data/all --by group --field meta.speaker --ratios train=0.8,test=0.2 --out data/spk\n"
    "  cat manifest.jsonl | jericho split - --by ratio --ratios a=1,b=1 --out parts/"))
@cli_errors("split")
def split_cmd(
    manifest: str = typer.Argument(..., help="manifest.jsonl, its folder, or - for stdin"),
    by: str = typer.Option("ratio", help="ratio | length | field | symbols | group"),
    out: str = typer.Option(..., help="folder: OUT/<part>/manifest.jsonl for each part"),
    ratios: Optional[str] = typer.Option(None, help="name=weight,... (ratio, group)"),
    field: Optional[str] = typer.Option(None, help="dotted field (field, group, length): task, meta.length"),
    bins: Optional[str] = typer.Option(None, help="name=lo-hi,... for numeric fields (length, field)"),
    held_out: Optional[str] = typer.Option(None, help="symbols whose presence sends an utterance to held_out"),
    seed: int = typer.Option(0),
    strict: bool = typer.Option(False, help="fail (exit 1) if two parts share an input sequence"),
):
    """Partition a manifest; equal inputs (or groups) always land in one part; reports overlaps."""
    from .splitting import split as run

    report = run(manifest, by, out, seed=seed, strict=strict, ratios=ratios, field=field, bins=bins,
                 held_out=held_out)
    import json

    typer.echo(json.dumps(report, sort_keys=True))


# ------------------------------------------------------------------------------------------ score
@app.command(epilog=example(
    "  jericho score --ref data/test_iid/manifest.jsonl --hyp exp/mirror/decode_test_iid/manifest.jsonl \\\n"
    "      --out exp/mirror/score_test_iid\n"
    "  jericho score --ref data/test_iid/manifest.jsonl --out exp/selfcheck   # score the reference answers\n"
    "  jericho score --wav-dir some/folder --out -                              # transcribe any wavs"))
@cli_errors("score")
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
    jobs: int = typer.Option(1, help="parallel worker processes"),
    quiet: bool = typer.Option(False),
    fmt: str = typer.Option("md", "--format", help="table printed to stdout: md | csv | latex"),
):
    """Decode answer audio back to symbols (no model) and grade it: exact match, token accuracy, edits."""
    from .report import COLUMNS, render_table, summary_rows
    from .score import score_manifests, score_wav_dir

    if wav_dir:
        if ref or hyp:
            raise JerichoError("--wav-dir cannot be combined with --ref/--hyp")
        rows = score_wav_dir(wav_dir, out, codebook=codebook, resample=resample, mix=mix, skip_bad=skip_bad,
                             jobs=jobs, quiet=quiet)
        if out != "-":
            typer.echo(f"{len(rows)} files transcribed -> {out}/transcripts.jsonl")
        return
    if not ref:
        raise JerichoError("give --ref MANIFEST (optionally --hyp MANIFEST) or --wav-dir DIR")
    summary = score_manifests(ref, hyp, out, codebook=codebook, resample=resample, mix=mix, skip_bad=skip_bad,
                              jobs=jobs, quiet=quiet)
    typer.echo(render_table(COLUMNS, summary_rows({out: summary}), fmt), nl=False)


# ----------------------------------------------------------------------------------------- report
@app.command(epilog=example(
    "  jericho report exp/*/score_*/summary.json > RESULTS.md\n"
    "  jericho report --book --update RESULTS.md outputs/*/score_*/summary.json\n"
    "  jericho report exp/mirror/score_test_iid --format latex --plots exp/mirror/plots \\\n"
    "      --spectrogram exp/mirror/decode_test_iid/manifest.jsonl"))
@cli_errors("report")
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
    if update and not book:
        raise JerichoError("--update needs --book")
    if book:
        from .fileio import write_text_atomic
        from .results_book import book as run_book
        from .results_book import update as merge

        text = run_book(summaries, fmt=fmt, by=None if by == "none" else by)
        if update:
            from pathlib import Path

            old = Path(update).read_text() if Path(update).exists() else ""
            write_text_atomic(update, merge(old, text))
            typer.echo(f"wrote {update}", err=True)
        else:
            typer.echo(text, nl=False)
        return
    from .report import report as run

    typer.echo(run(summaries, fmt=fmt, plots=plots, by=None if by == "none" else by, spectrogram=spectrogram),
               nl=False)


# ------------------------------------------------------------------------------------------ train
@app.command(epilog=example(
    "  jericho train --config recipes/mirror/conf/train_cpu.yaml --out exp/mirror\n"
    "  jericho train --config conf/train.yaml --set train.lr=3e-4 --set model.name=plan --out exp/plan\n"
    "  jericho train --config conf/train.yaml --out exp/mirror --resume      # continue a killed run\n"
    "  jericho train --set model.name=appendix --dry-run                     # parameter counts only\n"
    "  torchrun --nproc-per-node 4 -m jericho_cli train --config ... --out ...   # several GPUs"))
@cli_errors("train")
def train(
    out: Optional[str] = typer.Option(None, help="run folder: best.pt, last.pt, config.yaml, log/"),
    config: Optional[str] = typer.Option(None, help="YAML with model:, data:, train: sections"),
    set_: List[str] = typer.Option([], "--set", help="override a config value: train.lr=3e-4"),
    resume: bool = typer.Option(False, help="continue from OUT/last.pt (same batches as an unbroken run)"),
    dry_run: bool = typer.Option(False, help="print parameter counts per component and the config; no training"),
    codebook: Optional[str] = typer.Option(None, help="codebook YAML (stored in the checkpoint)"),
    quiet: bool = typer.Option(False),
):
    """Train Mini-JMamba on a task (on-the-fly data with a curriculum, or a manifest)."""
    import json

    from .train import train as run

    if not dry_run and not out:
        raise JerichoError("--out is required (unless --dry-run)")
    result = run(config, out, set_, resume=resume, dry_run=dry_run, quiet=quiet, codebook=codebook)
    typer.echo(json.dumps(result if not dry_run else {"parameters": result["parameters"],
                                                       "model": result["config"]["model"]}, indent=1))


# ----------------------------------------------------------------------------------------- decode
@app.command(epilog=example(
    "  jericho decode --ckpt exp/mirror/best.pt data/test_iid/manifest.jsonl --out exp/mirror/decode_test_iid\n"
    "  jericho decode --ckpt exp/mirror/best.pt --wav-dir my_recordings --resample --out exp/mirror/decode_mine"))
@cli_errors("decode")
def decode(
    manifest: Optional[str] = typer.Argument(None, help="input manifest (audio = what the model hears)"),
    ckpt: str = typer.Option(..., help="checkpoint (.pt) written by jericho train"),
    out: str = typer.Option(..., help="folder: OUT/wav/*.wav + OUT/manifest.jsonl (with aux_symbols)"),
    wav_dir: Optional[str] = typer.Option(None, help="decode every wav in this folder instead"),
    batch_size: int = typer.Option(16),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    resample: bool = typer.Option(False),
    mix: bool = typer.Option(False),
    quiet: bool = typer.Option(False),
):
    """Run a trained model: input audio -> answer audio (+ auxiliary CTC symbols)."""
    from .decode import decode as run
    from .train import pick_device

    path = run(ckpt, manifest, wav_dir, out, batch_size=batch_size, device=str(pick_device(device)),
               resample=resample, mix=mix, quiet=quiet)
    typer.echo(str(path / "manifest.jsonl"))


# ------------------------------------------------------------------------- steps that come later
def _not_yet(name: str):
    typer.echo(f"jericho {name}: not implemented yet", err=True)
    raise typer.Exit(2)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def probe():
    """State analysis of a checkpoint or of feature sequences (not implemented yet)."""
    _not_yet("probe")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def prune():
    """SSM state pruning experiments on a checkpoint (not implemented yet)."""
    _not_yet("prune")


def main():  # console entry point
    app()


if __name__ == "__main__":
    sys.exit(main())

"""`jericho report --book`: the top-level RESULTS.md generator over runs, controls and ablations."""

import json
import re

from jericho_cli.scoring import metrics
from jericho_cli.reporting.book import MARKER


def _rows(task, split, refs, hyps, **meta):
    return [{"task": task, "split": split, "ref": list(r), "hyp": list(h), "meta": {"length": len(r), **meta},
             **metrics.compare(list(r), list(h))} for r, h in zip(refs, hyps)]


def _run(root, run, scores, *, steps=100, wall=12, abl=None):
    """A run folder as `jericho train` and the recipes leave it: run.json and score summaries."""
    d = root / run
    d.mkdir(parents=True)
    loss = {"ctc": 0.0 if abl == "no_ctc" else 0.2}
    config = {"model": {"name": "cpu_small", "downsample": 2}, "data": {"bracket": {"iid_levels": [4, 8]}},
              "train": {"task": "bracket", "steps": steps, "batch_size": 8, "loss": loss,
                        "curriculum": {"enabled": True}}}
    (d / "run.json").write_text(json.dumps({
        "parameters": {"ssd": 1, "total": 168338}, "train_wall_s": wall, "config": config,
        "hardware": {"cpu": "Test CPU", "nproc": 2, "threads": 1, "gpu": None}}))
    paths = []
    for name, rows in scores.items():
        (d / name).mkdir()
        (d / name / "summary.json").write_text(json.dumps(metrics.summarize(rows)))
        paths.append(d / name / "summary.json")
    return paths


def test_book_sections_numbers_and_update(tmp_path, cli):
    refs = ["V", "V", "V", "X"]
    paths = _run(tmp_path, "bracket_cpu", {
        "score_bracket_test_iid": _rows("bracket", "test_iid", refs, ["V", "V", "V", "X"]),
        "score_bracket_test_ood_length": _rows("bracket", "test_ood_length", refs, ["V", "X", "V", "X"]),
        "score_bracket_control_silence": _rows("bracket", "test_iid", refs, ["X", "X", "X", ""]),
    })
    paths += _run(tmp_path, "bracket_cpu_shuffled", {
        "score_bracket_test_iid": _rows("bracket", "test_iid", refs, ["V", "V", "V", "V"])})
    paths += _run(tmp_path, "bracket_cpu_abl_base", {
        "score_bracket_test_iid": _rows("bracket", "test_iid", refs, refs)}, wall=30)
    paths += _run(tmp_path, "bracket_cpu_abl_no_ctc", {
        "score_bracket_test_iid": _rows("bracket", "test_iid", refs, ["X"] * 4)}, wall=31, abl="no_ctc")

    out = cli("report", "--book", *paths, "--by", "none")
    assert out.exit_code == 0, out.output
    md = out.stdout
    # the environment block, then one section per configuration with its facts from run.json
    assert md.startswith("## Environment") and "2-core Test CPU (4 runs)" in md
    main = md.split("## bracket_cpu\n", 1)[1].split("\n## ", 1)[0]
    assert "168k parameters; 100 steps x 8; levels bracket 4-8" in main and "train 12 s a seed" in main
    # task x split rows: exact match beside the best constant answer (V: 3 of 4), token accuracy
    assert "| bracket/test_iid | 4 | 75.0 | 100.0 |" in main
    assert "| bracket/test_ood_length | 4 | 75.0 | 75.0 |" in main
    # controls are rows of their configuration, with what the model answers most
    assert "| bracket/test_iid control: silence | 4 | 75.0 | 0.0 |" in main and "says X (75.0%)" in main
    shuffled = md.split("## bracket_cpu_shuffled\n", 1)[1].split("\n## ", 1)[0]
    assert "control: shuffled_answers" in shuffled and "says V (100.0%)" in shuffled
    # ablations: one table per family, base first, one row per variant with its wall time
    abl = [ln for ln in md.split("## bracket_cpu: variants, exact match %")[1].splitlines() if ln.startswith("| ")]
    assert abl[1].startswith("| base | 1 |") and abl[1].rstrip().endswith("| 30 | 100.0 |")
    assert abl[2].startswith("| no_ctc | 1 |") and abl[2].rstrip().endswith("| 31 | 25.0 |")
    assert "## bracket_cpu_abl" not in md  # variants are not configurations of their own

    # --update keeps the hand-written head and replaces what is below the marker, atomically
    doc = tmp_path / "RESULTS.md"
    doc.write_text("# Results\n\nWritten by hand.\n\n" + MARKER + "\n\nstale table\n")
    assert cli("report", "--book", "--update", doc, *paths).exit_code == 0
    text = doc.read_text()
    assert text.startswith("# Results\n\nWritten by hand.\n\n" + MARKER) and "stale table" not in text
    assert text.count(MARKER) == 1 and "## Environment" in text
    assert cli("report", "--update", doc, *paths).exit_code != 0  # --update without --book


def test_seeds_of_a_run_are_one_column_with_mean_and_sd(tmp_path, cli):
    refs = ["V", "V", "X", "X"]
    paths = []
    for seed, hyps in enumerate((refs, ["V", "V", "X", "V"], ["V", "X", "V", "V"])):  # 100, 75, 25 %
        paths += _run(tmp_path, f"bracket_cpu_seed{seed}", {
            "score_bracket_test_iid": _rows("bracket", "test_iid", refs, hyps)})
    for seed in (0, 1):
        paths += _run(tmp_path, f"bracket_cpu_abl_no_ctc_seed{seed}", {
            "score_bracket_test_iid": _rows("bracket", "test_iid", refs, refs if seed else ["X"] * 4)},
            abl="no_ctc", wall=10 + seed)
    md = cli("report", "--book", *paths, "--by", "none").stdout
    main = md.split("## bracket_cpu (seeds 0, 1, 2)")[1].split("\n## ", 1)[0]
    # mean and sample sd of 100, 75, 25 beside each seed's value
    assert "| bracket/test_iid | 4 | 50.0 | 66.7 ± 38.2 | 100.0, 75.0, 25.0 |" in main
    abl = md.split("## bracket_cpu: variants, exact match %")[1]
    assert re.search(r"\| no_ctc \| 2 \|.*\| 50.0, 100.0 \|", abl)  # two seeds: each value, not a mean ± sd


def test_robustness_table_compares_conditions_with_the_same_seeds_clean(tmp_path, cli):
    refs = ["AB", "CD", "EF", "GH"]
    paths = _run(tmp_path, "mirror_cpu_seed0", {"score_mirror_test_iid": _rows("mirror", "test_iid", refs, refs)})
    for seed, clean in ((1, refs), (2, ["AB", "CD", "EF", "X"])):
        paths += _run(tmp_path, f"mirror_cpu_seed{seed}", {
            "score_mirror_test_iid": _rows("mirror", "test_iid", refs, clean),
            "score_mirror_robust_snr10": _rows("mirror", "test_iid", refs, ["AB", "CD", "", ""]),
            "score_mirror_robust_snr0": _rows("mirror", "test_iid", refs, [""] * 4),
            "score_mirror_robust_independent": _rows("mirror", "test_iid", refs, refs)})
    md = cli("report", "--book", *paths, "--by", "none").stdout
    main = md.split("## mirror_cpu (seeds 0, 1, 2)")[1]
    assert "| mirror/test_iid | 4 | 25.0 | 91.7 ± 14.4 | 100.0, 100.0, 75.0 |" in main  # clean: all seeds
    # conditions are rows of the same configuration, over the seeds that ran them (two: each value)
    assert "| mirror/test_iid @ snr10 | 4 | 25.0 | 50.0, 50.0 |" in main
    assert "| mirror/test_iid @ snr0 | 4 | 25.0 | 0.0, 0.0 |" in main
    assert "| mirror/test_iid @ independent | 4 | 25.0 | 100.0, 100.0 |" in main
    rows = [ln.split(" | ")[0] for ln in main.splitlines() if ln.startswith("| mirror/")]
    assert rows == ["| mirror/test_iid", "| mirror/test_iid @ snr10", "| mirror/test_iid @ snr0",
                    "| mirror/test_iid @ independent"]


def test_summary_records_constant_baseline_and_top_answer():
    s = metrics.summarize(_rows("mod", "test_iid", ["0", "0", "3", "12"], ["0", "1", "1", "1"]))
    g = s["groups"]["mod/test_iid"]
    assert g["majority_ref"] == {"answer": "0", "share": 0.5}
    assert g["top_hyp"] == {"answer": "1", "share": 0.75}


def test_model_column_names_every_switch_off_its_default(tmp_path):
    from jericho_cli.reporting.book import run_info
    _run(tmp_path, "mirror_cpu_seed0", {})
    path = tmp_path / "mirror_cpu_seed0" / "run.json"
    run = json.loads(path.read_text())
    run["config"]["model"].update(positions="continue", attn_window=8, positions_stretch=2.5, context=1,
                                  attn_sink=True, neg_eig=True, copy_head=False)
    path.write_text(json.dumps(run))
    assert run_info(path.parent)["model"] == ("cpu_small downsample=2 positions=continue attn_sink neg_eig "
                                              "context=1 attn_window=8 positions_stretch=2.5")
    run["config"]["model"].update(positions="restart", attn_window=None, positions_stretch=1.0, context=0,
                                  attn_sink=False, neg_eig=False)
    path.write_text(json.dumps(run))
    assert run_info(path.parent)["model"] == "cpu_small downsample=2"

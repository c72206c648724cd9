"""Every generated table in RESULTS.md and recipes/*/RESULTS.md is what the kept runs under
outputs/<study>/<run>/ give today: regenerating each document's book from those files must reproduce
the committed text below its marker byte for byte. A figure whose run folder was deleted, or a table
edited by hand, fails here. The sources are the Makefile's `results` target's: the headline runs are
read from its HEADLINE; keep STUDIES alike with its STUDIES."""

import re
from pathlib import Path

import pytest

from jericho_cli.reporting.book import MARKER, write_book

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ["mirror", "bracket", "mod", "multitask", "cores", "state_tracking", "transfer"]
# the defaults' kept runs, as the Makefile's HEADLINE names them (one place to promote a default)
HEADLINE = re.findall(r"outputs/(\S+?)/score_\*/summary\.json",
                      re.search(r"^HEADLINE = (.*?)\)\n", (ROOT / "Makefile").read_text(), re.M | re.S).group(1))


def _paths(*patterns: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pat in patterns for p in ROOT.glob(pat))


def _committed(document: str) -> str:
    text = (ROOT / document).read_text()
    assert MARKER in text, f"{document} has no generated part"
    return text.split(MARKER, 1)[1].lstrip("\n")


@pytest.fixture(autouse=True)
def _from_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the books name runs by the paths they were given, relative to the root


@pytest.mark.parametrize("study", STUDIES)
def test_recipe_results_come_from_kept_runs(study):
    paths = _paths(f"outputs/{study}/*/score_*/summary.json")
    assert paths, f"no kept runs under outputs/{study}/"
    assert write_book(paths, fmt="md", by=None) == _committed(f"recipes/{study}/RESULTS.md")


def test_analysis_results_come_from_kept_runs():
    paths = _paths("outputs/analysis/*/probe_*/summary.json", "outputs/analysis/*/prune/*/summary.json")
    assert write_book(paths, fmt="md", by=None) == _committed("recipes/analysis/RESULTS.md")


def test_headline_comes_from_each_tasks_default_model():
    assert len(HEADLINE) == 4  # mirror, bracket, mod, multitask
    paths = _paths(*(f"outputs/{run}/score_*/summary.json" for run in HEADLINE))
    assert write_book(paths, fmt="md", by=None, headline_only=True) == _committed("RESULTS.md")


def test_every_mean_and_sd_in_the_write_ups_is_a_generated_figure():
    """Each `mean ± sd` the README and the recipes' README.md write-ups quote is in a generated table
    (which the tests above tie to kept files): no figure in prose without a kept run behind it."""
    generated = "".join(_committed(str(p.relative_to(ROOT))) for p in
                        [ROOT / "RESULTS.md", *sorted(ROOT.glob("recipes/*/RESULTS.md"))])
    for doc in [ROOT / "README.md", *sorted(ROOT.glob("recipes/*/README.md"))]:
        figures = re.findall(r"\d+\.\d ± \d+\.\d", doc.read_text())
        missing = [f for f in figures if f not in generated]
        assert not missing, f"{doc.relative_to(ROOT)}: {missing[:5]} in no generated table"
    assert len(re.findall(r"\d+\.\d ± \d+\.\d", (ROOT / "README.md").read_text())) >= 10


def test_every_kept_json_file_parses_with_a_strict_reader():
    # no NaN or Infinity in what the project committed (issue #35): any JSON reader reads the results
    from jericho_cli.io.files import loads_strict

    files = [p for d in ("outputs", "examples", "recipes") for p in (ROOT / d).rglob("*.json*")
             if p.suffix in (".json", ".jsonl")]
    assert len(files) > 100
    for p in files:
        text = p.read_text(encoding="utf-8")
        for line in ([text] if p.suffix == ".json" else [ln for ln in text.splitlines() if ln.strip()]):
            loads_strict(line)


@pytest.mark.parametrize("task", ["mirror", "mod"])
def test_transfer_tables_in_the_write_up_come_from_kept_runs(task):
    """recipes/transfer/README.md quotes local/transfer_table.py's tables over outputs/transfer/
    verbatim (Mirror: both tables; Mod: the target-domain table, the other one kept beside its runs)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("transfer_table", ROOT / "recipes/transfer/local/transfer_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.tables(ROOT / "outputs/transfer", task, ["tone", "carrier", "pulse"])
    assert "not run" not in text
    quoted = text if task == "mirror" else text.split("Every model heard")[0].split("\n\n", 1)[1].strip()
    assert quoted.count("\n") >= 5 and quoted in (ROOT / "recipes/transfer/README.md").read_text()
    if task == "mod":
        assert text.strip() == (ROOT / "outputs/transfer/MOD_TRANSFER.md").read_text().strip()

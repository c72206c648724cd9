#!/usr/bin/env python3
"""The cross-domain transfer tables (issue #34) from a folder of transfer runs (exp/ or the kept
outputs/transfer/): exact match %, mean ± sd over seeds with each seed's value, as the book prints it.

  1. equal budget: each target domain's model from scratch at the fine-tuning budget (<d>_short) and
     fine-tuned from each other domain's model (<f>2<d>), heard in the target domain; the diagonal is
     the in-domain model at the full budget (<d>);
  2. every model heard in every domain: zero-shot transfer (scratch models) and what a fine-tune
     forgot of its source domain.

  local/transfer_table.py exp [--task mirror] [--domains "tone carrier pulse"]
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from jericho_cli.reporting.book import book_table, load_entries, with_seeds


def exact_by_run_and_domain(folder: Path, task: str) -> dict:
    """{(run, heard-in domain): [exact match per seed, in seed order]}: a score of test_iid itself is
    the tone domain, a robustness condition named after a domain is that domain. Runs are named as
    run.sh names them: <run>_seed<N> for Mirror, <task>_<run>_seed<N> for another task; the keys
    drop that prefix."""
    pre = "" if task == "mirror" else f"{task}_"
    paths = sorted(str(p) for p in folder.glob(f"{pre}*_seed*/score_*/summary.json"))
    cells = defaultdict(list)
    for e in sorted(load_entries(paths), key=lambda e: (e.run, e.seed)):
        g = e.summary["groups"].get(f"{task}/test_iid")
        if g is not None and e.kind in ("main", "robustness"):
            cells[e.run.removeprefix(pre), e.variant if e.kind == "robustness" else "tone"].append(g["exact_match"])
    return cells


def tables(folder: Path, task: str, domains: list[str]) -> str:
    cells = exact_by_run_and_domain(folder, task)
    cell = lambda run, d: with_seeds(cells[run, d]) if cells.get((run, d)) else "not run"  # noqa: E731
    budget = [["scratch, fine-tuning budget"] + [cell(f"{d}_short", d) for d in domains]]
    budget += [[f"fine-tuned from {f}"] + [f"**{cell(d, d)}** (in-domain, full budget)" if f == d
                                           else cell(f"{f}2{d}", d) for d in domains] for f in domains]
    runs = domains + [f"{f}2{d}" for d in domains for f in domains if f != d]
    heard = [[r] + [cell(r, d) for d in domains] for r in runs]
    return ("Heard in the target domain (columns), each model at the same fine-tuning budget but the "
            "diagonal's:\n\n" + book_table(["model"] + [f"target {d}" for d in domains], budget, "md") +
            "\nEvery model heard in every domain (<from>2<to>: fine-tuned):\n\n" +
            book_table(["model"] + [f"heard on {d}" for d in domains], heard, "md"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a folder of <run>_seed<N>/score_*/summary.json")
    ap.add_argument("--task", default="mirror")
    ap.add_argument("--domains", default="tone carrier pulse")
    args = ap.parse_args()
    sys.stdout.write(tables(args.folder, args.task, args.domains.split()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

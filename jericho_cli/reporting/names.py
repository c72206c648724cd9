"""What a kept folder's name says (the recipes' naming conventions), for the book, page and plots.

`<exp>_abl_<name>` is an ablation of `<exp>`, `<exp>_shuffled` the shuffled-answer control, a score
folder `score_<task>_control_<kind>` a run on altered inputs, `score_<task>_robust_<condition>` one
on harder audio (noise, reverberation, another renderer); everything else is a main result. A
trailing `_seed<N>` names one training seed of a run.
"""

from __future__ import annotations

import re
from pathlib import Path

ABLATION = re.compile(r"^(?P<base>.+)_abl_(?P<name>.+)$")
SEED = re.compile(r"^(?P<run>.+)_seed(?P<seed>\d+)$")


def split_seed(folder: str) -> tuple[str, int | None]:
    """mirror_cpu_seed2 -> ("mirror_cpu", 2); a folder without a seed -> (folder, None)."""
    m = SEED.match(folder)
    return (m["run"], int(m["seed"])) if m else (folder, None)


def classify(path: Path) -> tuple[str, str, str, str]:
    """(kind, base run, variant, run name) of one summary.json (run name without its _seed<N>)."""
    score_dir = path.parent
    run, _ = split_seed(score_dir.parent.name)
    m = ABLATION.match(run)
    if m:
        return "ablation", m["base"], m["name"], run
    if run.endswith("_shuffled"):
        return "control", run[: -len("_shuffled")], "shuffled_answers", run
    if "_control_" in score_dir.name:
        return "control", run, score_dir.name.split("_control_", 1)[1], run
    if "_robust_" in score_dir.name:  # robust_speech_heldout_ood_length: the split is the row's already
        condition = re.sub(r"_(ood_length|equal_count)$", "", score_dir.name.split("_robust_", 1)[1])
        return "robustness", run, condition, run
    return "main", run, "", run

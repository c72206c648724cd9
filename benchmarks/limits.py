"""Each command at the largest input its guards let through: peak memory and time (issue #33).

    python benchmarks/limits.py > outputs/bench/limits_cpu.md

The tests hold the cheap side (a size beyond a named limit is refused before anything is
allocated); this runs the expensive side, each command in a fresh process at its limit, and reports
the process's peak resident memory (wait4's ru_maxrss), so "bounded by a limit it names" is a
measured figure. A tiny 2-step checkpoint stands in for a model: memory depends on lengths and the
model's size, not on how well it was trained.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from jericho_cli.config import MAX_LEVEL

JERICHO = [sys.executable, "-m", "jericho_cli"]
TINY = ["--set", "model.name=cpu_small", "--set", "train.steps=2", "--set", "train.val_every=2", "--set",
        "train.val_n=2", "--set", "train.batch_size=2", "--set", "data.mirror.iid_levels=[3,3]", "--quiet"]


def measured(args: list) -> tuple[float, float]:
    """(peak MB, seconds) of one jericho command in its own process; fails loudly if it fails."""
    t = time.perf_counter()
    p = subprocess.Popen([*JERICHO, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: jericho {' '.join(map(str, args))}\n{err}")
    return usage.ru_maxrss / 1024, time.perf_counter() - t


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="jericho-limits-"))
    rows = []
    rows.append(("jericho --help (the interpreter and the CLI, for scale)", "-", *measured(["--help"])))
    measured(["train", "--out", work / "tiny", *TINY])
    ckpt = work / "tiny" / "best.pt"
    (work / "long.yaml").write_text(f"mirror: {{iid_levels: [{MAX_LEVEL}, {MAX_LEVEL}]}}\n")
    rows.append((f"synth: Mirror inputs at the longest level (2 utterances)", f"MAX_LEVEL = {MAX_LEVEL} symbols",
                 *measured(["synth", "--task", "mirror", "--split", "test_iid", "--n", 2, "--config", work / "long.yaml",
                            "--out", work / "long", "--quiet"])))
    secs = 120.0
    rng = np.random.default_rng(0)
    (work / "wavs").mkdir()
    sf.write(work / "wavs" / "long.wav", (0.1 * rng.standard_normal(int(secs * 16000))).astype(np.float32), 16000)
    (work / "long.jsonl").write_text(json.dumps({"id": "long", "audio": str(work / "wavs" / "long.wav")}) + "\n")
    rows.append(("decode: one input of the longest length", f"--max-seconds {secs:g} (default)",
                 *measured(["decode", "--ckpt", ckpt, work / "long.jsonl", "--out", work / "dec", "--quiet"])))
    rows.append(("decode --stream: the same input", f"--max-seconds {secs:g}",
                 *measured(["decode", "--ckpt", ckpt, work / "long.jsonl", "--out", work / "dec_stream", "--stream",
                            "--quiet"])))
    (work / "slow").mkdir()
    sf.write(work / "slow" / "slow.wav", (0.1 * rng.standard_normal(int(secs * 1000))).astype(np.float32), 1000)
    rows.append(("score --wav-dir --resample: 120 s at the lowest rate it resamples", "1000 Hz (MIN_RESAMPLE_RATE)",
                 *measured(["score", "--wav-dir", work / "slow", "--resample", "--out", work / "sc", "--quiet"])))
    rows.append(("probe state-norms at the longest length (2 utterances)", "--lengths 512 (MAX_LENGTH)",
                 *measured(["probe", "state-norms", "--ckpt", ckpt, "--lengths", 512, "--n", 2, "--batch-size", 2,
                            "--out", work / "norms", "--quiet"])))
    rows.append(("train: 2 steps, batch 16, every input 8 times slower", "train.augment.time_scale [8, 8]",
                 *measured(["train", "--out", work / "slow_train", *TINY, "--set", "train.batch_size=16",
                            "--set", "data.mirror.iid_levels=[3,10]", "--set", "train.augment.time_scale=[8,8]"])))
    print("# Commands at their limits, CPU\n")
    print(f"Peak resident memory of each command in a fresh process at the largest input its guards let "
          f"through (tiny `cpu_small` checkpoint). {os.cpu_count()} CPUs here.\n")
    print("| command | limit | peak MB | seconds |\n|---|---|---|---|")
    for what, limit, mb, s in rows:
        print(f"| {what} | {limit} | {mb:.0f} | {s:.1f} |")


if __name__ == "__main__":
    main()

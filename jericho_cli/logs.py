"""One logger for every step: `jericho <step>: message` lines on stderr (train adds a log file)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger("jericho")


def setup(step: str) -> None:
    """Called by the CLI for each command: stderr lines prefixed with the step's name."""
    log.setLevel(logging.INFO)
    for h in list(log.handlers):
        if getattr(h, "_jericho_stderr", False):
            log.removeHandler(h)
    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(logging.Formatter(f"jericho {step}: %(message)s"))
    h._jericho_stderr = True
    log.addHandler(h)
    log.propagate = False


def add_file(path: Path) -> logging.Handler:
    """Also write timestamped lines to `path` (a run's log/train.log); remove the handler when done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h = logging.FileHandler(path)
    h.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.addHandler(h)
    return h

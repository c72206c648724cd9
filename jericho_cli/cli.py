"""The `jericho` command: registers one subcommand per pipeline step (jericho_cli/commands/).

Every error is one line on stderr: bad input (a JerichoError or an OS error on a named file) exits 1,
a usage error (unknown option, bad option value) exits 2. Tracebacks are for bugs only.
"""

from __future__ import annotations

import sys

from .commands import decode, probe, prune, report, score, split, synth, train  # noqa: F401  (registers them)
from .commands.base import app


def main():  # console entry point
    app()


if __name__ == "__main__":
    sys.exit(main())

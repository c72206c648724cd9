"""The `jericho` application every step registers on: `step` (one-line errors, exit codes, logging)
and `example` (the epilog of `--help`). Command modules import this; `cli.py` imports them."""

from __future__ import annotations

import functools
import math
import sys

import typer
from typer.core import TyperGroup

from ..errors import JerichoError


class OneLineErrors(TyperGroup):
    """Click's usage errors as one line (`jericho synth: error: ... (see jericho synth --help)`)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                              **extra)
        except Exception as exc:
            if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click's exception family
                ctx = getattr(exc, "ctx", None)
                where = ctx.command_path if ctx is not None else "jericho"
                hint = f" (see {where} --help)" if exc.exit_code == 2 else ""
                sys.stderr.write(f"{where}: error: {exc.format_message()}{hint}\n")
                sys.exit(exc.exit_code)
            if type(exc).__name__ == "Abort":
                sys.stderr.write("jericho: interrupted\n")
                sys.exit(130)
            raise
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(cls=OneLineErrors, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Jericho: end-to-end audio reasoning. Symbols become sound, a model answers in "
                       "sound, a scorer hears the answer.")


def step(name: str, epilog: str = "", **settings):
    """Register a command: its logger, and JerichoError / OSError -> one line + exit 1."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            from ..logs import setup

            setup(name)
            try:
                for key, value in kwargs.items():  # one guard for every numeric option
                    if isinstance(value, float) and not math.isfinite(value):
                        raise JerichoError(f"--{key.replace('_', '-')} must be a finite number, got {value}")
                return fn(*args, **kwargs)
            except JerichoError as exc:
                typer.echo(f"jericho {name}: error: {exc}", err=True)
                raise typer.Exit(exc.exit_code)
            except OSError as exc:  # disk full, permission denied, ...: the file and the reason
                where = f"{exc.filename}: " if exc.filename else ""
                typer.echo(f"jericho {name}: error: {where}{exc.strerror or exc}", err=True)
                raise typer.Exit(1)
            except KeyboardInterrupt:
                typer.echo(f"jericho {name}: interrupted", err=True)
                raise typer.Exit(130)
        return app.command(name, epilog=epilog, **settings)(wrapper)
    return deco


def example(text: str) -> str:
    return "\b\nExample:\n" + text

import pytest
from typer.testing import CliRunner

from jericho_cli.cli import app


@pytest.fixture
def cli():
    """Run `jericho ARGS...` in-process; returns the click Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run

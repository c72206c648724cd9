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


# Every JSON / JSON Lines file the project writes during the suite must parse with a strict reader
# (no NaN or Infinity; issue #35). io.files.note_written lists them in $JERICHO_WRITTEN_LOG; at the
# end of the session each one still on disk is read back strictly, and the session fails otherwise.
def pytest_configure(config):
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="jericho-written-", suffix=".log")
    os.close(fd)
    os.environ["JERICHO_WRITTEN_LOG"] = path
    config._jericho_written_log = path


def pytest_sessionfinish(session, exitstatus):
    import os
    from pathlib import Path

    from jericho_cli.io.files import NotJSON, loads_strict

    path = getattr(session.config, "_jericho_written_log", None)
    if not path or not os.path.exists(path):
        return
    files = sorted({Path(p) for p in Path(path).read_text().splitlines() if p})
    os.unlink(path)
    bad, checked = [], 0
    for f in files:
        if f.suffix not in (".json", ".jsonl") or not f.is_file():
            continue
        checked += 1
        text = f.read_text(encoding="utf-8")
        try:
            if f.suffix == ".json":
                loads_strict(text)
            else:
                for line in text.splitlines():
                    if line.strip():
                        loads_strict(line)
        except (NotJSON, ValueError) as exc:
            bad.append(f"{f}: {exc}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and checked:
        reporter.write_line("")
        reporter.write_line(f"strict JSON: {checked} files the suite wrote, {len(bad)} not valid")
    if bad:
        for line in bad[:20]:
            reporter.write_line(f"  {line}") if reporter else print(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

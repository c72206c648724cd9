"""Facts about where a step runs: the torch device, the git revision, the hardware (for run.json)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from .errors import JerichoError


def pick_device(name: str):
    """auto -> cuda if present, else cpu; asking for cuda without one is an error, not a fallback."""
    import torch  # here, not at the top: score and split never load torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise JerichoError(f"device {name!r} asked for, but torch sees no CUDA device")
    try:
        return torch.device(name)
    except RuntimeError:
        raise JerichoError(f"unknown device {name!r} (auto, cpu, cuda, cuda:N)") from None


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=5).stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device) -> dict:
    import torch

    return {"cpu": cpu_model(), "nproc": os.cpu_count(), "threads": torch.get_num_threads(),
            "device": str(device),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "torch": torch.__version__, "python": platform.python_version()}


MAX_JOBS = 256  # worker processes: each holds a Python interpreter and its arrays (~100 MB and up)


def check_jobs(jobs: int) -> int:
    """--jobs in [1, MAX_JOBS], or a one-line error."""
    if not 1 <= jobs <= MAX_JOBS:
        raise JerichoError(f"--jobs must be in [1, {MAX_JOBS}], got {jobs}")
    return jobs


def die_with_parent() -> None:
    """Worker-process initializer: a parent killed with SIGKILL takes its workers with it (Linux).

    Without it, ProcessPoolExecutor workers of a killed `synth --jobs N` sleep on forever."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: workers still exit when the parent's pipes close
        pass

"""Which Python runs the diffusion worker, and the environment it runs in. Never imports torch: the check runs
in a subprocess, because Blender's own Python has no torch."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from .errors import WorkerUnavailableError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the extension's root: holds diffusion/ and factors/
PACKAGE = "blurd"
WORKER_MODULE = f"{PACKAGE}.diffusion.worker"
IMPORT_CHECK = f"import torch, diffusers, transformers, {WORKER_MODULE}.server"


def can_run_worker(python: str, timeout: float = 120.0) -> tuple[bool, str]:
    """Whether ``python`` can import torch and diffusers (checked in a subprocess: Blender never imports torch)."""
    try:
        run = subprocess.run([python, "-c", IMPORT_CHECK], capture_output=True, text=True, timeout=timeout,
                             env=worker_environment(os.environ))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{python}: {exc}"
    return run.returncode == 0, (run.stderr.strip().splitlines() or [""])[-1]


def worker_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment: ``base`` plus, for an installed extension (whose folder is named ``blurd``), its
    parent folder on PYTHONPATH, so the worker imports ``blurd`` the standard way. A clone is installed into the
    worker's Python instead (scripts/setup.sh: ``pip install -e .``)."""
    env = dict(base)
    if PACKAGE_ROOT.name == PACKAGE:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT.parent), env.get("PYTHONPATH", "")) if p)
    return env


PYTHON_ENV = "BLURD_WORKER_PYTHON"  # headless runs (batch.py) name the worker interpreter here


def default_python(configured: str | None = None) -> str:
    """The worker interpreter: the configured one, else $BLURD_WORKER_PYTHON, else this interpreter when it can
    import torch and diffusers."""
    configured = configured or os.environ.get(PYTHON_ENV) or None
    if configured:
        path = str(Path(configured).expanduser())
        ok, why = can_run_worker(path)
        if not ok:
            raise WorkerUnavailableError(
                f"the worker Python '{path}' cannot import torch, diffusers and blurd ({why}); run 'Set up worker "
                f"environment' in the BLURD preferences or point 'Worker Python' (or ${PYTHON_ENV}) at an "
                "interpreter that has them"
            )
        return path
    ok, why = can_run_worker(sys.executable)
    if not ok:
        raise WorkerUnavailableError(
            f"this Python ({sys.executable}) cannot import torch, diffusers and blurd ({why}); set 'Worker Python' "
            f"in the BLURD preferences (or ${PYTHON_ENV} for batch.py), or run 'Set up worker environment' there"
        )
    return sys.executable

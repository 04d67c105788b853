"""The shard of a Slurm array task: ``sbatch --array`` runs one task per shard, each sweeping its part of the grid.

Slurm numbers array tasks ``SLURM_ARRAY_TASK_MIN..MAX`` (step ``SLURM_ARRAY_TASK_STEP``) and counts them in
``SLURM_ARRAY_TASK_COUNT``; task k of that range sweeps shard ``(k - min) / step`` of ``count``. Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping

from .grid import GridError, parse_shard

TASK_ID = "SLURM_ARRAY_TASK_ID"
TASK_COUNT = "SLURM_ARRAY_TASK_COUNT"
TASK_MIN = "SLURM_ARRAY_TASK_MIN"
TASK_STEP = "SLURM_ARRAY_TASK_STEP"


def _whole(environ: Mapping[str, str], name: str, default: int | None = None) -> int:
    text = environ.get(name)
    if text is None and default is not None:
        return default
    try:
        return int(str(text))
    except ValueError:
        raise GridError(f"${name} = {text!r} is not a whole number; run under `sbatch --array` or pass --shard i/n"
                        ) from None


def requested_shard(text: str | None, environ: Mapping[str, str]) -> tuple[int, int] | None:
    """The shard a command line asks for: ``--shard i/n`` when given, else the Slurm array task (sbatch --array),
    else None (the whole grid)."""
    return parse_shard(text) if text else array_shard(environ)


def array_shard(environ: Mapping[str, str]) -> tuple[int, int] | None:
    """(i, n) for the Slurm array task in ``environ``; None outside an array job.

    A task list Slurm cannot express as min + k * step (``--array=1,5,6``) is an error naming the fix, since its
    tasks would not cover the grid.
    """
    if TASK_ID not in environ or TASK_COUNT not in environ:
        return None
    task, count = _whole(environ, TASK_ID), _whole(environ, TASK_COUNT)
    first, step = _whole(environ, TASK_MIN, 0), _whole(environ, TASK_STEP, 1)
    offset = task - first
    if count < 1 or step < 1 or offset < 0 or offset % step or offset // step >= count:
        raise GridError(f"Slurm array task {task} (min {first}, step {step}, count {count}) is not one of an evenly "
                        f"spaced range; submit with --array=0-{max(count, 1) - 1} or pass --shard i/n yourself")
    return offset // step, count

"""Errors of the distributed engine; each names the thing and the fix."""

from __future__ import annotations

from ..factors.errors import BlurdError


class ClusterError(BlurdError):
    """A Ray cluster that cannot run the preset: unreachable, Ray not installed, too few CPUs or GPUs."""


class WorkerStartError(BlurdError):
    """A pool of workers that cannot start (the scene does not build, a model is missing)."""

"""Errors of the benchmark: each message names the thing that is wrong and how to fix it."""

from __future__ import annotations

from ._core import BlurdError


class BenchmarkError(BlurdError):
    """A dataset folder, model, device or option the benchmark cannot use as given."""

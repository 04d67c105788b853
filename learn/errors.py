"""Errors of the segmentation experiment: each message names the thing that is wrong and how to fix it."""

from __future__ import annotations

from ..factors.errors import BlurdError


class LearnError(BlurdError):
    """A dataset folder, test set, model, checkpoint or option the experiment cannot use as given."""

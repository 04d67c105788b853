"""Errors of the diffusion stage. Each message names the thing that went wrong and how to fix it."""

from __future__ import annotations

from .core import BlurdError


class DiffusionError(BlurdError):
    """Base of the diffusion stage's user-facing errors."""


class ModelNotFoundError(DiffusionError):
    """A configured model (base, ControlNet, colour conditioner) is missing, unreadable or not safetensors."""


class WorkerUnavailableError(DiffusionError):
    """No Python interpreter that can import torch and diffusers was found or configured."""


class WorkerCrashedError(DiffusionError):
    """The worker process died while a request was running; the next request starts a fresh worker."""


class RequestFailedError(DiffusionError):
    """The worker reported an error for a request; ``kind`` and ``worker_traceback`` say where and why."""

    def __init__(self, message: str, kind: str = "error", worker_traceback: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.worker_traceback = worker_traceback


class RequestCancelledError(DiffusionError):
    """The request was cancelled before it finished (no output was written for the unfinished images)."""


class ProtocolError(DiffusionError):
    """A line on the worker protocol that is not a valid message."""

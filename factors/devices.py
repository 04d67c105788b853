"""Choosing the torch device, the one picker of the worker, the benchmark and the learning code: ``auto`` is CUDA,
then Apple MPS, then the CPU; an explicit choice must exist here.

Pure Python: the caller passes its ``torch`` module in, so this package never imports torch itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .errors import BlurdError


class DeviceError(BlurdError):
    """A device that does not exist on this machine, or is not a device at all."""


class DeviceChoice(StrEnum):
    AUTO = "auto"
    CUDA = "cuda"
    MPS = "mps"
    CPU = "cpu"


def resolve_device(choice: str | DeviceChoice, torch: Any) -> str:
    """The torch device string ("cuda", "cuda:1", "mps" or "cpu") for ``choice``; DeviceError naming the fix."""
    text = str(choice.value if isinstance(choice, DeviceChoice) else choice).strip().lower()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    base, _, index = text.partition(":")
    if text == DeviceChoice.AUTO:
        return "cuda" if torch.cuda.is_available() else ("mps" if mps_ok else "cpu")
    if text == DeviceChoice.CPU:
        return "cpu"
    if base == DeviceChoice.CUDA and (not index or index.isdigit()):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {text!r}: torch {torch.__version__} sees no CUDA GPU here; "
                              "use device cpu, or auto to pick what is there")
        if int(index or 0) >= torch.cuda.device_count():
            raise DeviceError(f"device {text!r}: only {torch.cuda.device_count()} CUDA device(s); "
                              "use cuda:0 .. cuda:N-1")
        return text
    if text == DeviceChoice.MPS:
        if not mps_ok:
            raise DeviceError("device 'mps': Apple MPS is not available here; use device cpu or auto")
        return "mps"
    raise DeviceError(f"unknown device {text!r}; use one of auto, cuda, cuda:N, mps, cpu")

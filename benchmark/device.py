"""Choosing the torch device: auto picks CUDA, then Apple MPS, then the CPU; an explicit choice must exist."""

from __future__ import annotations

from enum import StrEnum

from .errors import BenchmarkError


class DeviceChoice(StrEnum):
    AUTO = "auto"
    CUDA = "cuda"
    MPS = "mps"
    CPU = "cpu"


def resolve_device(choice: str | DeviceChoice) -> str:
    """The torch device string for ``choice`` ("cuda", "cuda:1", "mps", "cpu" or "auto")."""
    import torch

    text = str(choice.value if isinstance(choice, DeviceChoice) else choice).strip().lower()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if text == DeviceChoice.AUTO.value:
        return "cuda" if torch.cuda.is_available() else ("mps" if mps_ok else "cpu")
    if text == DeviceChoice.CPU.value:
        return "cpu"
    if text.split(":")[0] == DeviceChoice.CUDA.value:
        if not torch.cuda.is_available():
            raise BenchmarkError(f"device {text!r}: torch {torch.__version__} sees no CUDA GPU; "
                                 "use --device cpu, or --device auto to pick what is there")
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise BenchmarkError(f"device {text!r}: only {torch.cuda.device_count()} CUDA device(s); "
                                 "use cuda:0 .. cuda:N-1")
        return text
    if text == DeviceChoice.MPS.value:
        if not mps_ok:
            raise BenchmarkError("device 'mps': Apple MPS is not available here; use --device cpu or auto")
        return "mps"
    raise BenchmarkError(f"unknown device {text!r}; use one of auto, cuda, cuda:N, mps, cpu")

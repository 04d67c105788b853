"""Render and output settings held by a preset (pure Python dataclasses; validated by the preset reader)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Device(StrEnum):
    """Cycles compute device; GPU falls back to CPU with a warning when none is available."""

    CPU = "CPU"
    GPU = "GPU"


class HumanModel(StrEnum):
    """Which built-in human the scene builder makes: the realistic MakeHuman (CC0) one, or the formula-sculpted
    low-poly human kept for the paper's low-poly-assets ablation."""

    MAKEHUMAN = "makehuman"
    LOWPOLY = "lowpoly"


@dataclass(frozen=True)
class RenderSettings:
    """How each sample is rendered. Defaults suit a quick look; datasets raise resolution and samples."""

    resolution: tuple[int, int] = (256, 256)  # width, height in pixels
    samples: int = 32  # Cycles path-tracing samples per pixel
    denoise: bool = False  # OpenImageDenoise on the rgb pass: off, since it spreads a colour change beyond its part
    device: Device = Device.CPU
    threads: int = 0  # 0 = all cores
    palette_cells: int = 8  # spatial palette grid: cells along the short side
    transparent_background: bool = False
    human: HumanModel = HumanModel.MAKEHUMAN  # the built-in human (a user's own rig ignores it)


@dataclass(frozen=True)
class OutputSettings:
    """Dataset folder options: what each sample keeps and what the sweep writes beside it."""

    folder: str = ""  # dataset folder relative to the sweep's --out folder ("" = --out itself); never escapes it
    contact_sheet: bool = True
    contact_sheet_max: int = 64  # most thumbnails on one sheet
    thumbnail_size: int = 160
    keep_depth_exr: bool = True
    extra: dict = field(default_factory=dict)

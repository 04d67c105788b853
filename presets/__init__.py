"""Preset files: factor values, the grid, render, diffusion and output settings (pure Python: no bpy, no torch).

Shipped presets live beside this module (``quick.toml``, ``blurd3d.toml``, ``blurd_mask.toml``); the format is
documented in docs/presets.md.
"""

from pathlib import Path

from .reader import FORMAT_VERSION, Preset, RawDiffusionSettings, load_preset, loads_preset, with_factors
from .settings import Device, OutputSettings, RenderSettings
from .writer import dump_preset, write_preset

PRESETS_DIR = Path(__file__).resolve().parent
SHIPPED_PRESETS: tuple[str, ...] = ("quick", "blurd3d", "blurd_mask")


def shipped_preset_path(name: str) -> Path:
    """The file of a preset shipped with BLURD, e.g. ``shipped_preset_path("quick")``."""
    return PRESETS_DIR / f"{name}.toml"


__all__ = [
    "FORMAT_VERSION",
    "PRESETS_DIR",
    "SHIPPED_PRESETS",
    "Device",
    "OutputSettings",
    "Preset",
    "RawDiffusionSettings",
    "RenderSettings",
    "dump_preset",
    "load_preset",
    "loads_preset",
    "shipped_preset_path",
    "with_factors",
    "write_preset",
]

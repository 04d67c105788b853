"""The dataset folder layout: where every pass, output and manifest lives. One table, read by all stages.

A dataset folder looks like::

    OUT/preset.toml            the preset the sweep ran (reproduces the dataset)
    OUT/manifest.jsonl         one JSON row per complete sample (appended as samples finish)
    OUT/contact_sheet.png      rgb thumbnails labelled with their factors
    OUT/samples/<id>/...       one folder per sample, files below

A sample is complete when its ``sample.json`` exists; every file is written to a temporary name and renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path

SAMPLES_DIR = "samples"
MANIFEST = "manifest.jsonl"
CONTACT_SHEET = "contact_sheet.png"
PRESET_COPY = "preset.toml"
SAMPLE_JSON = "sample.json"
MASKS_DIR = "masks"
TMP_PREFIX = ".tmp-"  # temporary names start with this; a resumed sweep deletes them


class PassKind(StrEnum):
    """What a pass file holds, so readers know how to decode it."""

    RGB = "rgb"  # 8-bit sRGB PNG
    FLOAT = "float"  # 32-bit single-channel OpenEXR
    GREY = "grey"  # 8-bit single-channel PNG
    MASK = "mask"  # 8-bit PNG, 0 or 255
    LABEL = "label"  # 8-bit PNG of class ids
    JSON = "json"


@dataclass(frozen=True)
class PassFile:
    """One file that one render call writes into a sample folder."""

    name: str
    filename: str
    kind: PassKind
    description: str


PASSES: tuple[PassFile, ...] = (
    PassFile("rgb", "rgb.png", PassKind.RGB, "Cycles path-traced image"),
    PassFile("depth_exr", "depth.exr", PassKind.FLOAT, "metric planar depth in metres; background 1e10"),
    PassFile("depth", "depth.png", PassKind.GREY, "ControlNet depth: inverse depth, near bright, bg 0"),
    PassFile("normal", "normal.png", PassKind.RGB, "camera-space normals, NormalBAE ControlNet 1.1 convention"),
    PassFile("label", "label.png", PassKind.LABEL, "class ids, see LABELS"),
    PassFile("palette", "palette.png", PassKind.RGB, "spatial colour palette: coarse cells upsampled nearest"),
)
PASS_BY_NAME = {p.name: p for p in PASSES}


class Label(int, Enum):
    """Class ids of label.png (BLURD Mask, remappable to CelebAMask-HQ)."""

    BACKGROUND = 0
    SKIN = 1
    EYES = 2
    EYEBROWS = 3
    LIPS = 4
    HAIR = 5
    CLOTH = 6


@dataclass(frozen=True)
class Part:
    """A part of the subject with its own mask, its label class and the object pass index that marks it."""

    name: str
    label: Label
    pass_index: int


# pass_index 0 is reserved for "no object" (the background).
PARTS: tuple[Part, ...] = (
    Part("skin", Label.SKIN, 1),
    Part("eyes", Label.EYES, 2),
    Part("eyebrows", Label.EYEBROWS, 3),
    Part("lips", Label.LIPS, 4),
    Part("hair", Label.HAIR, 5),
    Part("beard", Label.HAIR, 6),
    Part("shirt", Label.CLOTH, 7),
    Part("tie", Label.CLOTH, 8),
    Part("background", Label.BACKGROUND, 0),
)
PART_BY_NAME = {p.name: p for p in PARTS}


def mask_filename(part: str) -> str:
    """The path of a part's mask relative to the sample folder."""
    return f"{MASKS_DIR}/{part}.png"


def diffusion_filename(mode: str, suffix: str = "png") -> str:
    """The file a diffusion mode writes beside the render: ``sd_<mode>.png`` and ``sd_<mode>.json``."""
    return f"sd_{mode}.{suffix}"


def sample_dir(out: Path, sample_id: str) -> Path:
    return Path(out) / SAMPLES_DIR / sample_id


def is_complete(folder: Path) -> bool:
    """A sample is complete once its sample.json exists (it is written last)."""
    return (Path(folder) / SAMPLE_JSON).is_file()

"""The dataset folder layout: where every pass, output, lock and manifest lives. One table, read by all stages.

A dataset folder looks like::

    OUT/preset.toml            the preset the sweep ran (reproduces the dataset); preset.json for JSON presets
    OUT/manifest.jsonl         one JSON row per complete sample (appended as samples finish)
    OUT/contact_sheet.png      rgb thumbnails labelled with their factors
    OUT/.blurd.lock            the dataset lock (short critical sections: manifest, preset copy, clean-up)
    OUT/.locks/<id>.lock       one sample's lock while a process renders it
    OUT/samples/<id>/...       one folder per sample: the files of PASSES, masks/<part>.png, sample.json,
                               sd_<mode>.png + sd_<mode>.json per diffusion mode

A sample is complete when its sample.json exists and every file it lists exists (``record.is_complete``); every
file is written to a ``TMP_PREFIX`` name and renamed into place (``files``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..factors.parts import PARTS
from .errors import DatasetError

SAMPLES_DIR = "samples"
MANIFEST = "manifest.jsonl"
CONTACT_SHEET = "contact_sheet.png"
PRESET_COPY = "preset.toml"
PRESET_COPY_JSON = "preset.json"
SAMPLE_JSON = "sample.json"
MASKS_DIR = "masks"
LOCK_FILE = ".blurd.lock"
LOCKS_DIR = ".locks"
TMP_PREFIX = ".tmp-"  # temporary names start with this; a resumed sweep deletes those of dead writers
RAW_DIR = f"{TMP_PREFIX}raw"  # Blender's raw render output inside a sample folder, deleted once read
DIFFUSION_PREFIX = "sd_"
EXPORTS_DIR = "exports"
CACHE_DIR = ".cache"

# Sample ids are file names inside the dataset and inside exports (tar members, imagefolder files): anything read
# from a dataset must match this before it names a file. BLURD writes 16 hex digits; users' tools may use more.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


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
    PassFile("label", "label.png", PassKind.LABEL, "class ids, see factors.parts.Label"),
    PassFile("palette", "palette.png", PassKind.RGB, "spatial colour palette: coarse cells upsampled nearest"),
)
PASS_BY_NAME = {p.name: p for p in PASSES}
RGB = PASS_BY_NAME["rgb"].filename  # the render every consumer shows


def pass_filename(name: str) -> str:
    """The file of pass ``name`` (a key of PASS_BY_NAME) relative to the sample folder."""
    return PASS_BY_NAME[name].filename


def mask_filename(part: str) -> str:
    """The path of a part's mask relative to the sample folder."""
    return f"{MASKS_DIR}/{part}.png"


def diffusion_filename(mode: str, suffix: str = "png") -> str:
    """The file a diffusion mode writes beside the render: ``sd_<mode>.png`` and ``sd_<mode>.json``."""
    return f"{DIFFUSION_PREFIX}{mode}.{suffix}"


def diffusion_mode_of(filename: str) -> str | None:
    """The mode whose image ``filename`` is (``sd_<mode>.png``), None for any other file."""
    if filename.startswith(TMP_PREFIX) or not filename.startswith(DIFFUSION_PREFIX) or not filename.endswith(".png"):
        return None
    mode = filename[len(DIFFUSION_PREFIX):-len(".png")]
    return mode if SAFE_NAME.fullmatch(mode) else None


def sample_files(keep_depth_exr: bool = True) -> dict[str, str]:
    """sample.json's ``passes`` map: pass name -> file relative to the sample folder, every mask included."""
    files = {p.name: p.filename for p in PASSES if keep_depth_exr or p.name != "depth_exr"}
    files.update({f"mask_{part.name}": mask_filename(part.name) for part in PARTS})
    return files


def preset_copy_name(preset_path: Path) -> str:
    return PRESET_COPY_JSON if Path(preset_path).suffix.lower() == ".json" else PRESET_COPY


def is_safe_name(name: object) -> bool:
    """True when ``name`` may name a file: no separators, no ``..``, no leading dot, no control characters."""
    return isinstance(name, str) and SAFE_NAME.fullmatch(name) is not None


def check_safe_name(name: object, what: str = "sample id") -> str:
    """``name`` itself, or DatasetError when it could escape its folder (``../x``, ``a/b``, a NUL...)."""
    if not is_safe_name(name):
        raise DatasetError(f"{what} {name!r} is not a safe file name (letters, digits, '_' and '-' only); "
                           f"the dataset was edited or written by another tool: fix or remove that sample")
    return name  # type: ignore[return-value]


def samples_root(out: Path) -> Path:
    return Path(out) / SAMPLES_DIR


def sample_dir(out: Path, sample_id: str) -> Path:
    """``OUT/samples/<id>``; the id is checked, so no id read from a file can point outside the dataset."""
    return samples_root(out) / check_safe_name(sample_id)


def sample_lock_path(out: Path, sample_id: str) -> Path:
    return Path(out) / LOCKS_DIR / f"{check_safe_name(sample_id)}.lock"

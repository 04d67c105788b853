"""CelebAMask-HQ as a test set: its published folder layout and the remap of its 19 classes onto BLURD's 7.

The published layout (Lee et al., MaskGAN, CVPR 2020), as unpacked from ``CelebAMask-HQ.zip``::

    CelebAMask-HQ/CelebA-HQ-img/<id>.jpg                                  30,000 photographs, 1024x1024
    CelebAMask-HQ/CelebAMask-HQ-mask-anno/<id // 2000>/<id:05d>_<part>.png  one binary mask per part, 512x512
    CelebAMask-HQ/CelebA-HQ-to-CelebA-mapping.txt                          (only for --test-split)

A part with no pixels has no file. The 19 classes are background plus the 18 parts of ``PARTS``; the authors'
``g_mask.py`` paints the parts in that order, a later part over an earlier one, and so do we before remapping.
Nothing of the dataset ships with BLURD: its licence is non-commercial research and education only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from ..factors.parts import Label
from .classes import IGNORE
from .errors import LearnError

ROOT_NAME = "CelebAMask-HQ"
IMAGE_DIR = "CelebA-HQ-img"
MASK_DIR = "CelebAMask-HQ-mask-anno"
MAPPING_FILE = "CelebA-HQ-to-CelebA-mapping.txt"
PARTITION_FILE = "list_eval_partition.txt"  # from CelebA (not in the CelebAMask-HQ zip)
IMAGES_PER_MASK_FOLDER = 2000
DOWNLOAD_HINT = "see docs/learn.md for how to obtain CelebAMask-HQ (research-only licence)"

# The authors' class order (g_mask.py): label id = position + 1, background = 0; later parts paint over earlier ones.
PARTS: tuple[str, ...] = ("skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear", "mouth",
                          "u_lip", "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth")
CELEBA_CLASSES: tuple[str, ...] = ("background", *PARTS)  # the 19 classes, index = CelebAMask-HQ label id

# CelebAMask-HQ class -> BLURD class. None = ignored (no loss, no IoU): accessories the BLURD human never wears, so
# no BLURD class is right for them (glasses, hat, earrings, necklace). BLURD's skin is the whole body mesh, so nose,
# ears and neck are skin; "mouth" is the opening between the lips, which BLURD's closed mouth draws as lips.
REMAP: dict[str, Label | None] = {
    "background": Label.BACKGROUND,
    "skin": Label.SKIN,
    "nose": Label.SKIN,
    "eye_g": None,
    "l_eye": Label.EYES,
    "r_eye": Label.EYES,
    "l_brow": Label.EYEBROWS,
    "r_brow": Label.EYEBROWS,
    "l_ear": Label.SKIN,
    "r_ear": Label.SKIN,
    "mouth": Label.LIPS,
    "u_lip": Label.LIPS,
    "l_lip": Label.LIPS,
    "hair": Label.HAIR,
    "hat": None,
    "ear_r": None,
    "neck_l": None,
    "neck": Label.SKIN,
    "cloth": Label.CLOTH,
}


def remap_lut() -> np.ndarray:
    """A 256-entry lookup table: CelebAMask-HQ label id -> BLURD class id (IGNORE for None and unknown ids)."""
    lut = np.full(256, IGNORE, dtype=np.uint8)
    for celeba_id, name in enumerate(CELEBA_CLASSES):
        target = REMAP[name]
        lut[celeba_id] = IGNORE if target is None else int(target)
    return lut


class Split(StrEnum):
    """CelebA's partition of the photographs (list_eval_partition.txt: 0 train, 1 val, 2 test), or all of them."""

    ALL = "all"
    TRAIN = "train"
    VAL = "val"
    TEST = "test"


PARTITION_CODE = {Split.TRAIN: "0", Split.VAL: "1", Split.TEST: "2"}


@dataclass(frozen=True)
class CelebaItem:
    """One photograph and its mask files, in PARTS order (absent parts are left out)."""

    id: int
    image: Path
    masks: tuple[tuple[str, Path], ...]

    @property
    def name(self) -> str:
        return f"{self.id:05d}"

    def celeba_label(self) -> np.ndarray:
        """The 19-class label map (uint8, mask resolution), painted as g_mask.py does."""
        from PIL import Image

        label: np.ndarray | None = None
        for part, path in self.masks:
            with Image.open(path) as im:
                arr = np.asarray(im)
            if arr.ndim == 3:
                arr = arr[..., 0]
            if label is None:
                label = np.zeros(arr.shape, dtype=np.uint8)
            if arr.shape != label.shape:
                raise LearnError(f"{path}: mask is {arr.shape[1]}x{arr.shape[0]} but the other masks of image "
                                 f"{self.id} are {label.shape[1]}x{label.shape[0]}; re-extract the dataset")
            label[arr != 0] = PARTS.index(part) + 1
        assert label is not None  # open_celeba keeps only images with at least one mask file
        return label

    def label(self) -> np.ndarray:
        """The BLURD 7-class label map (uint8; IGNORE where REMAP says None)."""
        return remap_lut()[self.celeba_label()]


def find_root(path: Path) -> Path:
    """The folder holding CelebA-HQ-img/ (``path`` itself, or its CelebAMask-HQ/ subfolder)."""
    path = Path(path).expanduser()
    if not (path / IMAGE_DIR).is_dir() and (path / ROOT_NAME / IMAGE_DIR).is_dir():
        return path / ROOT_NAME
    return path


def looks_like_celeba(path: Path) -> bool:
    root = find_root(path)
    return (root / IMAGE_DIR).is_dir() or (root / MASK_DIR).is_dir()


def _check_layout(root: Path) -> None:
    if not root.is_dir():
        raise LearnError(f"CelebAMask-HQ folder {root} does not exist; pass the unpacked CelebAMask-HQ/ folder "
                         f"({DOWNLOAD_HINT})")
    missing = [name + "/" for name in (IMAGE_DIR, MASK_DIR) if not (root / name).is_dir()]
    if missing:
        raise LearnError(f"{root} is not in the CelebAMask-HQ layout: {' and '.join(missing)} missing (expected "
                         f"{IMAGE_DIR}/<id>.jpg and {MASK_DIR}/<0..14>/<id:05d>_<part>.png); {DOWNLOAD_HINT}")


_MASK_NAME = re.compile(r"^(\d{5})_([a-z_]+)\.png$")


def _mask_index(mask_root: Path) -> dict[int, dict[str, Path]]:
    """Every mask file under the numbered folders, by image id and part (one directory listing per folder)."""
    index: dict[int, dict[str, Path]] = {}
    for folder in sorted(p for p in mask_root.iterdir() if p.is_dir() and p.name.isdigit()):
        for entry in os.scandir(folder):
            match = _MASK_NAME.match(entry.name)
            if match and match.group(2) in PARTS:
                image_id = int(match.group(1))
                if image_id // IMAGES_PER_MASK_FOLDER == int(folder.name):
                    index.setdefault(image_id, {})[match.group(2)] = Path(entry.path)
    return index


def _split_ids(root: Path, split: Split, partition_file: Path | None) -> set[int]:
    mapping = root / MAPPING_FILE
    partition = Path(partition_file) if partition_file else root / PARTITION_FILE
    missing = [str(p) for p in (mapping, partition) if not p.is_file()]
    if missing:
        raise LearnError(f"--test-split {split.value} needs {' and '.join(missing)}: {MAPPING_FILE} comes with "
                         f"CelebAMask-HQ, {PARTITION_FILE} with CelebA (Eval/ folder); pass it with --partition-file, "
                         "or use --test-split all")
    code_by_file = {}
    for line in partition.read_text(encoding="utf-8").split("\n"):
        fields = line.split()
        if len(fields) == 2:
            code_by_file[fields[0]] = fields[1]
    ids: set[int] = set()
    for line in mapping.read_text(encoding="utf-8").split("\n")[1:]:
        fields = line.split()
        if len(fields) == 3 and fields[0].isdigit() and code_by_file.get(fields[2]) == PARTITION_CODE[split]:
            ids.add(int(fields[0]))
    if not ids:
        raise LearnError(f"no photograph of {root} is in CelebA's {split.value} partition according to {mapping} and "
                         f"{partition}; check both files")
    return ids


def open_celeba(path: Path, split: Split | str = Split.ALL, partition_file: Path | None = None) -> list[CelebaItem]:
    """The photographs of a CelebAMask-HQ folder with their mask files, in id order; checks the layout first."""
    root = find_root(Path(path))
    _check_layout(root)
    split = Split(split)
    images = {}
    for entry in os.scandir(root / IMAGE_DIR):
        stem, ext = os.path.splitext(entry.name)
        if stem.isdigit() and ext.lower() in (".jpg", ".jpeg", ".png"):
            images[int(stem)] = Path(entry.path)
    if not images:
        raise LearnError(f"{root / IMAGE_DIR} holds no <id>.jpg photograph; re-extract CelebAMask-HQ ({DOWNLOAD_HINT})")
    if split is not Split.ALL:
        keep = _split_ids(root, split, partition_file)
        images = {i: p for i, p in images.items() if i in keep}
    masks = _mask_index(root / MASK_DIR)
    unlabelled = sorted(i for i in images if i not in masks)
    if unlabelled:
        first = ", ".join(f"{IMAGE_DIR}/{images[i].name} -> {MASK_DIR}/{i // IMAGES_PER_MASK_FOLDER}/{i:05d}_*.png"
                          for i in unlabelled[:3])
        raise LearnError(f"{len(unlabelled)} of {len(images)} photographs in {root} have no mask file (first: "
                         f"{first}); the mask archive is incomplete, re-extract {MASK_DIR}/")
    return [CelebaItem(i, images[i], tuple((part, masks[i][part]) for part in PARTS if part in masks[i]))
            for i in sorted(images)]

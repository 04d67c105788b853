"""Labelled images: the training pairs of a BLURD dataset folder and the three kinds of test set.

A training source is the stem of an image file in each sample folder: ``rgb`` (the Cycles render, BLURD 3D) or
``sd_<mode>`` (a diffusion output, BLURD SD), always paired with the sample's ``label.png``. A test set is
CelebAMask-HQ in its published layout, a folder of ``images/`` + ``labels/`` (BLURD class ids, same stems), or another
BLURD dataset folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np

from ..benchmark.dataset import RENDER, DatasetFolder, load_dataset
from ..benchmark.errors import BenchmarkError
from ..dataset import layout
from ..dataset.layout import DIFFUSION_PREFIX
from . import celeba
from .classes import IGNORE, NUM_CLASSES
from .errors import LearnError

RGB_SOURCE = "rgb"
LABEL_FILE = layout.pass_filename("label")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
PAIRS_IMAGES = "images"
PAIRS_LABELS = "labels"


class LabelledImage(Protocol):
    """Anything with a name, an image file and a BLURD label map (uint8 class ids, IGNORE allowed)."""

    @property
    def name(self) -> str: ...

    @property
    def image(self) -> Path: ...

    def label(self) -> np.ndarray: ...


def read_label_png(path: Path) -> np.ndarray:
    """A BLURD label map: an 8-bit single-channel PNG of class ids 0..6 (255 = ignore)."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("L", "P", "I", "I;16"):
            raise LearnError(f"{path}: a label map must be a single-channel PNG of class ids, not mode {im.mode}; "
                             "write it with Image.fromarray(uint8 array)")
        arr = np.asarray(im).astype(np.int64)
    bad = (arr >= NUM_CLASSES) & (arr != IGNORE)
    if bad.any():
        raise LearnError(f"{path}: class id {int(arr[bad][0])} is not a BLURD class (0..{NUM_CLASSES - 1}, "
                         f"{IGNORE} = ignore); see docs/learn.md for the classes")
    return arr.astype(np.uint8)


@dataclass(frozen=True)
class LabelFile:
    """An image file paired with a BLURD label-map file."""

    name: str
    image: Path
    label_path: Path

    def label(self) -> np.ndarray:
        return read_label_png(self.label_path)


def check_source(source: str) -> str:
    if source == RGB_SOURCE or (source.startswith(DIFFUSION_PREFIX) and len(source) > len(DIFFUSION_PREFIX)):
        return source
    raise LearnError(f"unknown source {source!r}: use 'rgb' (the render, BLURD 3D) or 'sd_<mode>' (a diffusion "
                     "output such as sd_harbinger, BLURD SD)")


def dataset_sources(ds: DatasetFolder) -> list[str]:
    """The training sources present in a dataset folder, as file stems: rgb, sd_<mode>, ..."""
    return [RGB_SOURCE if s == RENDER else DIFFUSION_PREFIX + s for s in ds.sources()]


def _benchmark_source(source: str) -> str:
    return RENDER if source == RGB_SOURCE else source[len(DIFFUSION_PREFIX):]


def blurd_pairs(ds: DatasetFolder, source: str, only_ids: set[str] | None = None) -> list[LabelFile]:
    """The (source image, label.png) pairs of a dataset folder, in sample-id order; errors name the fix."""
    check_source(source)
    present = dataset_sources(ds)
    if source not in present:
        mode = source[len(DIFFUSION_PREFIX):]
        fix = f"run the sweep with --diffuse {mode}" if source != RGB_SOURCE else "check the folder"
        raise LearnError(f"source {source!r} is not in {ds.root}; it has: {', '.join(present) or 'nothing'} ({fix})")
    pairs = [LabelFile(s.id, s.image_path(_benchmark_source(source)), s.dir / LABEL_FILE)
             for s in ds.with_source(_benchmark_source(source)) if only_ids is None or s.id in only_ids]
    unlabelled = [p for p in pairs if not p.label_path.is_file()]
    if unlabelled:
        raise LearnError(f"{len(unlabelled)} sample(s) of {ds.root} have no {LABEL_FILE} (first: "
                         f"{unlabelled[0].label_path.parent.name}); render them with a BLURD version that writes "
                         "label maps (re-run the sweep into a new folder)")
    return pairs


def load_blurd_dataset(dataset: Path | str) -> DatasetFolder:
    """The complete samples of a dataset folder (the benchmark's reader), errors as LearnError."""
    try:
        return load_dataset(dataset)
    except BenchmarkError as exc:
        raise LearnError(str(exc)) from exc


def open_training_set(dataset: Path | str, source: str) -> list[LabelFile]:
    return blurd_pairs(load_blurd_dataset(dataset), source)


def folder_pairs(root: Path) -> list[LabelFile]:
    """A folder of ``images/<name>.<ext>`` and ``labels/<name>.png`` (BLURD class ids), matched by name."""
    root = Path(root).expanduser()
    missing = [name + "/" for name in (PAIRS_IMAGES, PAIRS_LABELS) if not (root / name).is_dir()]
    if missing:
        raise LearnError(f"{root} is not an image + label folder: {' and '.join(missing)} missing (expected "
                         f"{PAIRS_IMAGES}/<name>.jpg|png and {PAIRS_LABELS}/<name>.png with BLURD class ids)")
    images = {p.stem: p for p in sorted((root / PAIRS_IMAGES).iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    labels = {p.stem: p for p in sorted((root / PAIRS_LABELS).iterdir()) if p.suffix.lower() == ".png"}
    unlabelled = sorted(set(images) - set(labels))
    if unlabelled or not images:
        what = f"no label for {len(unlabelled)} image(s) (first: {unlabelled[0]})" if unlabelled else "no image"
        raise LearnError(f"{root}: {what}; every {PAIRS_IMAGES}/<name>.* needs {PAIRS_LABELS}/<name>.png")
    return [LabelFile(name, images[name], labels[name]) for name in sorted(images)]


class EvalLayout(StrEnum):
    AUTO = "auto"
    CELEBAMASK_HQ = "celebamask-hq"
    FOLDER = "folder"  # images/ + labels/
    BLURD = "blurd"  # a BLURD dataset folder


@dataclass(frozen=True)
class EvalSet:
    """The labelled images a model is scored on, and where they came from."""

    root: Path
    format: EvalLayout
    items: Sequence[LabelledImage]

    @property
    def name(self) -> str:
        if self.format is EvalLayout.CELEBAMASK_HQ:
            return "CelebAMask-HQ"
        return self.root.name


def detect_format(path: Path) -> EvalLayout:
    path = Path(path).expanduser()
    if celeba.looks_like_celeba(path):
        return EvalLayout.CELEBAMASK_HQ
    if (path / layout.SAMPLES_DIR).is_dir():
        return EvalLayout.BLURD
    if (path / PAIRS_IMAGES).is_dir() or (path / PAIRS_LABELS).is_dir():
        return EvalLayout.FOLDER
    where = "" if path.is_dir() else "; the folder does not exist"
    raise LearnError(f"test set {path} is in no known layout: expected CelebAMask-HQ ({celeba.IMAGE_DIR}/ + "
                     f"{celeba.MASK_DIR}/), an image + label folder ({PAIRS_IMAGES}/ + {PAIRS_LABELS}/) or a BLURD "
                     f"dataset folder ({layout.SAMPLES_DIR}/){where}")


def open_test_set(path: Path | str, fmt: EvalLayout | str = EvalLayout.AUTO, *, source: str = RGB_SOURCE,
                  split: celeba.Split | str = celeba.Split.ALL, partition_file: Path | None = None,
                  limit: int | None = None) -> EvalSet:
    """The test set at ``path``; every layout problem is raised here, before any training starts."""
    path = Path(path).expanduser()
    fmt = EvalLayout(fmt)
    if fmt is EvalLayout.AUTO:
        fmt = detect_format(path)
    if fmt is EvalLayout.CELEBAMASK_HQ:
        items: Sequence[LabelledImage] = celeba.open_celeba(path, split, partition_file)
        path = celeba.find_root(path)
    elif fmt is EvalLayout.FOLDER:
        items = folder_pairs(path)
    else:
        items = open_training_set(path, check_source(source))
    if limit is not None:
        items = list(items)[:limit]
    return EvalSet(path.resolve(), fmt, items)

"""Reading a BLURD dataset folder: its complete samples, their factors and the image sources present.

The dataset is read from each sample's ``sample.json`` (the manifest may be partial while a sweep runs). A folder
without a readable sample.json with valid factors is skipped and listed in ``DatasetFolder.skipped``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._core import FACTOR_BY_NAME, BlurdError, layout, validate_assignment
from .errors import BenchmarkError

RENDER = "render"  # the Cycles render, "BLURD 3D"
RENDER_FILENAME = "rgb.png"
DIFFUSION_PREFIX = "sd_"
PAPER_MODES: tuple[str, ...] = ("unleashed", "tempered", "harbinger")  # display order; other modes follow sorted
PHOTOREAL_MODE = "harbinger"  # the full BLURD method: the target of the 3D-to-photo-real change


def source_filename(source: str) -> str:
    """The image file of an image source inside a sample folder: rgb.png or sd_<mode>.png."""
    return RENDER_FILENAME if source == RENDER else layout.diffusion_filename(source, "png")


def source_sort_key(source: str) -> tuple[int, int, str]:
    if source == RENDER:
        return (0, 0, source)
    if source in PAPER_MODES:
        return (1, PAPER_MODES.index(source), source)
    return (2, 0, source)


@dataclass(frozen=True)
class SampleRecord:
    """One complete sample: its id, folder and complete canonical factor assignment."""

    id: str
    dir: Path
    factors: Mapping[str, object]
    seed: int | None = None

    def image_path(self, source: str) -> Path:
        return self.dir / source_filename(source)

    def has_source(self, source: str) -> bool:
        path = self.image_path(source)
        return path.is_file() and path.stat().st_size > 0


@dataclass(frozen=True)
class SkippedSample:
    """A sample folder that was not used, and why."""

    dir: Path
    reason: str


@dataclass(frozen=True)
class DatasetFolder:
    """The complete samples of a dataset folder, in id order."""

    root: Path
    samples: tuple[SampleRecord, ...]
    skipped: tuple[SkippedSample, ...] = ()

    @property
    def name(self) -> str:
        return self.root.name

    def sources(self) -> list[str]:
        """The image sources at least one sample has: "render" and each diffusion mode, in display order."""
        found: set[str] = set()
        for s in self.samples:
            if s.has_source(RENDER):
                found.add(RENDER)
            for path in s.dir.glob(f"{DIFFUSION_PREFIX}*.png"):
                if not path.name.startswith(layout.TMP_PREFIX) and path.stat().st_size > 0:
                    found.add(path.stem[len(DIFFUSION_PREFIX):])
        return sorted(found, key=source_sort_key)

    def with_source(self, source: str) -> list[SampleRecord]:
        """The samples that have an image for ``source`` (a sample may lack a diffusion output)."""
        return [s for s in self.samples if s.has_source(source)]

    def by_id(self) -> dict[str, SampleRecord]:
        return {s.id: s for s in self.samples}


def _read_sample(folder: Path) -> SampleRecord | SkippedSample:
    if not layout.is_complete(folder):
        return SkippedSample(folder, f"no {layout.SAMPLE_JSON} (incomplete sample)")
    try:
        meta = json.loads((folder / layout.SAMPLE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return SkippedSample(folder, f"unreadable {layout.SAMPLE_JSON}: {exc}")
    if not isinstance(meta, dict) or not isinstance(meta.get("factors"), dict):
        return SkippedSample(folder, f"{layout.SAMPLE_JSON} has no 'factors' object")
    unknown = [k for k in meta["factors"] if k not in FACTOR_BY_NAME]
    known = {k: v for k, v in meta["factors"].items() if k in FACTOR_BY_NAME}
    try:
        factors = validate_assignment(known, complete=True)
    except BlurdError as exc:
        return SkippedSample(folder, f"invalid factors: {exc}")
    if unknown:
        return SkippedSample(folder, f"unknown factors {unknown} (written by a newer BLURD?)")
    seed = meta.get("seed")
    return SampleRecord(str(meta.get("id") or folder.name), folder, factors, seed if isinstance(seed, int) else None)


def load_dataset(root: Path | str) -> DatasetFolder:
    """The dataset folder at ``root``; raises BenchmarkError when it is not one or has no complete sample."""
    root = Path(root).expanduser().resolve()
    samples_dir = root / layout.SAMPLES_DIR
    if not samples_dir.is_dir():
        raise BenchmarkError(f"{root} is not a BLURD dataset folder: it has no '{layout.SAMPLES_DIR}/' folder; "
                             "pass the --out folder of a batch sweep")
    samples: list[SampleRecord] = []
    skipped: list[SkippedSample] = []
    for folder in sorted(p for p in samples_dir.iterdir() if p.is_dir()):
        if folder.name.startswith(layout.TMP_PREFIX):
            continue
        item = _read_sample(folder)
        (samples if isinstance(item, SampleRecord) else skipped).append(item)
    if not samples:
        raise BenchmarkError(f"{root} has no complete sample (a sample is complete once its "
                             f"{layout.SAMPLE_JSON} exists); run or resume the sweep first")
    return DatasetFolder(root, tuple(samples), tuple(skipped))

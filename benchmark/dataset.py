"""Reading a BLURD dataset folder: its complete samples, their factors and the image sources present.

The dataset is read from each sample's ``sample.json`` (the manifest may be partial while a sweep runs). A folder
without a readable sample.json with valid factors is skipped and listed in ``DatasetFolder.skipped``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..dataset import layout
from ..dataset.errors import DatasetError
from ..dataset.layout import DIFFUSION_PREFIX, check_safe_name
from ..dataset.record import missing_files, read_record
from ._core import FACTOR_BY_NAME, BlurdError, validate_assignment
from .errors import BenchmarkError

RENDER = "render"  # the Cycles render, "BLURD 3D"
PAPER_MODES: tuple[str, ...] = ("unleashed", "tempered", "harbinger")  # display order; other modes follow sorted
PHOTOREAL_MODE = "harbinger"  # the full BLURD method: the target of the 3D-to-photo-real change


def source_filename(source: str) -> str:
    """The image file of an image source inside a sample folder: rgb.png or sd_<mode>.png."""
    return layout.RGB if source == RENDER else layout.diffusion_filename(check_safe_name(source, "source"), "png")


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
                mode = layout.diffusion_mode_of(path.name)
                if mode is not None and path.is_file() and path.stat().st_size > 0:
                    found.add(mode)
        return sorted(found, key=source_sort_key)

    def with_source(self, source: str) -> list[SampleRecord]:
        """The samples that have an image for ``source`` (a sample may lack a diffusion output)."""
        return [s for s in self.samples if s.has_source(source)]

    def by_id(self) -> dict[str, SampleRecord]:
        return {s.id: s for s in self.samples}


def _read_sample(folder: Path) -> SampleRecord | SkippedSample:
    """A complete sample (sample.json readable, a safe id, every file it lists present) or why it is skipped."""
    try:
        record = read_record(folder)
    except DatasetError as exc:
        return SkippedSample(folder, str(exc))
    missing = missing_files(folder, record)
    if missing:
        return SkippedSample(folder, f"incomplete sample: {', '.join(missing[:3])} missing")
    unknown = [k for k in record.factors if k not in FACTOR_BY_NAME]
    if unknown:
        return SkippedSample(folder, f"unknown factors {unknown} (written by a newer BLURD?)")
    try:
        factors = validate_assignment(record.factors, complete=True)
    except BlurdError as exc:
        return SkippedSample(folder, f"invalid factors: {exc}")
    return SampleRecord(record.id, folder, factors, record.seed)


def load_dataset(root: Path | str) -> DatasetFolder:
    """The dataset folder at ``root``; raises BenchmarkError when it is not one or has no complete sample."""
    root = Path(root).expanduser().resolve()
    samples_dir = root / layout.SAMPLES_DIR
    if not samples_dir.is_dir():
        raise BenchmarkError(f"{root} is not a BLURD dataset folder: it has no '{layout.SAMPLES_DIR}/' folder; "
                             "pass the --out folder of a batch sweep")
    samples: list[SampleRecord] = []
    skipped: list[SkippedSample] = []
    for folder in sorted(p for p in samples_dir.iterdir() if p.is_dir() and not p.is_symlink()):
        if not layout.is_safe_name(folder.name):  # temporary folders, and names no BLURD writes
            continue
        item = _read_sample(folder)
        (samples if isinstance(item, SampleRecord) else skipped).append(item)
    if not samples:
        raise BenchmarkError(f"{root} has no complete sample (a sample is complete once its "
                             f"{layout.SAMPLE_JSON} exists); run or resume the sweep first")
    return DatasetFolder(root, tuple(samples), tuple(skipped))

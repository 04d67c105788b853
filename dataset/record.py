"""The sample record (``sample.json``) as a dataclass, and "is this sample / this mode done".

A sample is complete when its sample.json reads as a record AND every file the record lists exists: a folder
with a sample.json but no rgb.png (a crash, another tool, a concurrent run) is not trusted. A diffusion mode is
done when its ``sd_<mode>.png`` exists (the worker writes it last, after ``sd_<mode>.json``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import DatasetError
from .files import write_json
from .layout import SAMPLE_JSON, check_safe_name, diffusion_filename, is_safe_name

MAX_RECORD_BYTES = 4 * 1024 * 1024  # a sample.json is a few KB; a bigger one is not ours


@dataclass
class SampleRecord:
    """What sample.json holds: the factors, id and seed, the files written (``passes``: name -> relative path),
    camera, versions, render settings and timings. Keys this version does not know are kept in ``extra`` and
    written back as they were (a newer BLURD's fields survive a rewrite)."""

    id: str
    seed: int | None  # None only in records other tools wrote; BLURD always writes one
    factors: dict[str, Any]
    passes: dict[str, str] = field(default_factory=dict)
    camera: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    render: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    # how the seed was made (factors.ids.SeedPolicy.to_record); {} in records made before seed policies, whose
    # seeds were per sample (SeedPolicy.from_record reads {} so)
    seed_policy: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**self.extra, **data}

    @classmethod
    def from_json(cls, data: Any, source: str = SAMPLE_JSON, folder_name: str | None = None) -> SampleRecord:
        """The record in parsed sample.json data (a missing id is the folder's name); DatasetError naming
        ``source`` when it is not one."""
        if not isinstance(data, dict):
            raise DatasetError(f"{source} is not a JSON object; render the sample again")
        known = {f.name for f in fields(cls)} - {"extra"}
        data = {"id": folder_name, "seed": None, **data}
        if not is_safe_name(data["id"]):
            raise DatasetError(f"{source} has no usable 'id' ({data['id']!r}); ids are file names: letters, digits, "
                               f"'_' and '-'; render the sample again")
        seed = data["seed"]
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise DatasetError(f"{source}: 'seed' {seed!r} is not a whole number; render the sample again")
        for name in ("factors", "passes", "camera", "versions", "render", "timings", "seed_policy"):
            if not isinstance(data.get(name, {}), dict):
                raise DatasetError(f"{source}: '{name}' is not an object; render the sample again")
        if not isinstance(data.get("factors"), dict):
            raise DatasetError(f"{source} has no 'factors' object; render the sample again")
        passes = data.get("passes", {})
        if not all(isinstance(v, str) and _inside(v) for v in passes.values()):
            raise DatasetError(f"{source}: 'passes' lists a path outside the sample folder; render the sample again")
        return cls(**{k: data[k] for k in known if k in data},
                   extra={k: v for k, v in data.items() if k not in known})

    def files(self) -> list[str]:
        """Every file the record lists, relative to the sample folder."""
        return list(self.passes.values())


def _inside(relative: str) -> bool:
    parts = Path(relative).parts
    return bool(parts) and not Path(relative).is_absolute() and ".." not in parts and "\x00" not in relative


def read_record(folder: Path) -> SampleRecord:
    """The sample.json of ``folder``; DatasetError (naming the file) when it is missing, unreadable or malformed."""
    path = Path(folder) / SAMPLE_JSON
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise DatasetError(f"{path} is larger than {MAX_RECORD_BYTES} bytes: not a BLURD sample record")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path} does not exist: the sample is not complete; run or resume the sweep") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DatasetError(f"cannot read {path} ({type(exc).__name__}: {exc}); render the sample again") from None
    return SampleRecord.from_json(data, str(path), Path(folder).name)


def write_record(folder: Path, record: SampleRecord) -> None:
    """Write sample.json last (it marks the sample complete), durably."""
    check_safe_name(record.id)
    write_json(Path(folder) / SAMPLE_JSON, record.to_json(), durable=True)


def missing_files(folder: Path, record: SampleRecord) -> list[str]:
    return [name for name in record.files() if not (Path(folder) / name).is_file()]


def complete_record(folder: Path) -> SampleRecord | None:
    """The record of a complete sample folder, None when the sample is not complete."""
    folder = Path(folder)
    if folder.is_symlink() or not (folder / SAMPLE_JSON).is_file():
        return None
    try:
        record = read_record(folder)
    except DatasetError:
        return None
    return None if missing_files(folder, record) else record


def is_complete(folder: Path) -> bool:
    """A sample is complete once its sample.json reads and every file it lists exists."""
    return complete_record(folder) is not None


def is_mode_done(folder: Path, mode: str) -> bool:
    """A diffusion mode is done on a sample once its ``sd_<mode>.png`` exists (written last, atomically)."""
    return (Path(folder) / diffusion_filename(mode, "png")).is_file()


def record_from_mapping(values: Mapping[str, Any]) -> SampleRecord:
    return SampleRecord.from_json(dict(values))

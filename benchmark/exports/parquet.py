"""A Parquet table of a dataset folder, one row per complete sample (like PUG's): the sample id and seed, one
column per factor, and the path of every pass and output (relative to the dataset folder; null when absent)."""

from __future__ import annotations

import json
from pathlib import Path

from ...dataset import layout
from ...dataset.files import atomic_path
from ..dataset import RENDER, DatasetFolder, source_filename
from .columns import factor_columns

DEFAULT_NAME = "samples.parquet"
EXPORTS_DIR = "exports"


def _path_columns(dataset: DatasetFolder) -> dict[str, str]:
    """Column name -> file name inside a sample folder, for every pass, mask, sample.json and diffusion output."""
    cols = {f"{p.name}_path": p.filename for p in layout.PASSES}
    cols.update({f"mask_{part.name}_path": layout.mask_filename(part.name) for part in layout.PARTS})
    cols["sample_json_path"] = layout.SAMPLE_JSON
    for source in dataset.sources():
        if source != RENDER:
            cols[f"sd_{source}_path"] = source_filename(source)
            cols[f"sd_{source}_json_path"] = layout.diffusion_filename(source, "json")
    return cols


def sample_table(dataset: DatasetFolder):
    """The dataset as a ``pyarrow.Table``; paths are POSIX, relative to the dataset folder (see its metadata)."""
    import pyarrow as pa

    samples = dataset.samples
    data: dict[str, list] = {
        "sample_id": [s.id for s in samples],
        "seed": [s.seed for s in samples],
        "dir": [s.dir.relative_to(dataset.root).as_posix() for s in samples],
    }
    data.update(factor_columns(samples))
    for column, filename in _path_columns(dataset).items():
        data[column] = [(s.dir / filename).relative_to(dataset.root).as_posix() if (s.dir / filename).is_file()
                        else None for s in samples]
    path_columns = set(_path_columns(dataset))
    types = {k: pa.int64() if k == "seed" else (pa.string() if k in path_columns else None) for k in data}
    table = pa.table({k: pa.array(v, type=types[k]) for k, v in data.items()})
    meta = {"blurd.dataset_root": str(dataset.root), "blurd.paths": "relative to blurd.dataset_root",
            "blurd.skipped": json.dumps([{"dir": str(s.dir), "reason": s.reason} for s in dataset.skipped])}
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})


def export_parquet(dataset: DatasetFolder, out: Path | str | None = None) -> Path:
    """Write the sample table (default ``DATASET/exports/samples.parquet``) and return its path."""
    import pyarrow.parquet as pq

    target = Path(out) if out else dataset.root / EXPORTS_DIR / DEFAULT_NAME
    table = sample_table(dataset)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return target

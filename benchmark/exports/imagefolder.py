"""Hugging Face ``imagefolder`` export: images plus a metadata.jsonl, so that
``datasets.load_dataset("imagefolder", data_dir=OUT)`` yields an ``image`` column and one column per factor.

Images are hard-linked from the dataset folder when possible (no extra space), copied otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ...dataset.files import atomic_path, write_text
from ...dataset.layout import check_safe_name
from ..dataset import RENDER, DatasetFolder
from ..errors import BenchmarkError
from .columns import factor_columns

METADATA = "metadata.jsonl"


def _place(src: Path, dst: Path) -> None:
    with atomic_path(dst) as tmp:
        try:
            os.link(src, tmp)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(src, tmp)


def export_imagefolder(dataset: DatasetFolder, out_dir: Path | str, sources: Sequence[str] = (RENDER,)) -> Path:
    """Write ``out_dir/<source>/<sample id>.png`` and ``out_dir/metadata.jsonl`` (file_name, sample_id, source,
    one key per factor) for each of ``sources``; returns ``out_dir``."""
    present = dataset.sources()
    unknown = [s for s in sources if s not in present]
    if unknown:
        raise BenchmarkError(f"source(s) {unknown} not in {dataset.root}; it has: {', '.join(present)}")
    out_dir = Path(out_dir)
    for source in sources:
        check_safe_name(source, "source")  # names a folder of the export
    rows = []
    for source in sources:
        samples = dataset.with_source(source)
        columns = factor_columns(samples)
        for k, s in enumerate(samples):
            name = f"{source}/{check_safe_name(s.id)}.png"  # ids come from files: never a path out of out_dir
            _place(s.image_path(source), out_dir / name)
            rows.append({"file_name": name, "sample_id": s.id, "source": source,
                         **{f: values[k] for f, values in columns.items()}})
    if not rows:
        raise BenchmarkError(f"no sample of {dataset.root} has an image for {list(sources)}")
    write_text(out_dir / METADATA, "".join(json.dumps(r) + "\n" for r in rows))
    stale = out_dir / "metadata.csv"  # datasets refuses two metadata files in one folder
    if stale.exists():
        stale.unlink()
    return out_dir

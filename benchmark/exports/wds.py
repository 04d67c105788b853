"""WebDataset shards that CLIP_benchmark evaluates as ``wds/<name>`` for one factor.

Layout (CLIP_benchmark's ``build_wds_dataset``)::

    OUT/<split>/nshards.txt, OUT/<split>/0.tar, 1.tar, ...     each sample: <id>.png, <id>.cls, <id>.json
    OUT/classnames.txt                                         one class phrase per line, in class-index order
    OUT/zeroshot_classification_templates.txt                  one template per line, with {c}

Run it with ``clip_benchmark eval --dataset wds/blurd_<factor> --dataset_root OUT ...``.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path

from ...dataset.files import atomic_path, write_text
from ...dataset.layout import check_safe_name
from .._core import FACTOR_BY_NAME, captions
from ..dataset import RENDER, DatasetFolder
from ..errors import BenchmarkError
from ..evaluate import DEFAULT_TEMPLATES, check_templates
from ..metrics import ordered_values

CLASSNAMES = "classnames.txt"
TEMPLATES = "zeroshot_classification_templates.txt"
NSHARDS = "nshards.txt"


def clip_benchmark_template(template: str) -> str:
    """Our ``{}`` placeholder as CLIP_benchmark's ``{c}`` (it formats templates with ``c=classname``)."""
    return template if "{c}" in template else template.replace("{}", "{c}")


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def export_webdataset(dataset: DatasetFolder, factor: str, out_dir: Path | str, source: str = RENDER,
                      templates: Sequence[str] = DEFAULT_TEMPLATES, split: str = "test",
                      shard_size: int = 1000) -> Path:
    """Write the shards and class files for classifying ``factor`` on ``source`` images; returns ``out_dir``."""
    if factor not in FACTOR_BY_NAME:
        raise BenchmarkError(f"unknown factor {factor!r}; valid factors are: {', '.join(FACTOR_BY_NAME)}")
    if shard_size < 1:
        raise BenchmarkError(f"shard size {shard_size}: use 1 or more samples per shard")
    templates = check_templates(templates)
    samples = dataset.with_source(source)
    if not samples:
        raise BenchmarkError(f"no sample of {dataset.root} has a {source!r} image; sources: {dataset.sources()}")
    classes = ordered_values(factor, [s.factors[factor] for s in samples])
    if len(classes) < 2:
        raise BenchmarkError(f"factor {factor!r} takes one value ({classes[0]!r}) in {dataset.root}: nothing to "
                             "classify; export a factor the sweep varies")
    index = {v: i for i, v in enumerate(classes)}
    out_dir = Path(out_dir)
    split_dir = out_dir / check_safe_name(split, "split")
    n_shards = (len(samples) + shard_size - 1) // shard_size
    for shard in range(n_shards):
        with atomic_path(split_dir / f"{shard}.tar") as tmp, tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
            for s in samples[shard * shard_size:(shard + 1) * shard_size]:
                check_safe_name(s.id)  # member names come from files: never "../.." in a tar
                image = s.image_path(source)
                mtime = int(image.stat().st_mtime)
                _add(tar, f"{s.id}.png", image.read_bytes(), mtime)
                _add(tar, f"{s.id}.cls", str(index[s.factors[factor]]).encode("ascii"), mtime)
                meta = {"sample_id": s.id, "source": source, "factor": factor, "factors": dict(s.factors)}
                _add(tar, f"{s.id}.json", json.dumps(meta).encode("utf-8"), mtime)
    for old in split_dir.glob("*.tar"):  # shards of an earlier, larger export would be read as extra data
        if old.stem.isdigit() and int(old.stem) >= n_shards:
            old.unlink()
    write_text(split_dir / NSHARDS, f"{n_shards}\n")
    write_text(out_dir / CLASSNAMES, "".join(captions.class_phrase(factor, v) + "\n" for v in classes))
    write_text(out_dir / TEMPLATES, "".join(clip_benchmark_template(t) + "\n" for t in templates))
    return out_dir

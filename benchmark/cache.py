"""The embedding cache beside a dataset: computed once per (model, source), reused while the images are unchanged.

``OUT/.cache/embeddings/<model-key>/<source>.npz`` holds sample ids, each image's size and modification time
(ns), and the embedding rows. A row is reused when its id, size and mtime all match; other rows are computed.
Caption embeddings live in ``text.npz`` of the same folder, keyed by the caption text.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..dataset.files import atomic_path
from .dataset import SampleRecord
from .encoders import ClipEncoder, ProgressFactory

CACHE_DIR = Path(".cache") / "embeddings"
TEXT_CACHE = "text"


def cache_folder(dataset_root: Path, model_key: str) -> Path:
    return Path(dataset_root) / CACHE_DIR / model_key


def _load_npz(path: Path) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):  # a damaged cache is recomputed
        return None


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


@dataclass
class CacheStats:
    """How many embeddings came from the cache and how many were computed (images and distinct captions)."""

    reused: int = 0
    computed: int = 0
    texts_reused: int = 0
    texts_computed: int = 0
    truncated_texts: set[str] = field(default_factory=set)  # captions the text model had to cut


def image_embeddings(dataset_root: Path, model_key: str, source: str, samples: Sequence[SampleRecord],
                     encoder: ClipEncoder, progress: ProgressFactory | None = None,
                     stats: CacheStats | None = None) -> np.ndarray:
    """Embedding rows for ``samples`` (same order) of the ``source`` images, from the cache where still valid."""
    stats = stats if stats is not None else CacheStats()
    path = cache_folder(dataset_root, model_key) / f"{source}.npz"
    paths = [s.image_path(source) for s in samples]
    stamps = [(p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    old = _load_npz(path)
    known: dict[str, tuple[int, int, np.ndarray]] = {}
    if old is not None and {"ids", "sizes", "mtimes", "embeddings"} <= set(old):
        for i, sid in enumerate(old["ids"].tolist()):
            known[sid] = (int(old["sizes"][i]), int(old["mtimes"][i]), old["embeddings"][i])
    rows: list[np.ndarray | None] = []
    missing: list[int] = []
    for k, (s, stamp) in enumerate(zip(samples, stamps)):
        hit = known.get(s.id)
        if hit is not None and (hit[0], hit[1]) == stamp:
            rows.append(hit[2])
        else:
            rows.append(None)
            missing.append(k)
    stats.reused += len(samples) - len(missing)
    stats.computed += len(missing)
    if missing:
        fresh = encoder.encode_images([paths[k] for k in missing], progress)
        if any(r is not None and r.shape[-1] != fresh.shape[-1] for r in rows):
            # rows of another embedding size under this key: the cache is stale, compute everything afresh
            stats.reused -= len(samples) - len(missing)
            stats.computed += len(samples) - len(missing)
            known, missing = {}, list(range(len(samples)))
            fresh = encoder.encode_images(paths, progress)
        for k, row in zip(missing, fresh):
            rows[k] = row
            known[samples[k].id] = (stamps[k][0], stamps[k][1], row)  # kept beside the still-valid old rows
        ids = sorted(known)
        _save_npz(path, ids=np.array(ids, dtype=str), sizes=np.array([known[i][0] for i in ids], np.int64),
                  mtimes=np.array([known[i][1] for i in ids], np.int64),
                  embeddings=np.stack([known[i][2] for i in ids]).astype(np.float32))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32)


def text_embeddings(dataset_root: Path, model_key: str, texts: Sequence[str], encoder: ClipEncoder,
                    stats: CacheStats | None = None) -> np.ndarray:
    """Embedding rows for ``texts`` (same order), from the caption cache where present."""
    stats = stats if stats is not None else CacheStats()
    path = cache_folder(dataset_root, model_key) / f"{TEXT_CACHE}.npz"
    old = _load_npz(path)
    known: dict[str, np.ndarray] = {}
    truncated: set[str] = set()
    if old is not None and {"texts", "embeddings"} <= set(old):
        known = dict(zip(old["texts"].tolist(), old["embeddings"]))
        if "truncated" in old:
            truncated = {t for t, cut in zip(old["texts"].tolist(), old["truncated"].tolist()) if cut}
    missing = sorted({t for t in texts if t not in known})
    stats.texts_reused += len(set(texts)) - len(missing)
    stats.texts_computed += len(missing)
    if missing:
        fresh = encoder.encode_texts(missing)
        if known and next(iter(known.values())).shape[-1] != fresh.shape[-1]:
            known, truncated = {}, set()
        known.update(zip(missing, fresh))
        truncated |= {t for t in missing if t in encoder.truncated_texts}
        keys = sorted(known)
        _save_npz(path, texts=np.array(keys, dtype=str), truncated=np.array([k in truncated for k in keys]),
                  embeddings=np.stack([known[k] for k in keys]).astype(np.float32))
    stats.truncated_texts |= truncated & set(texts)
    return np.stack([known[t] for t in texts]).astype(np.float32) if texts else np.zeros((0, 0), np.float32)


def _read_image_rows(path: Path) -> dict[str, tuple[int, int, np.ndarray]]:
    old = _load_npz(path)
    if old is None or not {"ids", "sizes", "mtimes", "embeddings"} <= set(old):
        return {}
    return {sid: (int(old["sizes"][i]), int(old["mtimes"][i]), old["embeddings"][i])
            for i, sid in enumerate(old["ids"].tolist())}


def cached_image_stamps(dataset_root: Path, model_key: str, source: str) -> dict[str, tuple[int, int]]:
    """(size, mtime ns) of each image whose ``source`` embedding is cached (the distributed engine skips them)."""
    rows = _read_image_rows(cache_folder(dataset_root, model_key) / f"{source}.npz")
    return {sid: (size, mtime) for sid, (size, mtime, _) in rows.items()}


def store_image_rows(dataset_root: Path, model_key: str, source: str,
                     rows: dict[str, tuple[int, int, Sequence[float]]]) -> None:
    """Merge embedding rows computed elsewhere (the distributed engine's workers) into the ``source`` cache, in the
    format ``image_embeddings`` reads: rows of another embedding size are dropped as stale."""
    path = cache_folder(dataset_root, model_key) / f"{source}.npz"
    known = _read_image_rows(path)
    fresh = {sid: (size, mtime, np.asarray(row, np.float32)) for sid, (size, mtime, row) in rows.items()}
    width = next(iter(fresh.values()))[2].shape[-1] if fresh else None
    known = {sid: row for sid, row in known.items() if row[2].shape[-1] == width} | fresh
    if not known:
        return
    ids = sorted(known)
    _save_npz(path, ids=np.array(ids, dtype=str), sizes=np.array([known[i][0] for i in ids], np.int64),
              mtimes=np.array([known[i][1] for i in ids], np.int64),
              embeddings=np.stack([known[i][2] for i in ids]).astype(np.float32))

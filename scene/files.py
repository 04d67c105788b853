"""Atomic file writing: every file goes to a ``TMP_PREFIX`` name beside its target and is renamed into place.

No bpy and no Pillow here, so the sweep runs in Blender's own Python and the contact sheet code can use it too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..factors import layout
from .png import encode_png


def temp_name(final: Path) -> Path:
    """The temporary name beside ``final``; it holds the process id, so two shards writing the same dataset-level
    file (the manifest, the contact sheet) never write the same temporary file."""
    return final.with_name(f"{layout.TMP_PREFIX}{os.getpid()}-{final.name}")


def write_atomic(final: Path, write: Callable[[Path], None]) -> None:
    """Run ``write`` on a temporary name beside ``final``, then rename it into place."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    write(tmp)
    os.replace(tmp, final)


def write_png(final: Path, array: np.ndarray) -> None:
    """A PNG without metadata, so the same pixels always give the same bytes."""
    data = encode_png(array)
    write_atomic(final, lambda tmp: tmp.write_bytes(data))


def write_json(final: Path, record: Mapping[str, Any]) -> None:
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    write_atomic(final, lambda tmp: tmp.write_text(text, encoding="utf-8"))

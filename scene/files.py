"""Pass images as PNG files, encoded by Pillow and written through the dataset layer's atomic writer.

Pillow ships inside the extension zip (a wheel per platform) and in the project's environment; a clone run by
Blender's own Python gets it from scripts/setup_blender.sh.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from ..dataset.files import write_bytes

COMPRESSION_LEVEL = 6


def write_png(final: Path, array: np.ndarray) -> None:
    """An 8-bit PNG (grey for HxW, RGB for HxWx3) without metadata, so the same pixels always give the same bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8)).save(buffer, format="PNG",
                                                                      compress_level=COMPRESSION_LEVEL)
    write_bytes(final, buffer.getvalue())

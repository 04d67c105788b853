"""Pass images as PNG files, written through the dataset layer's atomic writer (``blurd.dataset.files``).

No bpy and no Pillow here, so the sweep runs in Blender's own Python.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..dataset.files import write_bytes
from .png import encode_png


def write_png(final: Path, array: np.ndarray) -> None:
    """A PNG without metadata, so the same pixels always give the same bytes."""
    write_bytes(final, encode_png(array))

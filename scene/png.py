"""PNG encoding with numpy and zlib alone, so the render path needs no Pillow inside Blender's own Python.

Output is deterministic (no timestamps or text chunks): the same pixels always give the same bytes.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type: grey, grey+alpha, RGB, RGBA
COMPRESSION_LEVEL = 6


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(array: np.ndarray) -> bytes:
    """An 8-bit PNG of ``array`` (HxW grey, or HxWxC with C = 1..4 channels, uint8)."""
    pixels = np.ascontiguousarray(array, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    height, width, channels = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    rows = np.concatenate((np.zeros((height, 1), np.uint8), pixels.reshape(height, width * channels)), axis=1)
    data = zlib.compress(rows.tobytes(), COMPRESSION_LEVEL)  # filter type 0 (none) on every row
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")

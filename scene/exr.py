"""Minimal OpenEXR reading and writing with numpy alone (no bpy, no OpenEXR package).

Enough for BLURD's metric depth: single-part scanline files, uncompressed, FLOAT or HALF channels. Written
files are byte-for-byte deterministic (no timestamps) and readable by OpenEXR, OpenCV, imageio and Blender.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

MAGIC = 20000630
_PIXEL_TYPES = {1: np.dtype("<f2"), 2: np.dtype("<f4")}  # HALF, FLOAT (UINT is not used here)


def _attribute(name: str, kind: str, payload: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(payload)) + payload


def encode_exr(channels: dict[str, np.ndarray]) -> bytes:
    """An uncompressed scanline EXR holding float32 ``channels`` (name -> HxW array, all the same shape)."""
    names = sorted(channels)  # EXR stores channels in alphabetical order
    arrays = [np.ascontiguousarray(channels[n], dtype="<f4") for n in names]
    height, width = arrays[0].shape
    chlist = b"".join(n.encode() + b"\0" + struct.pack("<iB3xii", 2, 0, 1, 1) for n in names) + b"\0"
    box = struct.pack("<iiii", 0, 0, width - 1, height - 1)
    header = b"".join(
        (
            struct.pack("<ii", MAGIC, 2),
            _attribute("channels", "chlist", chlist),
            _attribute("compression", "compression", b"\0"),
            _attribute("dataWindow", "box2i", box),
            _attribute("displayWindow", "box2i", box),
            _attribute("lineOrder", "lineOrder", b"\0"),
            _attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
            _attribute("screenWindowCenter", "v2f", struct.pack("<ff", 0.0, 0.0)),
            _attribute("screenWindowWidth", "float", struct.pack("<f", 1.0)),
            b"\0",
        )
    )
    line_bytes = 4 * width * len(names)
    first = len(header) + 8 * height
    offsets = struct.pack(f"<{height}Q", *(first + y * (8 + line_bytes) for y in range(height)))
    lines = b"".join(
        struct.pack("<ii", y, line_bytes) + b"".join(a[y].tobytes() for a in arrays) for y in range(height)
    )
    return header + offsets + lines


def decode_exr(data: bytes) -> dict[str, np.ndarray]:
    """The channels of an uncompressed scanline EXR as float32 HxW arrays (what ``encode_exr`` writes)."""
    magic, version = struct.unpack_from("<ii", data, 0)
    if magic != MAGIC or version & 0x200:
        raise ValueError("not a single-part scanline OpenEXR file")
    pos, attrs = 8, {}
    while data[pos] != 0:
        name_end = data.index(b"\0", pos)
        kind_end = data.index(b"\0", name_end + 1)
        (size,) = struct.unpack_from("<i", data, kind_end + 1)
        attrs[data[pos:name_end].decode()] = data[kind_end + 5 : kind_end + 5 + size]
        pos = kind_end + 5 + size
    pos += 1
    if attrs["compression"] != b"\0":
        raise ValueError("only uncompressed OpenEXR files are supported by scene.exr")
    x0, y0, x1, y1 = struct.unpack("<iiii", attrs["dataWindow"])
    width, height = x1 - x0 + 1, y1 - y0 + 1
    chlist, channels, cpos = attrs["channels"], [], 0
    while chlist[cpos] != 0:
        end = chlist.index(b"\0", cpos)
        (pixel_type,) = struct.unpack_from("<i", chlist, end + 1)
        channels.append((chlist[cpos:end].decode(), _PIXEL_TYPES[pixel_type]))
        cpos = end + 17
    offsets = struct.unpack_from(f"<{height}Q", data, pos)
    out = {name: np.empty((height, width), np.float32) for name, _ in channels}
    for y, offset in enumerate(offsets):
        p = offset + 8
        for name, dtype in channels:
            out[name][y] = np.frombuffer(data, dtype, width, p)
            p += width * dtype.itemsize
    return out


def write_exr(path: Path, channels: dict[str, np.ndarray]) -> None:
    Path(path).write_bytes(encode_exr(channels))


def read_exr(path: Path) -> dict[str, np.ndarray]:
    return decode_exr(Path(path).read_bytes())

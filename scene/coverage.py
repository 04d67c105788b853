"""Part coverage from Cryptomatte passes: pure numpy (no bpy), so masks and labels are exact at strand edges.

Cycles' Cryptomatte passes hold, per pixel, ranked (id, coverage) pairs: the ids of the objects (or materials) seen
through the pixel and the share of the pixel's filtered samples that hit each one, anti-aliased exactly like
rgb.png. An id is the MurmurHash3_32 of the object's or material's name (seed 0), its bits read as a float32 with
the exponent kept away from 0 and 255 (the Cryptomatte specification, Psyop 2017; Blender's
``BKE_cryptomatte_hash_to_float``). Summing the coverage of every id that belongs to a part gives that part's
coverage in 0..1. A mask PNG holds that coverage in 8 bits: ``mask >= 128`` is exactly coverage >=
``MASK_THRESHOLD`` (the binary mask), ``mask > 0`` is every pixel the part touches (a strand a third of a pixel wide
included); label.png is the class with the most coverage.

Which ids belong to which part is a ``PartIds`` table, built on the Blender side (``scene.part_tags``) from the
``blurd_part`` custom property of objects and materials (or an object's pass index, for rigs bound that way).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..factors.parts import PART_BY_NAME, PARTS, Label

BACKGROUND = "background"
MASK_THRESHOLD = 0.5  # a pixel is in a part's binary mask when the part covers at least half of it
MASK_BINARY_LEVEL = 128  # mask PNG value from which a pixel is in the binary mask: rint(255 * 0.5) = 128
SUBJECT_THRESHOLD = 0.5  # a pixel shows the subject when parts other than the background cover at least half of it

_C1, _C2 = 0xCC9E2D51, 0x1B873593
_U32 = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _U32


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit of ``data`` (Austin Appleby's reference; Cryptomatte hashes names with seed 0)."""
    h = seed & _U32
    whole = len(data) // 4 * 4
    for (k,) in struct.iter_unpack("<I", data[:whole]):
        h ^= (_rotl((k * _C1) & _U32, 15) * _C2) & _U32
        h = (_rotl(h, 13) * 5 + 0xE6546B64) & _U32
    tail = data[whole:]
    if tail:
        k = int.from_bytes(tail, "little")
        h ^= (_rotl((k * _C1) & _U32, 15) * _C2) & _U32
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _U32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _U32
    return h ^ (h >> 16)


def cryptomatte_id(name: str) -> int:
    """The Cryptomatte id of a name as the uint32 bits of the float the passes hold (exponent never 0 or 255)."""
    bits = murmur3_32(name.encode("utf-8"))
    exponent = (bits >> 23) & 0xFF
    if exponent in (0, 0xFF):
        bits ^= 1 << 23
    return bits


def id_float(bits: int) -> float:
    """The float32 an id's bits spell (what the pass stores), for reading and debugging."""
    return struct.unpack("<f", struct.pack("<I", bits))[0]


@dataclass(frozen=True)
class MaterialPart:
    """A material whose pixels belong to another part than its object's (lips painted on the body mesh): its
    coverage moves from ``owner`` (the part of the objects using it; None when they belong to no part) to ``part``."""

    owner: str | None
    part: str


@dataclass(frozen=True)
class PartIds:
    """Cryptomatte ids (uint32 bits) -> part: objects by name, plus the materials that re-assign their pixels."""

    objects: Mapping[int, str] = field(default_factory=dict)
    materials: Mapping[int, MaterialPart] = field(default_factory=dict)

    @property
    def needs_materials(self) -> bool:
        """Whether the material Cryptomatte pass is needed (some material re-assigns its object's pixels)."""
        return bool(self.materials)


def rank_pairs(layers: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The (id bits, coverage) ranks of Cryptomatte layers (each HxWx4: id, coverage, id, coverage) as HxWxK
    uint32 and float32 arrays. Layers must be read raw (no colour management): ids are bit patterns."""
    if not layers:
        raise ValueError("no Cryptomatte layers to decode")
    stacked = np.concatenate([np.ascontiguousarray(layer[..., :4], dtype=np.float32) for layer in layers], axis=-1)
    return stacked[..., 0::2].view(np.uint32), stacked[..., 1::2]


def _sum_ids(ids: np.ndarray, cover: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    hit = np.isin(ids, np.asarray(list(wanted), np.uint32))
    return np.where(hit, cover, 0.0).sum(axis=-1, dtype=np.float32)


def part_coverage(object_layers: Sequence[np.ndarray], table: PartIds,
                  material_layers: Sequence[np.ndarray] = ()) -> dict[str, np.ndarray]:
    """Coverage (HxW float32, 0..1) of every part of ``factors.parts.PARTS``.

    Object ranks are summed per part; then each re-assigning material's coverage moves from its owner part to its
    own. The background is what the named parts leave: the world, objects of no part and objects tagged background.
    """
    ids, cover = rank_pairs(object_layers)
    shape = ids.shape[:2]
    coverage = {part.name: np.zeros(shape, np.float32) for part in PARTS}
    by_part: dict[str, list[int]] = {}
    for oid, part in table.objects.items():
        by_part.setdefault(part, []).append(oid)
    for part, wanted in by_part.items():
        if part != BACKGROUND:
            coverage[part] += _sum_ids(ids, cover, wanted)
    if table.materials:
        if not material_layers:
            raise ValueError("the part table re-assigns materials but no material Cryptomatte layers were given")
        mids, mcover = rank_pairs(material_layers)
        for mid, moved in table.materials.items():
            share = _sum_ids(mids, mcover, [mid])
            if moved.owner not in (None, BACKGROUND):
                coverage[moved.owner] = np.maximum(coverage[moved.owner] - share, 0.0)
            if moved.part != BACKGROUND:
                coverage[moved.part] += share
    for name in coverage:
        np.clip(coverage[name], 0.0, 1.0, out=coverage[name])
    named = sum((c for name, c in coverage.items() if name != BACKGROUND), np.zeros(shape, np.float32))
    coverage[BACKGROUND] = np.clip(1.0 - named, 0.0, 1.0).astype(np.float32)
    return coverage


def part_masks(coverage: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One uint8 mask per part: its coverage as 0..255 (``rint(255 * coverage)``, so ``>= MASK_BINARY_LEVEL`` is
    exactly coverage >= ``MASK_THRESHOLD``).

    In the binary view a pixel split evenly between two parts is in both masks and one split three ways (a strand
    over an eyebrow over skin) may be in none; label.png gives every pixel exactly one class.
    """
    return {part.name: np.rint(np.clip(coverage[part.name], 0.0, 1.0).astype(np.float64) * 255.0).astype(np.uint8)
            for part in PARTS}


def label_map(coverage: Mapping[str, np.ndarray]) -> np.ndarray:
    """Class ids (``factors.parts.Label``) per pixel: the class whose parts cover the most (ties: lower id)."""
    classes = sorted(Label, key=int)
    per_class = np.zeros((len(classes), *next(iter(coverage.values())).shape), np.float32)
    for part in PARTS:
        per_class[classes.index(part.label)] += coverage[part.name]
    return np.asarray([int(c) for c in classes], np.uint8)[np.argmax(per_class, axis=0)]


def subject_mask(coverage: Mapping[str, np.ndarray]) -> np.ndarray:
    """Pixels where named parts (not the background) cover at least ``SUBJECT_THRESHOLD``."""
    return (1.0 - coverage[BACKGROUND]) >= SUBJECT_THRESHOLD


def check_part(name: object, what: str) -> str:
    """``name`` as a part name, or ValueError naming ``what`` and the valid parts."""
    if not isinstance(name, str) or name not in PART_BY_NAME:
        raise ValueError(f"{what} has blurd_part = {name!r}, which is not a part; use one of: "
                         f"{', '.join(p.name for p in PARTS)}")
    return name

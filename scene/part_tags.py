"""Which object or material is which part: the Blender side of the part masks (``scene.coverage`` decodes them).

Objects (and materials, where one mesh holds several parts, e.g. lips painted on the body) carry a custom property
``blurd_part`` naming their part of ``factors.parts.PARTS``. Objects without it fall back to their ``pass_index``
(rigs bound the older way); objects with neither belong to no part and count as background.
"""

from __future__ import annotations

import bpy

from ..factors.errors import BlurdError
from ..factors.parts import PART_BY_PASS_INDEX, PART_PROPERTY
from .coverage import BACKGROUND, MaterialPart, PartIds, check_part, cryptomatte_id

__all__ = ["PART_PROPERTY", "PartTagError", "object_part", "scene_part_ids", "tag_part"]


class PartTagError(BlurdError):
    """An object or material names a part that does not exist, or a material shared by objects of different parts
    claims a part of its own (its pixels could not be told apart)."""


def tag_part(id_block: bpy.types.ID, part: str) -> None:
    """Mark an object or material as belonging to ``part`` (checked against ``factors.parts.PARTS``)."""
    try:
        id_block[PART_PROPERTY] = check_part(part, f"{type(id_block).__name__} {id_block.name!r}")
    except ValueError as exc:
        raise PartTagError(str(exc)) from None


def object_part(obj: bpy.types.Object) -> str | None:
    """The part of an object: its ``blurd_part``, else the part of its pass index, else None."""
    if PART_PROPERTY in obj:
        try:
            return check_part(obj[PART_PROPERTY], f"object {obj.name!r}")
        except ValueError as exc:
            raise PartTagError(f"{exc} (or delete the property to use its pass_index)") from None
    part = PART_BY_PASS_INDEX.get(obj.pass_index)
    return part.name if part is not None else None


def _materials(obj: bpy.types.Object) -> list[bpy.types.Material]:
    return [slot.material for slot in obj.material_slots if slot.material is not None]


def scene_part_ids(bl_scene: bpy.types.Scene) -> PartIds:
    """The part table of every object in ``bl_scene`` and of the materials whose ``blurd_part`` re-assigns pixels.

    Raises PartTagError before any render when a tag names no part, or when a tagged material is used by objects
    of different parts.
    """
    objects: dict[int, str] = {}
    owners: dict[str, set[str | None]] = {}
    tagged: dict[str, str] = {}
    for obj in bl_scene.objects:
        part = object_part(obj)
        if part is not None:
            objects[cryptomatte_id(obj.name_full)] = part
        for material in _materials(obj):
            if PART_PROPERTY not in material:
                continue
            try:
                tagged[material.name_full] = check_part(material[PART_PROPERTY], f"material {material.name!r}")
            except ValueError as exc:
                raise PartTagError(str(exc)) from None
            owners.setdefault(material.name_full, set()).add(part)
    materials: dict[int, MaterialPart] = {}
    for name, part in tagged.items():
        others = owners[name] - {part}
        if not others:
            continue  # the material is where its objects already put it
        if len(owners[name]) > 1:
            listed = ", ".join(sorted(str(p or BACKGROUND) for p in owners[name]))
            raise PartTagError(f"material {name!r} (blurd_part {part!r}) is used by objects of several parts "
                               f"({listed}); give each part its own copy of the material")
        materials[cryptomatte_id(name)] = MaterialPart(next(iter(others)), part)
    return PartIds(objects, materials)

"""Blender hair-curve objects from grown strands (bpy)."""

from __future__ import annotations

import bpy
import numpy as np

from ...factors.parts import PART_BY_NAME, PART_PROPERTY
from .engine import Strands


def make_hair_object(name: str, strands: Strands, material: bpy.types.Material | None,
                     collection: bpy.types.Collection | None = None) -> bpy.types.Object:
    """A Curves (hair) object holding ``strands`` with their radii, tagged with its part and that part's pass index.

    Linked to ``collection`` when given. Empty strands give an object with no curves (it renders nothing)."""
    curves = bpy.data.hair_curves.new(name)
    n, k = strands.points.shape[:2]
    if n:
        curves.add_curves(np.full(n, k, dtype=np.int32).tolist())
        curves.position_data.foreach_set("vector", np.ascontiguousarray(strands.points, np.float32).ravel())
        radius = curves.attributes.get("radius") or curves.attributes.new("radius", "FLOAT", "POINT")
        radius.data.foreach_set("value", np.ascontiguousarray(strands.radii, np.float32).ravel())
    if material is not None:
        curves.materials.append(material)
    obj = bpy.data.objects.new(name, curves)
    obj[PART_PROPERTY] = strands.part.value
    obj.pass_index = PART_BY_NAME[strands.part.value].pass_index
    if collection is not None:
        collection.objects.link(obj)
    return obj

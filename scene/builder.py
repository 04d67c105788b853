"""Builds the built-in BLURD scene from nothing: the human, its worlds, camera rig, key light and the Cycles
settings, then applies the default factors through the built-in binding file.

The human is the realistic MakeHuman one (``scene.makehuman``: CC0 hm08 body, strand hair, subsurface skin) unless
the render settings ask for ``human = "lowpoly"``: the formula-sculpted low-poly human kept for the paper's
low-poly-assets ablation (``build_human`` below, bound by lowpoly_bindings.toml).

Entry points: ``build_scene(render)`` and ``apply_factors(scene, values, bindings)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from ..factors import default_assignment, validate_assignment
from ..factors.errors import BlurdError
from ..factors.parts import PART_BY_NAME
from ..factors.validate import validate_assignment as validate_partial
from ..presets.settings import HumanModel, RenderSettings
from . import hair, human, materials, rig, worlds
from .bindings import Bindings, load_bindings
from .makehuman import identity as mh_identity
from .makehuman import objects as mh_objects
from .meshes import Surface, add_float_attribute, add_shape_keys, add_subdivision, new_object
from .part_tags import PART_PROPERTY
from .render_settings import DIRECT_LIGHT, HAIR_LIGHT_PATHS, LightPaths, apply_light_paths, apply_render_settings
from .warps import WARPS

BUILTIN_MARK = "blurd_builtin_human"  # scene custom property: which built-in human the scene holds (HumanModel)
HUMAN_COLLECTION = "BLURD_Human"
BINDING_FILES = {HumanModel.MAKEHUMAN: Path(__file__).with_name("builtin_bindings.toml"),
                 HumanModel.LOWPOLY: Path(__file__).with_name("lowpoly_bindings.toml")}




def configure_render(scene: bpy.types.Scene, render: RenderSettings, paths: LightPaths = DIRECT_LIGHT) -> None:
    """The built-in scene's Cycles setup: the preset's settings (render_settings, the one place that sets them), the
    light paths that keep colour factors in their part, and the AgX view."""
    apply_render_settings(scene, render, seed=0)
    apply_light_paths(scene, paths)
    scene.view_settings.view_transform = "AgX"
    scene.view_settings.look = "AgX - Medium High Contrast"


def _part_object(name: str, mesh, material: bpy.types.Material, part: str, collection, *, origin=(0, 0, 0),
                 subdivide: int = 1) -> bpy.types.Object:
    obj = new_object(name, *mesh, origin=origin, collection=collection)
    obj.data.materials.append(material)
    obj.pass_index = PART_BY_NAME[part].pass_index
    obj[PART_PROPERTY] = part  # what the masks read; the pass index stays for rigs bound the older way
    if subdivide:
        add_subdivision(obj, 1, subdivide)
    return obj


def hair_tufts() -> bpy.types.Texture:
    """A fixed procedural texture that roughens hair surfaces into tufts (no randomness: same every build)."""
    texture = bpy.data.textures.new("BLURD_HairTufts", "CLOUDS")
    texture.noise_scale = 0.006
    texture.noise_depth = 1
    return texture


def add_tufts(obj: bpy.types.Object, texture: bpy.types.Texture, strength: float = 0.003) -> None:
    """Displace a hair surface along its normals by the tuft texture, after subdivision."""
    mod = obj.modifiers.new("Tufts", "DISPLACE")
    mod.texture = texture
    mod.texture_coords = "GLOBAL"
    mod.strength = strength
    mod.mid_level = 0.5


def build_human(scene: bpy.types.Scene) -> list[bpy.types.Object]:
    """Every object of the low-poly (formula) human, with materials, pass indices and the shared shape keys."""
    coll = bpy.data.collections.new(HUMAN_COLLECTION)
    scene.collection.children.link(coll)
    mats = materials.build_all()
    objs: list[bpy.types.Object] = []

    def add(name: str, mesh, role: str, part: str, **kw) -> bpy.types.Object:
        obj = _part_object(name, mesh, mats[role], part, coll, **kw)
        objs.append(obj)
        return obj

    head_mesh = human.head()
    skin = Surface(*head_mesh)
    add("BLURD_Head", head_mesh, "skin", "skin", subdivide=2)
    add("BLURD_Neck", human.neck(), "skin", "skin")
    add("BLURD_Nose", human.nose(skin), "skin", "skin")
    ears = [human.ear(side) for side in (-1.0, 1.0)]
    add("BLURD_Ears", (np.concatenate([ears[0][0], ears[1][0]]),
                       np.concatenate([ears[0][1], ears[1][1] + len(ears[0][0])])), "skin", "skin")
    for side, tag in ((1.0, "L"), (-1.0, "R")):
        eye_mesh, centre = human.eyeball(side)
        add(f"BLURD_Eye_{tag}", eye_mesh, "eye", "eyes", origin=tuple(centre))
        lid_mesh, margin = human.eyelids(side, centre)
        lid = add(f"BLURD_Eyelid_{tag}", lid_mesh, "eyelid", "skin", origin=tuple(centre))
        add_float_attribute(lid, "lid_margin", margin)
    brows = [human.eyebrow(side, skin) for side in (-1.0, 1.0)]
    add("BLURD_Eyebrows", (np.concatenate([brows[0][0], brows[1][0]]),
                           np.concatenate([brows[0][1], brows[1][1] + len(brows[0][0])])), "eyebrow", "eyebrows")
    add("BLURD_Lips", human.lips(skin), "lips", "lips")
    shirt_mesh = human.torso()
    add("BLURD_Shirt", shirt_mesh, "shirt", "shirt", subdivide=2)
    add("BLURD_Collar", human.collar(), "shirt", "shirt")
    add("BLURD_Tie", human.tie(Surface(*shirt_mesh)), "tie", "tie")
    tufts = hair_tufts()
    for piece in hair.HAIR_PIECES:
        obj = add(piece.name, piece.build(skin), "hair", "hair")
        if piece.tufts:
            add_tufts(obj, tufts)
    for piece in hair.BEARD_PIECES:
        add_tufts(add(piece.name, piece.build(skin), "beard", "beard"), tufts, strength=0.002)
    for obj in objs:
        add_shape_keys(obj, WARPS)
    return objs


def build_makehuman(bl_scene: bpy.types.Scene) -> dict[str, bpy.types.Object]:
    """The MakeHuman human's objects in their collection, showing the default identity (camera framed on it)."""
    coll = bpy.data.collections.new(HUMAN_COLLECTION)
    bl_scene.collection.children.link(coll)
    cache = mh_identity.new_cache(bl_scene)
    defaults = mh_identity.Identity.from_factors(default_assignment())
    first = cache.body(defaults.body_key, mh_identity.strand_density(bl_scene))
    objs = mh_objects.build_objects(coll, first, bl_scene.camera)
    mh_objects.apply_ray_visibility(objs)
    return objs


def build_scene(render: RenderSettings | None = None) -> bpy.types.Scene:
    """A fresh scene holding the built-in human, its worlds, camera rig and key light, at the default factors.

    Resets Blender to empty factory settings first, so calling it twice gives the same scene.
    """
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return populate_scene(bpy.context.scene, render)


class SceneExistsError(BlurdError):
    """The built-in human already exists in this Blender file (its names would clash with a second copy)."""


def populate_scene(bl_scene: bpy.types.Scene, render: RenderSettings | None = None) -> bpy.types.Scene:
    """Build the built-in human, worlds, camera rig and key light into ``bl_scene`` without resetting Blender.

    For the sidebar, where a factory reset would also unload the extension: make a new scene, populate it and
    switch the window to it. Refuses a file that already holds the built-in human, since the binding file
    addresses objects and materials by name.
    """
    if HUMAN_COLLECTION in bpy.data.collections or worlds.WORLD_NAME in bpy.data.worlds:
        raise SceneExistsError(f"this Blender file already holds the built-in human ({HUMAN_COLLECTION}); use that "
                               f"scene, or delete its objects, materials and the {worlds.WORLD_NAME} world first")
    render = render or RenderSettings()
    model = HumanModel(render.human)
    worlds.build_world(bl_scene)
    rig.build_camera(bl_scene)
    rig.build_key_light(bl_scene)
    if model is HumanModel.LOWPOLY:
        configure_render(bl_scene, render)
        build_human(bl_scene)
    else:
        configure_render(bl_scene, render, HAIR_LIGHT_PATHS)
        build_makehuman(bl_scene)
    bl_scene[BUILTIN_MARK] = model.value
    apply_factors(bl_scene, default_assignment())
    return bl_scene


def apply_factors(bl_scene: bpy.types.Scene, values: Mapping[str, Any], bindings: Bindings | None = None) -> None:
    """Validate a factor assignment (missing factors take their defaults) and drive the scene through bindings.

    ``bindings`` None means the built-in human's binding file. Raises FactorError for bad values and
    MissingTargetsError (listing every one) before anything in the scene changes.
    """
    complete = validate_assignment(values, complete=True)
    (bindings or builtin_bindings(bl_scene)).apply(bl_scene, complete)


def scene_human(bl_scene: bpy.types.Scene | None) -> HumanModel:
    """The built-in human a scene holds (the MakeHuman one for scenes that do not say)."""
    mark = bl_scene.get(BUILTIN_MARK) if bl_scene is not None else None
    return HumanModel.LOWPOLY if mark == HumanModel.LOWPOLY.value else HumanModel.MAKEHUMAN


@dataclass(frozen=True)
class MakeHumanBindings(Bindings):
    """The MakeHuman human's binding file plus its identity: age, gender, race, hair and beard style pick cached
    geometry and strands (scene.makehuman.identity) before the file's entries set materials, visibility, camera
    and light. Every way factors reach the scene (sweep, sidebar, operators) goes through ``apply``."""

    def apply(self, bl_scene: bpy.types.Scene, values: Mapping[str, Any]) -> None:
        canonical = validate_partial(values)
        self.check(bl_scene)
        if any(name in canonical for name in mh_identity.IDENTITY_FACTORS):
            mh_identity.apply_identity(bl_scene, canonical)
        super().apply(bl_scene, canonical)


_BUILTIN: dict[HumanModel, Bindings] = {}


def builtin_bindings(bl_scene: bpy.types.Scene | None = None) -> Bindings:
    """The binding file of the built-in human ``bl_scene`` holds (default: the MakeHuman one), parsed once."""
    model = scene_human(bl_scene)
    if model not in _BUILTIN:
        parsed = load_bindings(BINDING_FILES[model])
        if model is HumanModel.MAKEHUMAN:
            parsed = MakeHumanBindings(parsed.source, parsed.name, parsed.bindings)
        _BUILTIN[model] = parsed
    return _BUILTIN[model]


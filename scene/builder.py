"""Builds the built-in BLURD scene from nothing: the procedural human, its worlds, camera rig, key light and the
Cycles settings, then applies the default factors through the built-in binding file.

Entry points: ``build_scene(render)`` and ``apply_factors(scene, values, bindings)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import bpy
import numpy as np

from ..factors import default_assignment, validate_assignment
from ..factors.errors import BlurdError
from ..factors.parts import PART_BY_NAME
from ..presets.settings import RenderSettings
from . import hair, human, materials, rig, worlds
from .bindings import Bindings, load_bindings
from .meshes import Surface, add_float_attribute, add_shape_keys, add_subdivision, new_object
from .part_tags import PART_PROPERTY
from .warps import WARPS

BUILTIN_MARK = "blurd_builtin_human"  # scene custom property: the scene holds the built-in human
HUMAN_COLLECTION = "BLURD_Human"


@dataclass(frozen=True)
class LightPaths:
    """Direct light only: a part's colour then cannot bleed onto its neighbours through bounces, so a colour factor
    changes only the pixels of its own part (the control-fidelity guarantee), and renders stay fast."""

    max_bounces: int = 1
    diffuse_bounces: int = 0
    glossy_bounces: int = 0
    transmission_bounces: int = 0
    volume_bounces: int = 0
    transparent_max_bounces: int = 4


def configure_render(scene: bpy.types.Scene, render: RenderSettings, paths: LightPaths = LightPaths()) -> None:
    """Cycles with the preset's resolution, samples, denoising, device and threads; fixed seed, no adaptivity."""
    scene.render.engine = "CYCLES"
    cycles = scene.cycles
    cycles.device = render.device.value
    cycles.samples = render.samples
    cycles.use_denoising = render.denoise
    cycles.use_adaptive_sampling = False  # per-pixel sample counts would make unrelated pixels differ
    cycles.seed = 0
    cycles.use_animated_seed = False
    for name, value in vars(paths).items():
        setattr(cycles, name, value)
    cycles.caustics_reflective = cycles.caustics_refractive = False
    scene.render.resolution_x, scene.render.resolution_y = render.resolution
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = render.transparent_background
    scene.render.threads_mode = "FIXED" if render.threads > 0 else "AUTO"
    if render.threads > 0:
        scene.render.threads = render.threads
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
    """Every object of the built-in human, with materials, pass indices and the shared shape keys."""
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
    configure_render(bl_scene, render or RenderSettings())
    build_human(bl_scene)
    worlds.build_world(bl_scene)
    rig.build_camera(bl_scene)
    rig.build_key_light(bl_scene)
    bl_scene[BUILTIN_MARK] = True
    apply_factors(bl_scene, default_assignment())
    return bl_scene


def apply_factors(bl_scene: bpy.types.Scene, values: Mapping[str, Any], bindings: Bindings | None = None) -> None:
    """Validate a factor assignment (missing factors take their defaults) and drive the scene through bindings.

    ``bindings`` None means the built-in human's binding file. Raises FactorError for bad values and
    MissingTargetsError (listing every one) before anything in the scene changes.
    """
    complete = validate_assignment(values, complete=True)
    (bindings or builtin_bindings()).apply(bl_scene, complete)


_BUILTIN: list[Bindings] = []


def builtin_bindings() -> Bindings:
    """The built-in binding file, parsed once per process."""
    if not _BUILTIN:
        _BUILTIN.append(load_bindings(None))
    return _BUILTIN[0]


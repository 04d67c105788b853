"""The user's own character of docs/bindings.md's worked example, built from primitives: names unlike the built-in
human's, parts tagged for the masks, a camera without any orbit rig, a light without "Use Temperature".

``doc_binding_toml()`` is the worked example's binding file as the doc prints it (its first ```toml block), so the
tests drive this rig with exactly what a user copies from the doc.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import bpy

DOC = Path(__file__).resolve().parents[1] / "docs" / "bindings.md"
PARTS = {"Head": "skin", "Hair": "hair", "Beard": "beard", "Shirt": "shirt"}  # object -> blurd_part
PASS_INDEX = {"skin": 1, "hair": 5, "beard": 6, "shirt": 7}  # the pass_index fallback (factors/parts.py)


def doc_binding_toml() -> str:
    """The first ```toml block of docs/bindings.md: the worked example's binding file."""
    match = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match, "docs/bindings.md has no toml example"
    return match.group(1)


def write_doc_bindings(folder: Path, name: str = "primitive_rig.toml") -> Path:
    path = Path(folder) / name
    path.write_text(doc_binding_toml(), encoding="utf-8")
    return path


def _sphere(name: str, radius: float, location, material: bpy.types.Material) -> bpy.types.Object:
    import bmesh  # needs bpy imported first

    mesh = bpy.data.meshes.new(name)
    bm = bmesh.new()
    bmesh.ops.create_uvsphere(bm, u_segments=16, v_segments=8, radius=radius)
    bm.to_mesh(mesh)
    bm.free()
    obj = bpy.data.objects.new(name, mesh)
    obj.location = location
    obj.data.materials.append(material)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def build_primitive_rig(*, size: int = 32, samples: int = 2) -> bpy.types.Scene:
    """The rig described in docs/bindings.md, in a factory-empty Blender."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.render.threads_mode = "FIXED"
    scene.render.threads = 1
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.cycles.samples = samples
    scene.cycles.use_denoising = False
    mats = {name: bpy.data.materials.new(name) for name in ("Skin", "HairMat", "BeardMat", "ShirtMat")}
    tree = mats["ShirtMat"].node_tree
    rgb = tree.nodes.new("ShaderNodeRGB")
    rgb.name = "Shirt RGB"
    tree.links.new(rgb.outputs[0], tree.nodes["Principled BSDF"].inputs["Base Color"])
    head = _sphere("Head", 1.0, (0, 0, 0), mats["Skin"])
    head.shape_key_add(name="Basis")
    for key in ("Old", "Female"):
        head.shape_key_add(name=key, from_mix=False)
    _sphere("Hair", 1.05, (0, 0, 0.35), mats["HairMat"]).scale = (1, 1, 0.6)
    _sphere("Beard", 0.4, (0, -0.75, -0.7), mats["BeardMat"])
    _sphere("Shirt", 1.5, (0, 0, -2.2), mats["ShirtMat"])
    for name, part in PARTS.items():
        obj = bpy.data.objects[name]
        obj["blurd_part"] = part
        obj.pass_index = PASS_INDEX[part]
    cam = bpy.data.objects.new("Cam", bpy.data.cameras.new("CamData"))
    scene.collection.objects.link(cam)
    cam.location = (0, -8, 0)
    cam.rotation_euler = (math.pi / 2, 0, 0)
    scene.camera = cam
    key = bpy.data.objects.new("Key", bpy.data.lights.new("KeyData", "AREA"))  # "Use Temperature" left off
    key.location = (-3, -4, 3)
    key.rotation_euler = (math.radians(50), 0, math.radians(-35))
    scene.collection.objects.link(key)
    world = bpy.data.worlds.new("Sky")
    scene.world = world
    return scene


def save_primitive_rig(path: Path, **kwargs) -> Path:
    """Build the rig and save it as a .blend (what a user hands to ``batch.py --blend``)."""
    build_primitive_rig(**kwargs)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path

"""A tiny stand-in scene for render and sweep tests: a sphere ("skin") and a cube ("shirt") in front of a camera.

It renders in a fraction of a second at 32..64 px, so the pass, determinism and kill-and-resume tests stay fast
and do not depend on the built-in human. ``apply_factors`` binds two factors: hair_color paints the sphere and
camera_angle yaws the camera around the origin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import bpy

CAMERA_DISTANCE = 5.0


def _material(name: str, rgb: tuple[float, float, float]) -> bpy.types.Material:
    material = bpy.data.materials.new(name)
    material.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*rgb, 1.0)
    return material


def build_scene(render=None, *, cube: bool = True) -> bpy.types.Scene:
    """A factory-empty scene with a unit sphere at the origin (pass index 1 = skin), optionally a cube to its
    lower right (pass index 7 = shirt), a camera 5 m away on -y looking at the origin, a sun and a grey world."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.render.threads_mode = "FIXED"
    scene.render.threads = 1
    scene.render.resolution_x = scene.render.resolution_y = 48
    scene.cycles.samples = 4

    import bmesh  # importable only once bpy is

    mesh = bpy.data.meshes.new("sphere")
    bm = bmesh.new()
    bmesh.ops.create_uvsphere(bm, u_segments=48, v_segments=24, radius=1.0)
    bm.to_mesh(mesh)
    bm.free()
    for polygon in mesh.polygons:
        polygon.use_smooth = True
    sphere = bpy.data.objects.new("Sphere", mesh)
    sphere.pass_index = 1
    sphere["blurd_part"] = "skin"  # the masks read this tag (the cube below is bound by its pass index alone)
    sphere.data.materials.append(_material("SphereMaterial", (0.8, 0.8, 0.8)))
    scene.collection.objects.link(sphere)

    if cube:
        cube_mesh = bpy.data.meshes.new("cube")
        bm = bmesh.new()
        bmesh.ops.create_cube(bm, size=0.6)
        bm.to_mesh(cube_mesh)
        bm.free()
        box = bpy.data.objects.new("Cube", cube_mesh)
        box.location = (1.1, -0.5, -1.1)
        box.pass_index = 7
        box.data.materials.append(_material("CubeMaterial", (0.1, 0.3, 0.8)))
        scene.collection.objects.link(box)

    camera = bpy.data.objects.new("BLURD_Camera", bpy.data.cameras.new("BLURD_Camera"))
    camera.data.lens = 50.0
    scene.collection.objects.link(camera)
    scene.camera = camera
    _place_camera(camera, 0.0)

    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (math.radians(40), 0.0, math.radians(-30))
    scene.collection.objects.link(sun)

    world = bpy.data.worlds.new("World")
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.05, 0.05, 0.05, 1.0)
    scene.world = world
    return scene


def _place_camera(camera: bpy.types.Object, yaw_degrees: float) -> None:
    yaw = math.radians(yaw_degrees)
    camera.location = (CAMERA_DISTANCE * math.sin(yaw), -CAMERA_DISTANCE * math.cos(yaw), 0.0)
    camera.rotation_euler = (math.pi / 2, 0.0, yaw)


def apply_factors(scene: bpy.types.Scene, values: Mapping[str, Any], bindings=None) -> None:
    """hair_color -> sphere base colour; camera_angle -> camera yaw."""
    from blurd import factors
    if "hair_color" in values:
        rgb = factors.FACTOR_BY_NAME["hair_color"].rgb(values["hair_color"])
        principled = bpy.data.materials["SphereMaterial"].node_tree.nodes["Principled BSDF"]
        principled.inputs["Base Color"].default_value = (*rgb, 1.0)
    if "camera_angle" in values:
        _place_camera(scene.camera, float(values["camera_angle"]))

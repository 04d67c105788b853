"""The built-in procedural worlds: studio, daylight sky, sunset and warm indoor, in one world node tree.

A 'World Index' value node picks the environment (0..3, see WORLD_INDEX) and the 'World Rotation' mapping node turns
it about the vertical axis, so the binding file drives both with plain node values. Every world has features that
move with rotation (softbox, sun, clouds, window), so rotating changes both the backdrop and the light on the face.
"""

from __future__ import annotations

import math

import bpy

from .materials import Nodes

WORLD_NAME = "BLURD_World"
WORLD_INDEX = {"studio": 0, "daylight": 1, "sunset": 2, "indoor": 3}


def _dir(elevation_deg: float, azimuth_deg: float) -> tuple[float, float, float]:
    """World direction for elevation/azimuth in degrees (azimuth 0 = behind the subject, toward the camera: -Y)."""
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    return (math.cos(e) * math.sin(a), -math.cos(e) * math.cos(a), math.sin(e))


class _WorldNodes(Nodes):
    def dot(self, vector: bpy.types.NodeSocket, direction: tuple[float, float, float]) -> bpy.types.NodeSocket:
        node = self.new("ShaderNodeVectorMath")
        node.operation = "DOT_PRODUCT"
        self.link(vector, node.inputs[0])
        node.inputs[1].default_value = direction
        return node.outputs["Value"]

    def spot(self, vector, direction, sharpness: float) -> bpy.types.NodeSocket:
        """0..1 glow around ``direction``: max(dot, 0) ** sharpness."""
        return self.math("POWER", self.math("MAXIMUM", self.dot(vector, direction), 0.0), sharpness)

    def remap(self, value, low: float, high: float) -> bpy.types.NodeSocket:
        """``value`` mapped linearly from low..high to 0..1, clamped."""
        node = self.new("ShaderNodeMapRange", From_Min=low, From_Max=high)
        self.link(value, node.inputs["Value"])
        return node.outputs["Result"]

    def ramp(self, factor, low, high, lo_colour, hi_colour) -> bpy.types.NodeSocket:
        return self.mix(self.remap(factor, low, high), lo_colour, hi_colour)

    def add(self, a, b, factor=1.0) -> bpy.types.NodeSocket:
        return self.mix(factor, a, b, blend="ADD")

    def noise(self, vector, scale: float, detail: float = 3.0) -> bpy.types.NodeSocket:
        node = self.new("ShaderNodeTexNoise", Scale=scale, Detail=detail)
        self.link(vector, node.inputs["Vector"])
        return node.outputs["Fac"]


def _studio(n: _WorldNodes, d, z) -> bpy.types.NodeSocket:
    """Grey cyclorama, lighter to one side, with a large softbox up and to the left."""
    backdrop = n.ramp(z, -0.4, 0.6, (0.05, 0.05, 0.055, 1), (0.30, 0.31, 0.33, 1))
    side = n.ramp(n.dot(d, _dir(0, 60)), -1.0, 1.0, (0.35, 0.35, 0.38, 1), (1.4, 1.4, 1.4, 1))
    lit = n.mix(1.0, backdrop, side, blend="MULTIPLY")
    return n.add(lit, (6.0, 6.0, 6.0, 1), n.spot(d, _dir(30, -40), 24.0))


def _daylight(n: _WorldNodes, d, z) -> bpy.types.NodeSocket:
    """Blue sky over a green-grey ground, drifting clouds and a high sun."""
    sky = n.ramp(z, 0.0, 0.6, (0.75, 0.85, 0.95, 1), (0.18, 0.38, 0.85, 1))
    clouds = n.math("MULTIPLY", n.remap(n.noise(d, 3.5, 5.0), 0.5, 0.75), n.remap(z, 0.02, 0.3))
    sky = n.mix(clouds, sky, (0.95, 0.95, 0.97, 1))
    world = n.mix(n.math("GREATER_THAN", z, 0.0), (0.16, 0.20, 0.10, 1), sky)
    return n.add(world, (40.0, 36.0, 30.0, 1), n.spot(d, _dir(45, 120), 300.0))


def _sunset(n: _WorldNodes, d, z) -> bpy.types.NodeSocket:
    """Orange horizon under a violet sky, streaked clouds, a low warm sun, dark ground."""
    sky = n.ramp(z, 0.0, 0.5, (1.0, 0.42, 0.12, 1), (0.16, 0.10, 0.32, 1))
    stretch = n.new("ShaderNodeVectorMath")
    stretch.operation = "MULTIPLY"
    n.link(d, stretch.inputs[0])
    stretch.inputs[1].default_value = (1.0, 1.0, 8.0)
    streaks = n.remap(n.noise(stretch.outputs["Vector"], 2.0), 0.45, 0.7)
    sky = n.mix(n.math("MULTIPLY", streaks, 0.6), sky, (0.95, 0.35, 0.45, 1))
    world = n.mix(n.math("GREATER_THAN", z, 0.0), (0.05, 0.03, 0.03, 1), sky)
    glow = n.add(world, (3.0, 1.2, 0.3, 1), n.spot(d, _dir(4, -110), 8.0))
    return n.add(glow, (30.0, 12.0, 3.0, 1), n.spot(d, _dir(4, -110), 600.0))


def _indoor(n: _WorldNodes, d, z) -> bpy.types.NodeSocket:
    """Warm wood-panelled room: panel stripes, a bright window to one side and a lamp glow."""
    panels = n.new("ShaderNodeTexWave", Scale=4.0, Distortion=1.5, Detail=2.0)
    panels.bands_direction = "X"
    n.link(d, panels.inputs["Vector"])
    wall = n.ramp(panels.outputs["Fac"], 0.0, 1.0, (0.22, 0.12, 0.06, 1), (0.42, 0.26, 0.13, 1))
    floor = (0.10, 0.06, 0.035, 1)
    room = n.mix(n.math("GREATER_THAN", z, -0.15), floor, wall)
    window = n.math("GREATER_THAN", n.dot(d, _dir(15, 70)), 0.93)
    room = n.mix(window, room, (2.2, 2.1, 1.9, 1))
    return n.add(room, (4.0, 2.2, 0.8, 1), n.spot(d, _dir(25, -50), 30.0))


BRANCHES = (_studio, _daylight, _sunset, _indoor)  # in WORLD_INDEX order


def build_world(scene: bpy.types.Scene) -> bpy.types.World:
    """The world with all four environments, switched by 'World Index' and turned by 'World Rotation'."""
    world = bpy.data.worlds.new(WORLD_NAME)
    tree = world.node_tree
    for node in list(tree.nodes):
        tree.nodes.remove(node)
    n = _WorldNodes(tree)
    coords = n.new("ShaderNodeTexCoord")
    mapping = n.new("ShaderNodeMapping", "World Rotation")
    mapping.vector_type = "VECTOR"
    n.link(coords.outputs["Generated"], mapping.inputs["Vector"])
    direction = n.new("ShaderNodeVectorMath")
    direction.operation = "NORMALIZE"
    n.link(mapping.outputs["Vector"], direction.inputs[0])
    d = direction.outputs["Vector"]
    z = n.new("ShaderNodeSeparateXYZ")
    n.link(d, z.inputs[0])
    index = n.value("World Index", 0.0)
    total = None
    for k, branch in enumerate(BRANCHES):
        weight = n.new("ShaderNodeMath")
        weight.operation = "COMPARE"
        n.link(index, weight.inputs[0])
        weight.inputs[1].default_value = float(k)
        weight.inputs[2].default_value = 0.5
        part = n.mix(weight.outputs[0], (0, 0, 0, 1), branch(n, d, z.outputs["Z"]))
        total = part if total is None else n.add(total, part)
    background = n.new("ShaderNodeBackground", "Background")
    n.link(total, background.inputs["Color"])
    background.inputs["Strength"].default_value = 1.0
    output = n.new("ShaderNodeOutputWorld")
    n.link(background.outputs[0], output.inputs["Surface"])
    # the default 1024 px importance map evaluates this large tree ~500k times per render; 128 px is plenty
    world.cycles.sampling_method = "MANUAL"
    world.cycles.sample_map_resolution = 128
    scene.world = world
    return world

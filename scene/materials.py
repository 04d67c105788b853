"""Materials of the built-in human. Every factor-driven input is a named RGB or Value node, so the binding file
can address it as ``material + node`` (see builtin_bindings.toml) without knowing how the material is wired.
"""

from __future__ import annotations

import bpy

RGBA = tuple[float, float, float, float]


class Nodes:
    """A thin helper over a node tree: create nodes with inputs set, link sockets, name driver nodes."""

    def __init__(self, tree: bpy.types.NodeTree) -> None:
        self.tree = tree

    def new(self, kind: str, name: str | None = None, **inputs) -> bpy.types.Node:
        node = self.tree.nodes.new(kind)
        if name:
            node.name = node.label = name
        for key, value in inputs.items():
            node.inputs[key.replace("_", " ")].default_value = value
        return node

    def rgb(self, name: str, colour: tuple[float, float, float]) -> bpy.types.NodeSocket:
        node = self.new("ShaderNodeRGB", name)
        node.outputs[0].default_value = (*colour, 1.0)
        return node.outputs[0]

    def value(self, name: str, value: float) -> bpy.types.NodeSocket:
        node = self.new("ShaderNodeValue", name)
        node.outputs[0].default_value = value
        return node.outputs[0]

    def link(self, src: bpy.types.NodeSocket, dst: bpy.types.NodeSocket) -> None:
        self.tree.links.new(src, dst)

    def math(self, op: str, a, b=0.0, *, clamp: bool = False) -> bpy.types.NodeSocket:
        node = self.new("ShaderNodeMath")
        node.operation = op
        node.use_clamp = clamp
        for socket, value in ((node.inputs[0], a), (node.inputs[1], b)):
            if isinstance(value, bpy.types.NodeSocket):
                self.link(value, socket)
            else:
                socket.default_value = value
        return node.outputs[0]

    def mix(self, factor, a, b, blend: str = "MIX") -> bpy.types.NodeSocket:
        """Colour mix of a and b by factor (sockets or constants)."""
        node = self.new("ShaderNodeMix")
        node.data_type = "RGBA"
        node.blend_type = blend
        sockets = {s.identifier: s for s in node.inputs}
        for socket, value in ((sockets["Factor_Float"], factor), (sockets["A_Color"], a), (sockets["B_Color"], b)):
            if isinstance(value, bpy.types.NodeSocket):
                self.link(value, socket)
            else:
                socket.default_value = value
        return next(s for s in node.outputs if s.identifier == "Result_Color")

    def hsv(self, colour: bpy.types.NodeSocket, *, saturation: float = 1.0, value: float = 1.0) -> bpy.types.NodeSocket:
        """``colour`` with its saturation and value scaled, its hue kept (a lighter or darker shade of one tone)."""
        node = self.new("ShaderNodeHueSaturation", Hue=0.5, Saturation=saturation, Value=value, Fac=1.0)
        self.link(colour, node.inputs["Color"])
        return node.outputs["Color"]

    def object_coords(self) -> bpy.types.NodeSocket:
        return self.new("ShaderNodeTexCoord").outputs["Object"]

    def diagonal_stripes(self, coords: bpy.types.NodeSocket, scale: float, width: float,
                         strength: float) -> bpy.types.NodeSocket:
        """A tie's woven diagonal stripes: ``strength`` on the stripes, 0 between them; ``width`` is the share of a
        saw wave's period a stripe leaves uncovered (0.8: thin stripes)."""
        wave = self.new("ShaderNodeTexWave", Scale=scale, Distortion=0.0)
        wave.wave_profile = "SAW"
        wave.bands_direction = "DIAGONAL"
        self.link(coords, wave.inputs["Vector"])
        return self.math("MULTIPLY", self.math("GREATER_THAN", wave.outputs["Fac"], width), strength)

    def separate(self, vector: bpy.types.NodeSocket) -> bpy.types.Node:
        node = self.new("ShaderNodeSeparateXYZ")
        self.link(vector, node.inputs[0])
        return node

    def bump(self, height: bpy.types.NodeSocket, strength, distance: float = 0.001) -> bpy.types.NodeSocket:
        node = self.new("ShaderNodeBump", Distance=distance)
        self.link(height, node.inputs["Height"])
        if isinstance(strength, bpy.types.NodeSocket):
            self.link(strength, node.inputs["Strength"])
        else:
            node.inputs["Strength"].default_value = strength
        return node.outputs[0]


def _principled(name: str) -> tuple[bpy.types.Material, Nodes, bpy.types.Node]:
    mat = bpy.data.materials.new(name)
    nodes = Nodes(mat.node_tree)
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    return mat, nodes, bsdf


def skin(name: str = "BLURD_Skin") -> bpy.types.Material:
    """Skin tone (race) aged by 'Age' (0 young .. 1 old): a paler shade of the same tone with darker spots of it,
    and wrinkles through a bump."""
    mat, n, bsdf = _principled(name)
    tone = n.rgb("Skin Tone", (0.62, 0.38, 0.28))
    age = n.value("Age", 0.0)
    coords = n.object_coords()
    blotch = n.new("ShaderNodeTexNoise", Scale=60.0, Detail=2.0)
    n.link(coords, blotch.inputs["Vector"])
    # Ageing stays within the race's tone (hue and saturation kept): slightly paler, with darker spots of the same
    # tone. Mixing toward one fixed pale colour would turn every old face Caucasian (age entangled with race).
    paler = n.hsv(tone, saturation=0.92, value=1.08)
    spots = n.hsv(tone, saturation=1.05, value=0.72)
    aged = n.mix(n.math("MULTIPLY", blotch.outputs["Fac"], 0.5), paler, spots)
    n.link(n.mix(age, tone, aged), bsdf.inputs["Base Color"])
    wrinkles = n.new("ShaderNodeTexWave", Scale=45.0, Distortion=2.0, Detail=1.0)
    wrinkles.bands_direction = "Z"
    n.link(coords, wrinkles.inputs["Vector"])
    xyz = n.separate(coords)
    forehead = n.new("ShaderNodeMapRange", From_Min=0.025, From_Max=0.045)  # wrinkles on the forehead only
    n.link(xyz.outputs["Z"], forehead.inputs["Value"])
    face = n.new("ShaderNodeMapRange", From_Min=-0.05, From_Max=-0.08)
    n.link(xyz.outputs["Y"], face.inputs["Value"])
    band = n.math("MULTIPLY", forehead.outputs["Result"], face.outputs["Result"])
    strength = n.math("MULTIPLY", n.math("MULTIPLY", age, 0.6), band)
    n.link(n.bump(wrinkles.outputs["Fac"], strength, 0.002), bsdf.inputs["Normal"])
    bsdf.inputs["Roughness"].default_value = 0.55
    bsdf.inputs["Specular IOR Level"].default_value = 0.35
    return mat


def eyelid() -> bpy.types.Material:
    """Skin with eyeshadow on the upper lid and eyeliner along both lash lines (read from the 'lid_margin' attribute:
    0..1 on the upper lid, 1 at its edge; 0..-0.5 on the lower lid, -0.5 at its edge)."""
    mat, n, bsdf = _principled("BLURD_Eyelid")
    tone = n.rgb("Skin Tone", (0.62, 0.38, 0.28))
    margin = n.new("ShaderNodeAttribute")
    margin.attribute_name = "lid_margin"
    m = margin.outputs["Fac"]
    upper = n.math("GREATER_THAN", m, 0.05)
    shadow_amount = n.value("Eyeshadow Amount", 0.0)
    shadow = n.mix(n.math("MULTIPLY", upper, shadow_amount), tone, n.rgb("Eyeshadow Colour", (0.5, 0.2, 0.5)))
    liner_mask = n.math("MAXIMUM", n.math("GREATER_THAN", m, 0.72), n.math("LESS_THAN", m, -0.42))
    liner_amount = n.value("Eyeliner Amount", 0.0)
    lined = n.mix(n.math("MULTIPLY", liner_mask, liner_amount), shadow, n.rgb("Eyeliner Colour", (0.02, 0.02, 0.02)))
    n.link(lined, bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.5
    bsdf.inputs["Specular IOR Level"].default_value = 0.35
    return mat


def eye() -> bpy.types.Material:
    """White sclera, iris ring ('Iris Colour') and black pupil, centred on the eyeball's -Y axis; glossy cornea."""
    mat, n, bsdf = _principled("BLURD_Eye")
    xyz = n.separate(n.object_coords())
    radial = n.new("ShaderNodeVectorMath")
    radial.operation = "LENGTH"
    combine = n.new("ShaderNodeCombineXYZ")
    n.link(xyz.outputs["X"], combine.inputs["X"])
    n.link(xyz.outputs["Z"], combine.inputs["Z"])
    n.link(combine.outputs[0], radial.inputs[0])
    r = n.math("DIVIDE", radial.outputs["Value"], 0.0125)
    facing = n.math("LESS_THAN", xyz.outputs["Y"], 0.0)
    iris = n.math("MULTIPLY", n.math("LESS_THAN", r, 0.56), facing)
    pupil = n.math("MULTIPLY", n.math("LESS_THAN", r, 0.22), facing)
    colour = n.mix(iris, (0.70, 0.66, 0.63, 1.0), n.rgb("Iris Colour", (0.25, 0.12, 0.04)))
    colour = n.mix(pupil, colour, (0.005, 0.005, 0.005, 1.0))
    n.link(colour, bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.25
    bsdf.inputs["Coat Weight"].default_value = 0.8
    bsdf.inputs["Coat Roughness"].default_value = 0.05
    return mat


def lips() -> bpy.types.Material:
    """Natural lip tone (race) under an optional lipstick ('Lipstick Amount' 0 or 1)."""
    mat, n, bsdf = _principled("BLURD_Lips")
    tone = n.rgb("Lip Tone", (0.45, 0.17, 0.15))
    amount = n.value("Lipstick Amount", 0.0)
    n.link(n.mix(amount, tone, n.rgb("Lipstick Colour", (0.8, 0.05, 0.05))), bsdf.inputs["Base Color"])
    n.link(n.math("SUBTRACT", 0.5, n.math("MULTIPLY", amount, 0.25)), bsdf.inputs["Roughness"])
    return mat


def hair(name: str, colour_node: str) -> bpy.types.Material:
    """Hair colour ('<colour_node>') with strand streaks from a stretched wave bump; 'Greying' (0 by default) is free
    for user binding files (the built-in bindings keep colour and age apart)."""
    mat, n, bsdf = _principled(name)
    base = n.rgb(colour_node, (0.02, 0.02, 0.02))
    greying = n.value("Greying", 0.0)
    coords = n.object_coords()
    streaks = n.new("ShaderNodeTexWave", Scale=260.0, Distortion=3.0, Detail=2.0)
    streaks.bands_direction = "Z"
    n.link(coords, streaks.inputs["Vector"])
    grey = n.mix(greying, base, (0.55, 0.55, 0.55, 1.0))
    shade = n.mix(n.math("MULTIPLY", streaks.outputs["Fac"], 0.25), grey, (0.0, 0.0, 0.0, 1.0))
    n.link(shade, bsdf.inputs["Base Color"])
    n.link(n.bump(streaks.outputs["Fac"], 0.25, 0.001), bsdf.inputs["Normal"])
    bsdf.inputs["Roughness"].default_value = 0.45
    bsdf.inputs["Sheen Weight"].default_value = 0.3
    return mat


def cloth(name: str, colour_node: str, default: tuple[float, float, float], *, stripes: bool) -> bpy.types.Material:
    """Fabric: a flat colour ('<colour_node>') with a weave bump; the tie adds faint diagonal stripes."""
    mat, n, bsdf = _principled(name)
    base = n.rgb(colour_node, default)
    coords = n.object_coords()
    weave = n.new("ShaderNodeTexNoise", Scale=400.0, Detail=1.0)
    n.link(coords, weave.inputs["Vector"])
    colour = base
    if stripes:
        colour = n.mix(n.diagonal_stripes(coords, 18.0, 0.8, 0.35), base, (0.0, 0.0, 0.0, 1.0))
    n.link(colour, bsdf.inputs["Base Color"])
    n.link(n.bump(weave.outputs["Fac"], 0.15), bsdf.inputs["Normal"])
    bsdf.inputs["Roughness"].default_value = 0.8 if not stripes else 0.45
    bsdf.inputs["Sheen Weight"].default_value = 0.4
    return mat


def eyebrow() -> bpy.types.Material:
    mat, n, bsdf = _principled("BLURD_Eyebrow")
    n.link(n.rgb("Eyebrow Colour", (0.02, 0.02, 0.02)), bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.6
    return mat


def build_all() -> dict[str, bpy.types.Material]:
    """Every material of the built-in human, keyed by the role the builder assigns it to."""
    return {
        "skin": skin(),
        "eyelid": eyelid(),
        "eye": eye(),
        "lips": lips(),
        "eyebrow": eyebrow(),
        "hair": hair("BLURD_Hair", "Hair Colour"),
        "beard": hair("BLURD_Beard", "Beard Colour"),
        "shirt": cloth("BLURD_Shirt", "Shirt Colour", (0.9, 0.9, 0.9), stripes=False),
        "tie": cloth("BLURD_Tie", "Tie Colour", (0.05, 0.15, 0.8), stripes=True),
    }

"""Hair materials: the Principled Hair BSDF, natural colours by melanin and dyes by direct colouring.

Each part (hair, beard, eyebrows, eyelashes) has its own material holding four named knobs (palette.KNOBS) that
a binding file sets: the dye colour (RGB), 'Dye' (1 direct colour, 0 melanin), 'Melanin' and 'Redness'. They feed
one shared node group, BLURD_HairShading, that mixes a melanin BSDF and a direct-colour BSDF by 'Dye'. The knob
values are constants at render time, so Cycles folds the mix and shades only the branch in use.

Hair needs glossy and transmission bounces to render its colour: see the light-path note in ``LIGHT_PATHS``.
"""

from __future__ import annotations

import bpy

from .palette import KNOBS, NATURAL
from .styles import StrandPart

GROUP_NAME = "BLURD_HairShading"
DYE_GAMMA = 2.0  # see shading_group: keeps dyed hair the colour its factor names

# What hair needs from the scene's light paths (Cycles): light reaches inner strands and leaves fair hair only by
# passing through other strands (transmission) and reflecting off them (glossy); direct light alone leaves grey and
# blonde hair near-black. The body engineer's light-path settings should give at least these.
LIGHT_PATHS = {"max_bounces": 8, "glossy_bounces": 4, "transmission_bounces": 8, "transparent_max_bounces": 8}

DEFAULTS: dict[StrandPart, str] = {  # the colour a material starts with, before any binding runs
    StrandPart.HAIR: "black",
    StrandPart.BEARD: "black",
    StrandPart.EYEBROWS: "black",
    StrandPart.EYELASHES: "black",
}


def shading_group() -> bpy.types.ShaderNodeTree:
    """The shared node group (created once per Blender file)."""
    group = bpy.data.node_groups.get(GROUP_NAME)
    if group is not None:
        return group
    group = bpy.data.node_groups.new(GROUP_NAME, "ShaderNodeTree")
    iface = group.interface
    iface.new_socket("Colour", in_out="INPUT", socket_type="NodeSocketColor")
    for name, default in (("Dye", 1.0), ("Melanin", 0.8), ("Redness", 0.1)):
        sock = iface.new_socket(name, in_out="INPUT", socket_type="NodeSocketFloat")
        sock.default_value, sock.min_value, sock.max_value = default, 0.0, 1.0
    iface.new_socket("BSDF", in_out="OUTPUT", socket_type="NodeSocketShader")
    nodes, links = group.nodes, group.links
    inp, out = nodes.new("NodeGroupInput"), nodes.new("NodeGroupOutput")
    natural = nodes.new("ShaderNodeBsdfHairPrincipled")
    natural.parametrization = "MELANIN"
    dyed = nodes.new("ShaderNodeBsdfHairPrincipled")
    dyed.parametrization = "COLOR"
    for bsdf in (natural, dyed):
        bsdf.model = "CHIANG"
        bsdf.inputs["Roughness"].default_value = 0.28
        bsdf.inputs["Radial Roughness"].default_value = 0.35
        bsdf.inputs["Coat"].default_value = 0.0
        bsdf.inputs["Random Roughness"].default_value = 0.15
    natural.inputs["Random Color"].default_value = 0.15
    links.new(inp.outputs["Melanin"], natural.inputs["Melanin"])
    links.new(inp.outputs["Redness"], natural.inputs["Melanin Redness"])
    # The BSDF's direct colouring aims the colour at the light scattered many times among strands; the white
    # primary reflection on top washes it out (a red dye rendered pink: (1, .33, .33) for (1, .06, .06) in linear
    # light). Squaring the colour first brings it back to (1, .15, .15), blue (.14, .24, 1) for (.06, .19, 1).
    saturate = nodes.new("ShaderNodeGamma")
    saturate.inputs["Gamma"].default_value = DYE_GAMMA
    links.new(inp.outputs["Colour"], saturate.inputs["Color"])
    links.new(saturate.outputs["Color"], dyed.inputs["Color"])
    mix = nodes.new("ShaderNodeMixShader")
    links.new(inp.outputs["Dye"], mix.inputs["Fac"])
    links.new(natural.outputs[0], mix.inputs[1])
    links.new(dyed.outputs[0], mix.inputs[2])
    links.new(mix.outputs[0], out.inputs["BSDF"])
    return group


def hair_material(part: StrandPart) -> bpy.types.Material:
    """A new hair material for ``part`` named ``KNOBS[part].material`` with its four binding knobs."""
    knobs = KNOBS[part]
    mat = bpy.data.materials.new(knobs.material)
    tree = mat.node_tree
    tree.nodes.clear()
    group = tree.nodes.new("ShaderNodeGroup")
    group.node_tree = shading_group()
    output = tree.nodes.new("ShaderNodeOutputMaterial")
    tree.links.new(group.outputs["BSDF"], output.inputs["Surface"])
    pigment = NATURAL[DEFAULTS[part]]
    rgb = tree.nodes.new("ShaderNodeRGB")
    rgb.name = rgb.label = knobs.colour
    rgb.outputs[0].default_value = (0.02, 0.02, 0.02, 1.0)
    tree.links.new(rgb.outputs[0], group.inputs["Colour"])
    for name, socket, value in ((knobs.dye, "Dye", 0.0), (knobs.melanin, "Melanin", pigment.melanin),
                                (knobs.redness, "Redness", pigment.redness)):
        node = tree.nodes.new("ShaderNodeValue")
        node.name = node.label = name
        node.outputs[0].default_value = value
        tree.links.new(node.outputs[0], group.inputs[socket])
    return mat


def set_colour(mat: bpy.types.Material, part: StrandPart, name: str, rgb: tuple[float, float, float]) -> None:
    """Set a material's knobs as the binding file does for colour ``name`` (for previews and tests without one)."""
    knobs = KNOBS[part]
    nodes = mat.node_tree.nodes
    nodes[knobs.colour].outputs[0].default_value = (*rgb, 1.0)
    pigment = NATURAL.get(name)
    nodes[knobs.dye].outputs[0].default_value = 0.0 if pigment else 1.0
    if pigment:
        nodes[knobs.melanin].outputs[0].default_value = pigment.melanin
        nodes[knobs.redness].outputs[0].default_value = pigment.redness

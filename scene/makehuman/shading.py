"""Materials of the MakeHuman human: subsurface skin with procedural micro-detail and ageing, lips with lipstick,
make-up on the CC0 UV masks, eyes with an iris and a wet cornea, the mouth, the shirt and the tie.

Every factor-driven input is a named RGB or Value node (the binding file addresses ``material + node``). Ageing
never mixes toward another colour: it darkens spots of the skin's own tone, adds wrinkles and roughness, so each
race keeps its tone at every age (issue 14 item 7).
"""

from __future__ import annotations

import bpy
import numpy as np

from ..materials import Nodes
from .assets import Assets

SKIN = "BLURD_Skin"
LIPS = "BLURD_Lips"
EYE = "BLURD_Eye"
MOUTH = "BLURD_Mouth"
TEETH = "BLURD_Teeth"
SHIRT = "BLURD_Shirt"
TIE = "BLURD_Tie"
MASK_IMAGES = {"lips": "BLURD_MaskLips", "eyelids": "BLURD_MaskEyelids", "eyeliner": "BLURD_MaskEyeliner"}
# skin tone per race, scene-linear (the binding file sets "Skin Tone" from these)
SKIN_TONES = {"caucasian": (0.76, 0.45, 0.31), "asian": (0.70, 0.45, 0.27), "hispanic": (0.48, 0.28, 0.16),
              "african": (0.18, 0.085, 0.048)}
IRIS_ANGLE = 0.40  # radians from the gaze axis to the iris edge (an ~11.5 mm iris on the 16 mm hm08 eye sphere)
PUPIL_ANGLE = 0.14


def _material(name: str, part: str) -> tuple[bpy.types.Material, Nodes, bpy.types.Node]:
    mat = bpy.data.materials.new(name)
    mat["blurd_part"] = part  # the masks read objects first; every mesh here has one part
    return mat, Nodes(mat.node_tree), mat.node_tree.nodes["Principled BSDF"]


def mask_images(assets: Assets) -> dict[str, bpy.types.Image]:
    """The CC0 UV masks as packed float images (non-colour data), made once per file."""
    out = {}
    for key, name in MASK_IMAGES.items():
        image = bpy.data.images.get(name)
        if image is None:
            mask = assets.masks[key].astype(np.float32) / 255.0
            h, w = mask.shape
            image = bpy.data.images.new(name, w, h, alpha=False, float_buffer=True, is_data=True)
            rgba = np.repeat(mask[..., None], 4, axis=-1)
            rgba[..., 3] = 1.0
            image.pixels.foreach_set(rgba.ravel())
            image.pack()
        out[key] = image
    return out


def _uv_mask(n: Nodes, image: bpy.types.Image, box: np.ndarray) -> bpy.types.NodeSocket:
    """A UV mask sampled through the crop box the converter stored."""
    uv = n.new("ShaderNodeUVMap")
    mapping = n.new("ShaderNodeMapping")
    mapping.vector_type = "POINT"
    du, dv = box[2] - box[0], box[3] - box[1]
    mapping.inputs["Scale"].default_value = (1.0 / du, 1.0 / dv, 1.0)
    mapping.inputs["Location"].default_value = (-box[0] / du, -box[1] / dv, 0.0)
    n.link(uv.outputs["UV"], mapping.inputs["Vector"])
    tex = n.new("ShaderNodeTexImage")
    tex.image = image
    tex.extension = "CLIP"
    tex.interpolation = "Cubic"
    n.link(mapping.outputs["Vector"], tex.inputs["Vector"])
    return tex.outputs["Color"]


def _attribute(n: Nodes, name: str) -> bpy.types.NodeSocket:
    node = n.new("ShaderNodeAttribute")
    node.attribute_name = name
    return node.outputs["Fac"]


def _noise(n: Nodes, coords, scale: float, detail: float = 2.0, roughness: float = 0.5) -> bpy.types.NodeSocket:
    node = n.new("ShaderNodeTexNoise", Scale=scale, Detail=detail, Roughness=roughness)
    n.link(coords, node.inputs["Vector"])
    return node.outputs["Fac"]


def _map(n: Nodes, value, lo: float, hi: float, to_lo: float = 0.0, to_hi: float = 1.0) -> bpy.types.NodeSocket:
    node = n.new("ShaderNodeMapRange", From_Min=lo, From_Max=hi, To_Min=to_lo, To_Max=to_hi)
    node.clamp = True
    n.link(value, node.inputs["Value"])
    return node.outputs["Result"]


def _scale_colour(n: Nodes, colour, factor) -> bpy.types.NodeSocket:
    """``colour`` times a scalar socket or number (a lighter or darker shade of the same tone)."""
    node = n.new("ShaderNodeVectorMath")
    node.operation = "SCALE"
    n.link(colour, node.inputs[0])
    if isinstance(factor, bpy.types.NodeSocket):
        n.link(factor, node.inputs["Scale"])
    else:
        node.inputs["Scale"].default_value = factor
    return node.outputs["Vector"]


def _skin_surface(mat: bpy.types.Material, n: Nodes, bsdf: bpy.types.Node, assets: Assets,
                  images: dict[str, bpy.types.Image]) -> tuple[bpy.types.NodeSocket, bpy.types.NodeSocket]:
    """The shared skin: tone with variation and redness, natural lip colour, age spots, wrinkles and pores.

    Returns (base colour, lips mask) for the caller to add make-up on top.
    """
    tone = n.rgb("Skin Tone", SKIN_TONES["caucasian"])
    age = n.value("Age", 0.2)
    coords = n.object_coords()
    # colour variation: fine mottling and broad blotches, as shades of the tone
    fine = _map(n, _noise(n, coords, 220.0, 6.0, 0.6), 0.3, 0.7, 0.93, 1.06)
    broad = _map(n, _noise(n, coords, 18.0, 3.0), 0.35, 0.65, 0.94, 1.05)
    colour = _scale_colour(n, _scale_colour(n, tone, fine), broad)
    # redness at cheeks, nose, ears (a vertex attribute) and the lips (the CC0 mask): the tone pushed to red
    lips = n.math("POWER", _uv_mask(n, images["lips"], assets.mask_box), 0.8)
    redness = n.math("ADD", n.math("MULTIPLY", _attribute(n, "redness"), 0.5), n.math("MULTIPLY", lips, 0.9),
                     clamp=True)
    red = n.mix(1.0, colour, (1.0, 0.52, 0.52, 1.0), blend="MULTIPLY")
    red = _scale_colour(n, red, 1.05)
    colour = n.mix(redness, colour, red)
    colour = _scale_colour(n, colour, _map(n, lips, 0.3, 0.9, 1.0, 0.8))  # lips a shade darker than the face
    # age: darker spots of the same tone (lentigines), more uneven; never toward another colour
    spots = _map(n, _noise(n, coords, 70.0, 4.0, 0.7), 0.58, 0.68)
    spot_amount = n.math("MULTIPLY", spots, n.math("MULTIPLY", _map(n, age, 0.45, 1.0), 0.55))
    colour = n.mix(spot_amount, colour, _scale_colour(n, n.mix(1.0, colour, colour, blend="MULTIPLY"), 1.6))
    # a man's shaving shadow: the lower face a little darker and cooler (stubble under the skin)
    shadow = n.math("MULTIPLY", n.math("MULTIPLY", _attribute(n, "beard"), n.value("Male", 1.0)), 0.18)
    colour = n.mix(shadow, colour, n.mix(1.0, colour, (0.62, 0.62, 0.66, 1.0), blend="MULTIPLY"))
    n.link(colour, bsdf.inputs["Base Color"])
    # subsurface scattering: red light travels furthest
    bsdf.subsurface_method = "BURLEY"
    bsdf.inputs["Subsurface Weight"].default_value = 1.0
    bsdf.inputs["Subsurface Radius"].default_value = (1.0, 0.38, 0.2)
    bsdf.inputs["Subsurface Scale"].default_value = 0.004
    # roughness: shinier T-zone, rougher with age
    rough = n.math("ADD", 0.40, n.math("MULTIPLY", _noise(n, coords, 40.0), 0.12))
    rough = n.math("ADD", rough, n.math("MULTIPLY", age, 0.10))
    rough = n.math("SUBTRACT", rough, n.math("MULTIPLY", _attribute(n, "tzone"), 0.10))
    n.link(rough, bsdf.inputs["Roughness"])
    bsdf.inputs["Specular IOR Level"].default_value = 0.55
    # height: pores everywhere, fine lines and wrinkles with age
    pores = n.new("ShaderNodeTexVoronoi", Scale=1800.0)
    pores.feature = "DISTANCE_TO_EDGE"
    n.link(coords, pores.inputs["Vector"])
    height = n.math("MULTIPLY", pores.outputs["Distance"], 0.6)
    height = n.math("ADD", height, n.math("MULTIPLY", _noise(n, coords, 600.0, 3.0), 0.4))
    forehead = n.new("ShaderNodeTexWave", Scale=38.0, Distortion=3.0, Detail=2.0)
    forehead.bands_direction = "Z"
    n.link(coords, forehead.inputs["Vector"])
    lines = n.math("MULTIPLY", forehead.outputs["Fac"], _attribute(n, "forehead"))
    folds = n.math("ADD", n.math("MULTIPLY", _attribute(n, "folds"), -1.5), lines)
    fine_lines = n.math("MULTIPLY", _map(n, _noise(n, coords, 90.0, 8.0, 0.75), 0.45, 0.55), 0.5)
    wrinkle = n.math("MULTIPLY", n.math("ADD", folds, fine_lines), _map(n, age, 0.25, 1.0))
    normal = n.bump(height, 0.12, 0.00025)
    bump = n.new("ShaderNodeBump", Distance=0.0012)
    bump.inputs["Strength"].default_value = 0.6
    n.link(wrinkle, bump.inputs["Height"])
    n.link(normal, bump.inputs["Normal"])
    n.link(bump.outputs["Normal"], bsdf.inputs["Normal"])
    return colour, lips


def _dark_to_bounces(mat: bpy.types.Material, n: Nodes, bsdf: bpy.types.Node) -> None:
    """Glossy and transmission rays (hair strands' bounces, eye reflections) see this surface as a black occluder:
    make-up on the skin then never tints the hair, brows or eyes that reflect it (control fidelity), while
    camera rays, shadows and subsurface scattering are untouched."""
    output = next(node for node in mat.node_tree.nodes if node.bl_idname == "ShaderNodeOutputMaterial")
    path = n.new("ShaderNodeLightPath")
    bounce = n.math("MAXIMUM", path.outputs["Is Glossy Ray"], path.outputs["Is Transmission Ray"])
    black = n.new("ShaderNodeBsdfDiffuse")
    black.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    mix = n.new("ShaderNodeMixShader")
    n.link(bounce, mix.inputs["Fac"])
    n.link(bsdf.outputs[0], mix.inputs[1])
    n.link(black.outputs[0], mix.inputs[2])
    n.link(mix.outputs[0], output.inputs["Surface"])


def skin(assets: Assets) -> bpy.types.Material:
    """The skin of the face and body, with eyeshadow on the eyelids and eyeliner along the lash line."""
    mat, n, bsdf = _material(SKIN, "skin")
    images = mask_images(assets)
    colour, _ = _skin_surface(mat, n, bsdf, assets, images)
    lids = _uv_mask(n, images["eyelids"], assets.mask_box)
    shadow = n.math("MULTIPLY", n.math("POWER", lids, 0.7), n.value("Eyeshadow Amount", 0.0))
    colour = n.mix(n.math("MULTIPLY", shadow, 0.85), colour, n.rgb("Eyeshadow Colour", (0.5, 0.2, 0.5)))
    liner = n.math("MULTIPLY", _uv_mask(n, images["eyeliner"], assets.mask_box), n.value("Eyeliner Amount", 0.0))
    colour = n.mix(liner, colour, n.rgb("Eyeliner Colour", (0.02, 0.02, 0.02)))
    n.link(colour, bsdf.inputs["Base Color"])
    _dark_to_bounces(mat, n, bsdf)
    return mat


def lips(assets: Assets) -> bpy.types.Material:
    """The lips: the same skin (seamless at the border) under an optional lipstick."""
    mat, n, bsdf = _material(LIPS, "lips")
    images = mask_images(assets)
    colour, mask = _skin_surface(mat, n, bsdf, assets, images)
    amount = n.math("MULTIPLY", _map(n, mask, 0.25, 0.6), n.value("Lipstick Amount", 0.0))
    n.link(n.mix(amount, colour, n.rgb("Lipstick Colour", (0.8, 0.05, 0.05))), bsdf.inputs["Base Color"])
    rough = bsdf.inputs["Roughness"].links[0].from_socket
    n.link(n.math("SUBTRACT", rough, n.math("MULTIPLY", amount, 0.2)), bsdf.inputs["Roughness"])
    _dark_to_bounces(mat, n, bsdf)
    return mat


def eye() -> bpy.types.Material:
    """Sclera, an iris ('Iris Colour') with radial fibres and a dark limbal ring, a pupil, under a wet cornea.

    The iris is centred on the object's -Y axis; the eye objects track the camera so the gaze meets it.
    """
    mat, n, bsdf = _material(EYE, "eyes")
    coords = n.object_coords()
    unit = n.new("ShaderNodeVectorMath")
    unit.operation = "NORMALIZE"
    n.link(coords, unit.inputs[0])
    xyz = n.separate(unit.outputs["Vector"])
    angle = n.math("ARCCOSINE", n.math("MULTIPLY", xyz.outputs["Y"], -1.0))
    around = n.new("ShaderNodeMath")
    around.operation = "ARCTAN2"
    n.link(xyz.outputs["X"], around.inputs[0])
    n.link(xyz.outputs["Z"], around.inputs[1])
    iris = n.math("LESS_THAN", angle, IRIS_ANGLE)
    pupil = n.math("LESS_THAN", angle, PUPIL_ANGLE)
    radial = n.math("DIVIDE", n.math("SUBTRACT", angle, PUPIL_ANGLE), IRIS_ANGLE - PUPIL_ANGLE)  # 0 pupil, 1 edge
    fibre_coords = n.new("ShaderNodeCombineXYZ")
    n.link(n.math("MULTIPLY", around.outputs[0], 9.0), fibre_coords.inputs["X"])
    n.link(n.math("MULTIPLY", radial, 1.2), fibre_coords.inputs["Y"])
    fibres = _map(n, _noise(n, fibre_coords.outputs[0], 3.0, 6.0, 0.7), 0.3, 0.7, 0.5, 1.15)
    base = n.rgb("Iris Colour", (0.25, 0.12, 0.04))
    iris_colour = _scale_colour(n, base, fibres)
    collarette = _map(n, radial, 0.15, 0.45, 1.2, 0.85)  # a lighter ring round the pupil
    limbal = _map(n, radial, 0.75, 1.0, 1.0, 0.25)  # a dark ring at the edge
    iris_colour = _scale_colour(n, _scale_colour(n, iris_colour, collarette), limbal)
    sclera_red = n.math("MULTIPLY", _map(n, angle, 0.7, 1.4), 0.5)
    sclera = n.mix(sclera_red, (0.56, 0.52, 0.49, 1.0), (0.55, 0.36, 0.33, 1.0))
    colour = n.mix(iris, sclera, iris_colour)
    colour = n.mix(pupil, colour, (0.004, 0.004, 0.004, 1.0))
    n.link(colour, bsdf.inputs["Base Color"])
    n.link(n.math("SUBTRACT", 0.35, n.math("MULTIPLY", iris, 0.2)), bsdf.inputs["Roughness"])
    bsdf.inputs["Coat Weight"].default_value = 1.0
    bsdf.inputs["Coat Roughness"].default_value = 0.02
    bsdf.inputs["Coat IOR"].default_value = 1.376
    bsdf.inputs["Subsurface Weight"].default_value = 0.0
    return mat


def mouth() -> tuple[bpy.types.Material, bpy.types.Material]:
    """Teeth and the tongue / inner mouth (part skin)."""
    teeth, _, bsdf = _material(TEETH, "skin")
    bsdf.inputs["Base Color"].default_value = (0.78, 0.72, 0.62, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.25
    inner, _, bsdf = _material(MOUTH, "skin")
    bsdf.inputs["Base Color"].default_value = (0.35, 0.08, 0.08, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.35
    return teeth, inner


def cloth(name: str, colour_node: str, default: tuple[float, float, float], part: str, *,
          tie: bool) -> bpy.types.Material:
    """Fabric of the colour '<colour_node>': cotton weave and soft folds for the shirt, silk twill with stripes for
    the tie."""
    mat, n, bsdf = _material(name, part)
    base = n.rgb(colour_node, default)
    coords = n.object_coords()
    colour = base
    if tie:
        colour = n.mix(n.diagonal_stripes(coords, 22.0, 0.82, 0.45), base, _scale_colour(n, base, 0.35))
    n.link(colour, bsdf.inputs["Base Color"])
    weave = n.new("ShaderNodeTexWave", Scale=1500.0 if not tie else 2200.0, Distortion=0.5)
    weave.bands_direction = "DIAGONAL" if tie else "X"
    n.link(coords, weave.inputs["Vector"])
    height = n.math("MULTIPLY", weave.outputs["Fac"], 0.3)
    if not tie:  # soft drape folds, stretched vertically, and sewn seams (a groove with a line of stitches)
        stretch = n.new("ShaderNodeMapping")
        stretch.inputs["Scale"].default_value = (1.0, 1.0, 0.25)
        n.link(coords, stretch.inputs["Vector"])
        height = n.math("ADD", height, n.math("MULTIPLY", _noise(n, stretch.outputs["Vector"], 14.0, 2.0), 2.0))
        seam = n.math("MINIMUM", n.math("ABSOLUTE", _attribute(n, "seam_arm")),
                      n.math("ABSOLUTE", _attribute(n, "seam_top")))
        seam = _map(n, seam, 0.0012, 0.0004)  # a sewn line ~1.5 mm wide
        u, v = _attribute(n, "pocket_u"), _attribute(n, "pocket_v")
        inside = n.math("MULTIPLY", n.math("MULTIPLY", n.math("GREATER_THAN", u, 0.0), n.math("LESS_THAN", u, 1.0)),
                        n.math("MULTIPLY", n.math("GREATER_THAN", v, 0.0), n.math("LESS_THAN", v, 1.0)))
        edge_u = n.math("MINIMUM", n.math("ABSOLUTE", u), n.math("ABSOLUTE", n.math("SUBTRACT", u, 1.0)))
        edge_v = n.math("MINIMUM", n.math("ABSOLUTE", v), n.math("ABSOLUTE", n.math("SUBTRACT", v, 1.0)))
        rim = n.math("MULTIPLY", _map(n, n.math("MINIMUM", edge_u, edge_v), 0.03, 0.005), inside)
        seam = n.math("MAXIMUM", seam, rim)
        height = n.math("ADD", height, n.math("MULTIPLY", inside, 0.6))  # the pocket's second layer
        height = n.math("SUBTRACT", height, n.math("MULTIPLY", seam, 1.2))
        colour = n.mix(n.math("MULTIPLY", seam, 0.85), colour, _scale_colour(n, colour, 0.55))
        colour = n.mix(n.math("MULTIPLY", inside, 0.5), colour, _scale_colour(n, colour, 0.93))
        n.link(colour, bsdf.inputs["Base Color"])
    n.link(n.bump(height, 0.25, 0.002), bsdf.inputs["Normal"])
    bsdf.inputs["Roughness"].default_value = 0.35 if tie else 0.75
    bsdf.inputs["Sheen Weight"].default_value = 0.6 if tie else 0.35
    bsdf.inputs["Sheen Roughness"].default_value = 0.3
    return mat

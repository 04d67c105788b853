"""Strand hair (scene/strands): growth lands where each style says, is deterministic, stays outside the skin and
scales with density; the Blender objects carry their part; tiny Cycles renders tell the styles apart and shade
natural and dyed colours as named."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import bpy
import numpy as np
import pytest

import blurd.scene
from blurd.factors.parts import PART_BY_NAME
from blurd.factors.schema import COLOURS, FACTORS
from blurd.scene.makehuman.body import build_body
from blurd.scene.strands import growth
from blurd.scene.strands.head import BodyError
from blurd.scene.strands.objects import PART_PROPERTY, make_hair_object
from blurd.scene.strands.palette import KNOBS, binding_toml
from blurd.scene.strands.shading import LIGHT_PATHS, hair_material, set_colour
from blurd.scene.strands.styles import BeardStyle, HairStyle, StrandPart

DENSITY = 0.1
SEED = 3


@pytest.fixture(scope="module")
def body():
    return build_body(30.0, "male", "caucasian")


@pytest.fixture(scope="module")
def head(body):
    return growth.prepare(body)


@pytest.fixture(scope="module")
def grown(body, head):
    kinds = [*HairStyle, BeardStyle.FULL_BEARD, StrandPart.EYEBROWS, StrandPart.EYELASHES]
    return {k: growth.grow(k, body, DENSITY, SEED, head=head) for k in kinds}


def _lengths(strands: growth.Strands) -> np.ndarray:
    return np.linalg.norm(np.diff(strands.points, axis=1), axis=2).sum(1)


def test_growth_needs_no_blender():
    """Growth is pure numpy: importing it (and the palette the binding file repeats) loads neither bpy nor torch."""
    code = ("import sys, blurd.scene.strands.growth, blurd.scene.strands.palette; "
            "assert 'bpy' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_none_is_empty_and_every_style_grows(grown):
    assert grown[HairStyle.NONE].count == 0
    for kind, strands in grown.items():
        if kind is not HairStyle.NONE:
            assert strands.count > 20, kind
            assert np.isfinite(strands.points).all() and (strands.radii > 0).all()


def test_styles_lie_where_they_say(grown, head):
    f = head.frame
    elevation = {k: np.degrees(f.spherical(s.points[:, 0].astype(float))[0]) for k, s in grown.items() if s.count}
    # bald_top: a fringe round the sides and back, nothing on the crown; buzzcut covers the crown
    assert elevation[HairStyle.BALD_TOP].max() < 30
    assert elevation[HairStyle.BUZZCUT].max() > 60
    # buzzcut is stubble; short_combed a few centimetres; undercut: clipped sides under a long top
    assert np.percentile(_lengths(grown[HairStyle.BUZZCUT]), 99) < 0.01
    assert 0.015 < np.median(_lengths(grown[HairStyle.SHORT_COMBED])) < 0.08
    length, height = _lengths(grown[HairStyle.UNDERCUT]), elevation[HairStyle.UNDERCUT]
    clipped, long = length < 0.01, length > 0.05
    assert clipped.mean() > 0.3 and long.mean() > 0.25 and (clipped | long).mean() > 0.7
    assert height[long].min() > np.percentile(height[clipped], 50) and height[long].mean() > height[clipped].mean() + 15
    # bob_long hangs below the ears to about the chin; nothing else on the scalp does
    assert grown[HairStyle.BOB_LONG].points[:, :, 2].min() < f.chin_z
    for style in (HairStyle.BUZZCUT, HairStyle.SHORT_COMBED, HairStyle.UNDERCUT, HairStyle.BALD_TOP):
        assert grown[style].points[:, :, 2].min() > f.chin_z
    # afro_dreads is the most voluminous: the widest and tallest outline of all
    width = {s: np.percentile(np.abs(grown[s].points[..., 0] - f.centre[0]), 99) for s in HairStyle if grown[s].count}
    height = {s: np.percentile(grown[s].points[..., 2], 99) for s in width}
    assert width[HairStyle.AFRO_DREADS] > 1.5 * f.radius
    assert width[HairStyle.AFRO_DREADS] == max(width.values()) and height[HairStyle.AFRO_DREADS] == max(height.values())


def test_face_hair_lies_on_the_face(grown, head, body):
    f = head.frame
    beard = grown[BeardStyle.FULL_BEARD].points[:, 0]
    assert beard[:, 2].max() < f.eye_z and beard[:, 2].min() > f.chin_z - 0.04
    assert np.median(beard[:, 2]) < f.mouth[2]
    lips = body.verts[body.regions["lips"] > 0.5]
    gap = np.linalg.norm(beard[:, None, :] - lips[None, ::4, :], axis=2).min()
    assert gap > 0.001  # no beard roots on the lips
    brows = grown[StrandPart.EYEBROWS].points[:, 0]
    assert (brows[:, 2] > f.eye_z + 0.005).all() and (brows[:, 2] < f.eye_z + 0.04).all()
    assert (brows[:, 0] > 0).sum() > 0.4 * len(brows) and (brows[:, 0] < 0).sum() > 0.4 * len(brows)
    lashes = grown[StrandPart.EYELASHES].points[:, 0]
    to_eye = np.minimum(*(np.linalg.norm(lashes - body.landmarks[e], axis=1) for e in ("eye_l", "eye_r")))
    assert to_eye.max() < 0.025
    assert grown[StrandPart.EYELASHES].part.value == "eyes"


@pytest.mark.parametrize("identity", [(30.0, "female", "asian"), (70.0, "male", "african")])
def test_every_identity_grows_every_style(grown, identity):
    """The regions and the envelope come from each body: other shapes grow the same styles just as fully."""
    other = build_body(*identity)
    head = growth.prepare(other)
    for kind, strands in grown.items():
        mine = growth.grow(kind, other, DENSITY, SEED, head=head)
        assert mine.count >= 0.95 * strands.count, (identity, kind)
        assert np.isfinite(mine.points).all()


def test_deterministic_for_a_seed(body, head):
    for kind in (HairStyle.AFRO_DREADS, BeardStyle.FULL_BEARD):
        a = growth.grow(kind, body, DENSITY, SEED, head=head)
        b = growth.grow(kind, body, DENSITY, SEED)  # the head recomputed gives the same strands too
        c = growth.grow(kind, body, DENSITY, SEED + 1, head=head)
        assert np.array_equal(a.points, b.points) and np.array_equal(a.radii, b.radii)
        assert not np.array_equal(a.points[:10], c.points[:10])
    state = np.random.get_state()[1].copy()
    growth.grow(HairStyle.BUZZCUT, body, DENSITY, SEED, head=head)
    assert np.array_equal(np.random.get_state()[1], state)  # the global RNG is never touched


def test_roots_on_the_skin_and_no_strand_inside(grown, body):
    """Checked against the mesh itself (the tangent plane of the nearest skin vertex), not the envelope growth
    uses: roots lie on the skin, and no strand point sinks below it."""
    skin = body.verts[body.groups["body"]].astype(np.float64)
    normals = body.normals[body.groups["body"]].astype(np.float64)
    near_head = skin[:, 2] > body.landmarks["chin"][2] - 0.06
    skin, normals = skin[near_head], normals[near_head]
    rng = np.random.default_rng(0)
    for kind, strands in grown.items():
        if not strands.count or kind is StrandPart.EYELASHES:  # lashes grow from the lash helpers, off the skin
            continue
        pick = rng.choice(strands.count, size=min(300, strands.count), replace=False)
        roots = strands.points[pick, 0].astype(np.float64)
        def height(p: np.ndarray) -> np.ndarray:
            nearest = np.linalg.norm(p[:, None] - skin[None], axis=2).argmin(1)
            return ((p - skin[nearest]) * normals[nearest]).sum(1)

        assert np.percentile(np.abs(height(roots)), 95) < 0.003, kind  # big scalp quads sag below their corners
        pts = strands.points[pick, 1:].reshape(-1, 3).astype(np.float64)
        assert np.percentile(height(pts), 1) > -0.002, kind  # within the faceting of the mesh


def test_density_scales_counts_and_thickness(body, head):
    thin = growth.grow(HairStyle.SHORT_COMBED, body, 0.05, SEED, head=head)
    thick = growth.grow(HairStyle.SHORT_COMBED, body, 0.2, SEED, head=head)
    assert 3.6 < thick.count / thin.count < 4.4
    assert thin.radii[:, 0].mean() > 1.5 * thick.radii[:, 0].mean()  # fewer strands, each wider: same coverage
    assert growth.density_for(512) == 1.0 and growth.density_for(64) == 0.125
    with pytest.raises(ValueError, match="density"):
        growth.grow(HairStyle.BUZZCUT, body, 0.0, SEED)


@pytest.mark.parametrize("factor, part", [("hair_color", StrandPart.HAIR), ("beard_color", StrandPart.BEARD),
                                          ("eyebrow_color", StrandPart.EYEBROWS)])
def test_builtin_bindings_set_the_palette(factor, part):
    """The built-in binding file drives each hair material exactly as palette.binding_toml says (no drift between the
    melanin table and the file)."""
    values = next(f for f in FACTORS if f.name == factor).values
    expected = tomllib.loads(binding_toml(factor, part, values))[factor]
    shipped = tomllib.loads((Path(blurd.scene.__file__).parent / "builtin_bindings.toml").read_text())[factor]
    assert [e for e in shipped if e.get("material") == KNOBS[part].material] == expected


def test_bad_input_is_named(body):
    no_chin = dataclasses.replace(body, landmarks={k: v for k, v in body.landmarks.items() if k != "chin"})
    with pytest.raises(BodyError, match="landmark 'chin'.*build_body"):
        growth.grow(HairStyle.BOB_LONG, no_chin, DENSITY, SEED)
    with pytest.raises(ValueError, match="cannot grow strands for 'bob_long'"):
        growth.grow("bob_long", body, DENSITY, SEED)  # a factor value converts with HairStyle(value) first


# ------------------------------------------------------------------ Blender

def _scene(body, px: int, spp: int) -> tuple[bpy.types.Scene, bpy.types.Material]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.samples = spp
    scene.cycles.use_denoising = False
    scene.render.resolution_x = scene.render.resolution_y = px
    scene.render.threads_mode = "FIXED"
    scene.render.threads = 2
    scene.view_settings.view_transform = "Standard"
    mesh = bpy.data.meshes.new("skin")
    mesh.from_pydata(body.verts.tolist(), [], body.faces[body.face_sets["body"]].tolist())
    skin = bpy.data.objects.new("skin", mesh)
    scene.collection.objects.link(skin)
    skin_mat = bpy.data.materials.new("skin")
    mesh.materials.append(skin_mat)
    world = bpy.data.worlds.new("world")
    scene.world = world
    rig = bpy.data.objects.new("rig", None)
    rig.location = tuple(body.landmarks["head_centre"])
    rig.rotation_euler[2] = math.radians(35)
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.parent = rig
    camera.location = (0.0, -0.75, -0.04)
    camera.rotation_euler = (math.radians(90), 0.0, 0.0)
    for obj in (rig, camera):
        scene.collection.objects.link(obj)
    scene.camera = camera
    return scene, skin_mat


def _render(scene, path) -> np.ndarray:
    """Render to ``path`` and read it back as linear RGB (the PNG holds sRGB-encoded values)."""
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(path))
    w, h = image.size
    pixels = np.array(image.pixels[:], dtype=np.float32).reshape(h, w, 4)[::-1, :, :3]
    bpy.data.images.remove(image)
    return np.where(pixels <= 0.04045, pixels / 12.92, ((pixels + 0.055) / 1.055) ** 2.4)


def test_hair_object_carries_strands_part_and_pass_index(body, grown):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    for kind in (HairStyle.BOB_LONG, BeardStyle.FULL_BEARD, StrandPart.EYEBROWS, StrandPart.EYELASHES):
        strands = grown[kind]
        mat = hair_material(strands.part)
        obj = make_hair_object(f"strands_{kind.value}", strands, mat, bpy.context.scene.collection)
        assert len(obj.data.curves) == strands.count and obj.data.materials[0] is mat
        positions = np.zeros(len(obj.data.points) * 3, np.float32)
        obj.data.position_data.foreach_get("vector", positions)
        assert np.allclose(positions.reshape(strands.points.shape), strands.points)
        radii = np.zeros(len(obj.data.points), np.float32)
        obj.data.attributes["radius"].data.foreach_get("value", radii)
        assert np.allclose(radii, strands.radii.ravel())
        assert obj[PART_PROPERTY] == strands.part.value
        assert obj.pass_index == PART_BY_NAME[strands.part.value].pass_index
    empty = make_hair_object("bald", grown[HairStyle.NONE], None)
    assert len(empty.data.curves) == 0 and empty[PART_PROPERTY] == "hair"


def test_tiny_renders_tell_every_style_apart(body, head, tmp_path):
    """64 px coverage masks (white emissive hair over black) of the seven styles differ pairwise; none is empty."""
    density = growth.density_for(64)
    scene, _ = _scene(body, 64, 4)
    white = bpy.data.materials.new("white")
    tree = white.node_tree
    tree.nodes.clear()
    emit = tree.nodes.new("ShaderNodeEmission")
    tree.links.new(emit.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    masks = {}
    for style in HairStyle:
        obj = make_hair_object(style.value, growth.grow(style, body, density, SEED, head=head), white,
                               scene.collection)
        masks[style] = _render(scene, tmp_path / f"{style.value}.png")[:, :, 0] > 0.5
        bpy.data.objects.remove(obj)
    assert not masks[HairStyle.NONE].any()
    styles = [s for s in HairStyle if s is not HairStyle.NONE]
    for s in styles:
        assert masks[s].sum() > 20, s
    for i, a in enumerate(styles):
        for b in styles[i + 1:]:
            iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
            assert iou < 0.85, (a, b, iou)
    area = {s: masks[s].sum() for s in styles}
    assert area[HairStyle.AFRO_DREADS] == max(area.values())
    assert area[HairStyle.BALD_TOP] < area[HairStyle.BUZZCUT]


@pytest.fixture(scope="module")
def colour_scene(body, head, tmp_path_factory):
    """Short combed hair with its real material under a sun and a grey sky, and a mask of where the hair is."""
    scene, skin = _scene(body, 48, 16)
    folder = tmp_path_factory.mktemp("colours")
    strands = growth.grow(HairStyle.SHORT_COMBED, body, growth.density_for(48), SEED, head=head)
    mat = hair_material(StrandPart.HAIR)
    make_hair_object("hair", strands, mat, scene.collection)
    skin.node_tree.nodes.clear()  # a black, unreflecting head: only hair shows in the pixels
    black = skin.node_tree.nodes.new("ShaderNodeEmission")
    black.inputs["Strength"].default_value = 0.0
    skin.node_tree.links.new(black.outputs[0], skin.node_tree.nodes.new("ShaderNodeOutputMaterial").inputs[0])
    scene.world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", "SUN"))
    sun.data.energy = 5.0
    sun.rotation_euler = (math.radians(50), 0.0, math.radians(35))  # from above the camera
    scene.collection.objects.link(sun)
    set_colour(mat, StrandPart.HAIR, "white", COLOURS["white"])
    for key, value in LIGHT_PATHS.items():
        setattr(scene.cycles, key, value)
    mask = _render(scene, folder / "mask.png").max(axis=2) > 0.01
    assert mask.sum() > 30

    def render(name: str, rgb, direct_only: bool = False) -> np.ndarray:
        set_colour(mat, StrandPart.HAIR, name, rgb)
        for key, value in LIGHT_PATHS.items():  # direct only: the formula human's paths (builder.LightPaths)
            setattr(scene.cycles, key, value if not direct_only else {"max_bounces": 1}.get(key, 0))
        return _render(scene, folder / f"{name}_{direct_only}.png")[mask].mean(axis=0)

    return render


def test_dye_stays_the_named_colour(colour_scene):
    for name in ("red", "green", "blue"):
        mean = colour_scene(name, COLOURS[name])
        channel = {"red": 0, "green": 1, "blue": 2}[name]
        others = [mean[c] for c in range(3) if c != channel]
        assert mean[channel] > 1.6 * max(others), (name, mean)


def test_natural_colours_shade_by_melanin(colour_scene):
    black = colour_scene("black", COLOURS["black"]).mean()
    blonde = colour_scene("blonde", (0.75, 0.60, 0.35)).mean()
    white = colour_scene("white", COLOURS["white"]).mean()
    assert black < 0.6 * blonde < 0.6 * white  # measured 0.018, 0.041, 0.108 (linear)


def test_fair_hair_needs_its_bounces(colour_scene):
    """Grey hair with direct light only renders much darker than with the light paths shading.LIGHT_PATHS asks."""
    direct = colour_scene("grey", (0.5, 0.5, 0.5), direct_only=True).mean()
    bounced = colour_scene("grey", (0.5, 0.5, 0.5)).mean()
    assert bounced > 1.5 * direct

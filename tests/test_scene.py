"""The built-in human: it builds (twice in one process), every factor changes the render, and every colour factor
changes only its own part (control fidelity, >= 99% of changed pixels inside the part's mask dilated by 2 px).

One scene is built for the module; renders use 4 samples, no denoising and a fixed seed (64 px for "changes the
render", 80 px for fidelity so that eyes and lips cover whole pixels), through ``scene.render.render_sample`` so the
masks are the dataset's own.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
import pytest
from PIL import Image

from blurd import factors
from blurd.dataset import layout
from blurd.factors import ids, parts
from blurd.presets.settings import RenderSettings
from blurd.scene import builder, render

SIZE = 64
SETTINGS = RenderSettings(resolution=(SIZE, SIZE), samples=4, denoise=False, threads=2)
FIDELITY_SETTINGS = RenderSettings(resolution=(80, 80), samples=4, denoise=False, threads=2)
SEED = 11
# a base where every factor is visible: a beard to colour, hair on the head, make-up colours to change
BASE = {**factors.default_assignment(), "beard_style": "full_beard"}
COLOUR_FACTORS = ("hair_color", "beard_color", "shirt_color", "tie_color", "eye_color", "eyebrow_color",
                  "eyeshadow_color", "eyeliner_color", "lipstick_color")
# the other value each factor is switched to (a clearly different one)
OTHER = {"age": 70, "gender": "female", "race": "african", "hair_style": "afro_dreads", "beard_style": "none",
         "hair_color": "yellow", "beard_color": "white", "eye_color": "blue", "eyebrow_color": "blonde",
         "shirt_color": "red", "tie_color": "yellow", "eyeshadow_color": "green", "eyeliner_color": "white",
         "lipstick_color": "blue", "world_background": "daylight", "world_rotation": 90, "camera_angle": 30,
         "focal_length": 85, "light_strength": "high", "light_warmth": 3200}
# colour factors are compared from a base value to OTHER; make-up starts from a colour, so both renders paint it
FIDELITY_FROM = {"eyeshadow_color": "violet", "eyeliner_color": "black", "lipstick_color": "red"}
# fidelity is checked on the default person and on one with other shape keys, hair geometry and camera
FIDELITY_BASES = {"default": BASE, "varied": {**BASE, "race": "asian", "gender": "female", "age": 70,
                                              "hair_style": "bob_long", "camera_angle": -15}}


def _geometry(scene: bpy.types.Scene) -> dict[str, np.ndarray]:
    """Every mesh's vertex positions, by object name."""
    out = {}
    for obj in scene.objects:
        if obj.type == "MESH":
            co = np.empty(len(obj.data.vertices) * 3)
            obj.data.vertices.foreach_get("co", co)
            out[obj.name] = co
    return out


def test_build_scene_twice_gives_the_same_scene():
    first = builder.build_scene(SETTINGS)
    names = sorted(o.name for o in first.objects)
    indices = {o.name: o.pass_index for o in first.objects}
    geometry = _geometry(first)
    second = builder.build_scene(SETTINGS)
    assert sorted(o.name for o in second.objects) == names
    assert {o.name: o.pass_index for o in second.objects} == indices
    again = _geometry(second)
    assert again.keys() == geometry.keys()
    assert all(np.array_equal(again[name], geometry[name]) for name in geometry)  # no hidden randomness
    assert second.camera.name == "BLURD_Camera"
    assert second.render.engine == "CYCLES"
    assert (second.render.resolution_x, second.render.resolution_y) == (SIZE, SIZE)


def test_every_part_has_objects_with_its_pass_index():
    scene = builder.build_scene(SETTINGS)
    visible = {o.pass_index for o in scene.objects if o.type in ("MESH", "CURVES") and not o.hide_render}
    for part in parts.PARTS:
        if part.name not in ("background", "beard"):  # the default has no beard
            assert part.pass_index in visible, part.name
    beard = bpy.data.objects["BLURD_Beard"]
    assert beard.hide_render and beard.pass_index == parts.PART_BY_NAME["beard"].pass_index


def test_apply_factors_rejects_bad_values_before_changing_anything():
    scene = builder.build_scene(SETTINGS)
    colour = bpy.data.materials["BLURD_Hair"].node_tree.nodes["Hair Colour"].outputs[0]
    before = tuple(colour.default_value)
    with pytest.raises(factors.FactorError, match="hair_style"):
        builder.apply_factors(scene, {"hair_color": "red", "hair_style": "mohawk"})
    assert tuple(colour.default_value) == before


def test_populate_scene_builds_into_a_new_scene_once():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.data.scenes.new("Portrait")
    builder.populate_scene(scene, SETTINGS)
    assert scene.camera.name == "BLURD_Camera" and "BLURD_Body" in scene.objects
    assert builder.builtin_bindings().missing_targets(scene) == []
    with pytest.raises(builder.SceneExistsError, match="already holds the built-in human"):
        builder.populate_scene(bpy.data.scenes.new("Second"), SETTINGS)


def test_focal_length_binding_keeps_the_head_framed():
    """The binding file's camera distances are rig.framing_distance, so every lens shows the same head size."""
    from blurd.scene import rig
    scene = builder.build_scene(SETTINGS)
    camera = bpy.data.objects[rig.CAMERA_NAME]
    for lens in (35, 50, 85, 120):
        builder.apply_factors(scene, {"focal_length": lens})
        assert camera.data.lens == pytest.approx(lens)
        assert -camera.location[1] == pytest.approx(rig.framing_distance(lens), rel=1e-6)


def test_camera_angle_orbits_toward_the_subjects_left():
    scene = builder.build_scene(SETTINGS)
    builder.apply_factors(scene, {"camera_angle": 30})
    bpy.context.view_layer.update()
    position = scene.camera.matrix_world.translation
    assert position.x > 0.1 and position.y < 0  # +X is the subject's left; the face looks along -Y


@pytest.fixture(scope="module")
def shared_scene():
    return builder.build_scene(SETTINGS)


class Renders:
    """Renders of the shared scene, cached by factor assignment."""

    def __init__(self, scene: bpy.types.Scene, folder: Path) -> None:
        self.scene, self.folder, self.cache = scene, folder, {}

    def __call__(self, values: dict, settings=SETTINGS) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        complete = factors.validate_assignment(values, complete=True)
        sid = ids.sample_id(complete)
        key = (sid, settings.resolution)
        if key not in self.cache:
            builder.apply_factors(self.scene, complete)
            folder = self.folder / f"{sid}_{settings.resolution[0]}"
            render.render_sample(self.scene, folder, sample_id=sid, seed=SEED, factors=complete, settings=settings,
                                 quiet=True)
            rgb = np.asarray(Image.open(folder / "rgb.png").convert("RGB")).astype(np.int16)
            # every pixel each part touches (8-bit coverage > 0), strands thinner than half a pixel included
            masks = {p.name: np.asarray(Image.open(folder / layout.mask_filename(p.name))) > 0 for p in parts.PARTS}
            self.cache[key] = (rgb, masks)
        return self.cache[key]


@pytest.fixture(scope="module")
def renders(shared_scene, tmp_path_factory):
    return Renders(shared_scene, tmp_path_factory.mktemp("scene_renders"))


@pytest.mark.parametrize("name", [f.name for f in factors.FACTORS])
def test_every_factor_changes_the_render(renders, name):
    assert OTHER[name] != BASE[name]
    rgb_a, _ = renders(BASE)
    rgb_b, _ = renders({**BASE, name: OTHER[name]})
    changed = np.abs(rgb_a - rgb_b).max(axis=-1) > 6
    assert changed.sum() >= 2, f"{name}: {BASE[name]!r} -> {OTHER[name]!r} changed {changed.sum()} pixels"


def dilate(mask: np.ndarray, radius: int = 2) -> np.ndarray:
    """Binary dilation by a disc of ``radius`` pixels."""
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy > radius * radius:
                continue
            shifted = np.zeros_like(mask)
            shifted[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                mask[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            out |= shifted
    return out


def test_dilate_grows_by_a_disc():
    mask = np.zeros((9, 9), bool)
    mask[4, 4] = True
    grown = dilate(mask)
    assert grown.sum() == 13 and grown[4, 2] and grown[2, 4] and not grown[2, 2]


@pytest.mark.parametrize("base_name", FIDELITY_BASES)
@pytest.mark.parametrize("name", COLOUR_FACTORS)
def test_colour_factor_changes_only_its_part(renders, name, base_name):
    start = FIDELITY_BASES[base_name]
    base = {**start, name: FIDELITY_FROM.get(name, start[name])}
    rgb_a, masks_a = renders(base, FIDELITY_SETTINGS)
    rgb_b, masks_b = renders({**base, name: OTHER[name]}, FIDELITY_SETTINGS)
    part = factors.FACTOR_BY_NAME[name].part
    assert (masks_a[part] == masks_b[part]).all()  # a colour never moves geometry
    changed = np.abs(rgb_a - rgb_b).max(axis=-1) > 0
    inside = changed & dilate(masks_a[part])
    assert changed.sum() > 0, f"{name} changed nothing"
    share = inside.sum() / changed.sum()
    assert share >= 0.99, f"{name}: only {share:.1%} of {changed.sum()} changed pixels lie in the {part} mask"


def test_each_hair_style_is_its_own_geometry(renders):
    """Hair styles differ in shape (their hair masks), not only colour; 'none' shows no hair at all."""
    hair_factor = factors.FACTOR_BY_NAME["hair_style"]
    masks = {style: renders({**BASE, "hair_style": style})[1]["hair"] for style in hair_factor.values}
    assert not masks["none"].any()
    styles = [s for s in hair_factor.values if s != "none"]
    for i, a in enumerate(styles):
        assert masks[a].sum() > 20, a
        for b in styles[i + 1:]:
            assert (masks[a] != masks[b]).sum() > 10, f"{a} and {b} cover the same pixels"

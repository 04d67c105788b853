"""Binding files: parsing and its errors, missing targets listed all at once, and the worked example of
docs/bindings.md driving a user's rig of a few primitives (the doc's TOML is the one under test)."""

from __future__ import annotations

import math
from pathlib import Path

import bpy
import numpy as np
import pytest
from user_rig import build_primitive_rig, doc_binding_toml

from blurd import factors
from blurd.factors import errors
from blurd.scene import bindings as bindings_mod
from blurd.scene import live


def write(tmp_path: Path, text: str, name: str = "rig.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------- parsing


def test_builtin_file_binds_every_factor():
    builtin = bindings_mod.load_bindings()
    assert set(builtin.factors) == set(factors.FACTOR_BY_NAME)


def test_unknown_factor_is_an_error_naming_file_and_key(tmp_path):
    path = write(tmp_path, '[[hair_colour]]\nmaterial = "M"\nnode = "N"\nrgb = true\n')
    with pytest.raises(bindings_mod.BindingError) as err:
        bindings_mod.load_bindings(path)
    assert str(path) in str(err.value) and "hair_colour" in str(err.value)
    assert isinstance(err.value, errors.BlurdError)


def test_unknown_value_is_an_error_naming_file_and_key(tmp_path):
    entry = 'object = "H"\nvisible = true\nvalues = { mohawk = true, default = false }\n'
    path = write(tmp_path, "[[hair_style]]\n" + entry)
    with pytest.raises(bindings_mod.BindingError, match=r"rig\.toml: \[\[hair_style\]\] #1: values\.mohawk"):
        bindings_mod.load_bindings(path)


@pytest.mark.parametrize("entry, problem", [
    ('object = "H"\nmaterial = "M"\nshape_key = "K"\npoints = [[30, 0], [70, 1]]', "exactly one of object"),
    ('object = "H"\npoints = [[30, 0], [70, 1]]', "exactly one of node"),
    ('object = "H"\nshape_key = "K"', "say how values map"),
    ('object = "H"\nshape_key = "K"\nvalues = { 30 = 1.0 }', "numeric factor needs points"),
    ('object = "H"\nshape_key = "K"\npoints = [[30, 0]]\nextrapolate = true', "at least two points"),
    ('object = "H"\nshape_key = "K"\npoints = [[30, 0]]\ncolour = 1', "unknown key"),
])
def test_malformed_entries_are_explained(tmp_path, entry, problem):
    with pytest.raises(bindings_mod.BindingError, match=problem):
        bindings_mod.load_bindings(write(tmp_path, f"[[age]]\n{entry}\n"))


def test_categorical_values_must_cover_every_value(tmp_path):
    path = write(tmp_path, '[[gender]]\nobject = "H"\nshape_key = "K"\nvalues = { female = 1.0 }\n')
    with pytest.raises(bindings_mod.BindingError, match="no entry for male"):
        bindings_mod.load_bindings(path)


def test_points_interpolate_clamp_and_extrapolate():
    age = factors.FACTOR_BY_NAME["age"]
    clamped = bindings_mod.ValueRule(points=((30.0, 0.0), (70.0, 1.0)))
    assert clamped.evaluate(age, 50) == pytest.approx(0.5)
    assert clamped.evaluate(age, 90) == pytest.approx(1.0)
    assert clamped.evaluate(age, 18) == pytest.approx(0.0)
    free = bindings_mod.ValueRule(points=((30.0, 0.0), (70.0, 1.0)), extrapolate=True)
    assert free.evaluate(age, 90) == pytest.approx(1.5)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(bindings_mod.BindingError, match="does not exist"):
        bindings_mod.load_bindings(tmp_path / "nope.toml")


# ------------------------------------------------------------------------------------- scenes and targets


def test_missing_targets_are_listed_all_at_once():
    scene = build_primitive_rig()
    builtin = bindings_mod.load_bindings()
    missing = builtin.missing_targets(scene)
    assert all(t.missing(scene) for t in builtin.targets())  # nothing of the built-in human is in the primitive rig
    with pytest.raises(bindings_mod.MissingTargetsError) as err:
        builtin.check(scene)
    message = str(err.value)
    for target in builtin.targets()[:: max(1, len(builtin.targets()) // 6)]:  # whichever human is built in
        for description in target.missing(scene):
            assert description in message
    assert err.value.missing == missing
    with pytest.raises(bindings_mod.MissingTargetsError):  # apply checks before changing anything
        builtin.apply(scene, {"hair_color": "red"})


def test_a_partly_matching_file_lists_only_the_missing_targets(tmp_path):
    scene = build_primitive_rig()
    text = doc_binding_toml() + '\n[[tie_color]]\nmaterial = "TieMat"\nnode = "Tie RGB"\nrgb = true\n'
    text += '\n[[eye_color]]\nobject = "Head"\nshape_key = "Blue"\nvalues = { default = 1.0 }\n'
    bound = bindings_mod.load_bindings(write(tmp_path, text))
    assert bound.missing_targets(scene) == ['material "TieMat" node "Tie RGB" output', 'object "Head" shape key "Blue"']
    shirt = bpy.data.materials["ShirtMat"].node_tree.nodes["Shirt RGB"].outputs[0]
    before = tuple(shirt.default_value)
    with pytest.raises(bindings_mod.MissingTargetsError, match="2 binding target"):
        bound.apply(scene, {"shirt_color": "red"})
    assert tuple(shirt.default_value) == before


def test_worked_example_drives_the_primitive_rig(tmp_path):
    scene = build_primitive_rig()
    rig = bindings_mod.load_bindings(write(tmp_path, doc_binding_toml()))
    assert rig.missing_targets(scene) == []
    values = {"age": 50, "gender": "female", "race": "african", "hair_style": "none", "beard_style": "full_beard",
              "hair_color": "red", "shirt_color": "green", "world_background": "sunset", "camera_angle": 30,
              "focal_length": 85, "light_strength": "high", "light_warmth": 3200}
    rig.apply(scene, values)
    head = bpy.data.objects["Head"]
    assert head.data.shape_keys.key_blocks["Old"].value == pytest.approx(0.5)
    assert head.data.shape_keys.key_blocks["Female"].value == pytest.approx(1.0)
    skin = bpy.data.materials["Skin"].node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value
    assert tuple(skin) == pytest.approx((0.13, 0.065, 0.035, 1.0))
    assert bpy.data.objects["Hair"].hide_render and bpy.data.objects["Hair"].hide_viewport
    assert not bpy.data.objects["Beard"].hide_render
    hair = bpy.data.materials["HairMat"].node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value
    assert tuple(hair)[:3] == pytest.approx(factors.COLOURS["red"])
    shirt = bpy.data.materials["ShirtMat"].node_tree.nodes["Shirt RGB"].outputs[0].default_value
    assert tuple(shirt)[:3] == pytest.approx(factors.COLOURS["green"])
    yaw = math.radians(30)  # the camera orbit: 8 m from the head at 50 mm, so 13.6 m at 85 mm, turned by 30 degrees
    cam = bpy.data.objects["Cam"].matrix_world.translation
    assert tuple(cam) == pytest.approx((13.6 * math.sin(yaw), -13.6 * math.cos(yaw), 0.0), abs=1e-4)
    assert bpy.data.cameras["CamData"].lens == pytest.approx(85)
    assert bpy.data.lights["KeyData"].energy == pytest.approx(900)
    assert bpy.data.lights["KeyData"].temperature == pytest.approx(3200)
    assert bpy.data.lights["KeyData"].use_temperature  # switched on by the binding, off in the rig
    sky = bpy.data.worlds["Sky"].node_tree.nodes["Background"].inputs["Color"].default_value
    assert tuple(sky) == pytest.approx((1.0, 0.5, 0.2, 1.0))


def _render(scene) -> np.ndarray:
    scene.render.filepath = ""
    bpy.ops.render.render()
    result = bpy.data.images["Render Result"]
    path = Path(bpy.app.tempdir or "/tmp") / "blurd_bindings_test.png"
    result.save_render(str(path))
    image = bpy.data.images.load(str(path), check_existing=False)
    pixels = np.array(image.pixels[:]).reshape(image.size[1], image.size[0], image.channels)
    bpy.data.images.remove(image)
    return pixels


def test_worked_example_changes_the_render(tmp_path):
    scene = build_primitive_rig()
    rig = bindings_mod.load_bindings(write(tmp_path, doc_binding_toml()))
    rig.apply(scene, {"shirt_color": "white", "light_strength": "high"})
    white = _render(scene)
    rig.apply(scene, {"shirt_color": "blue"})
    blue = _render(scene)
    changed = np.abs(white - blue).max(axis=-1) > 0.02
    assert changed.sum() > 10


def test_live_updates_follow_the_scene_binding_file(tmp_path):
    scene = build_primitive_rig()
    hair = bpy.data.materials["HairMat"].node_tree.nodes["Principled BSDF"].inputs["Base Color"]
    before = tuple(hair.default_value)
    live.on_factors_changed(scene, {"hair_color": "red"})  # no binding file, not the built-in human: untouched
    assert tuple(hair.default_value) == before
    scene[live.BINDINGS_PROP] = str(write(tmp_path, doc_binding_toml()))
    live.on_factors_changed(scene, {"hair_color": "red"})
    assert tuple(hair.default_value)[:3] == pytest.approx(factors.COLOURS["red"])
    assert live.ERROR_PROP not in scene
    scene[live.BINDINGS_PROP] = str(tmp_path / "missing.toml")
    live.on_factors_changed(scene, {"hair_color": "blue"})  # errors are kept for the panel, never raised
    assert "does not exist" in scene[live.ERROR_PROP]

"""The factor properties on Scene.blurd and the preset round trips in Blender (real bpy wheel)."""

from __future__ import annotations

import json
import math

import bpy
import pytest

import blurd
from blurd import presets
from blurd.factors import errors, schema
from blurd.operators import properties

FACTORS = schema.FACTORS
LOOK = {"age": 70, "gender": "female", "race": "asian", "hair_style": "bob_long", "hair_color": "red",
        "lipstick_color": "magenta", "eye_color": "green", "world_rotation": 45, "camera_angle": -15,
        "focal_length": 85, "light_strength": "high", "light_warmth": 3200}


@pytest.fixture(scope="module", autouse=True)
def registered():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    blurd.register()
    yield
    blurd.unregister()


@pytest.fixture()
def props():
    scene = bpy.context.scene
    properties.set_factor_values(scene.blurd, schema.default_assignment())
    return scene.blurd


@pytest.fixture()
def user_scripts(tmp_path, monkeypatch):
    """Blender's user scripts folder (where presets are saved) moved to a temporary folder."""
    monkeypatch.setenv("BLENDER_USER_SCRIPTS", str(tmp_path / "scripts"))
    assert bpy.utils.user_resource("SCRIPTS").startswith(str(tmp_path))
    return tmp_path / "scripts"


# ---- the properties follow the schema ----


def test_every_factor_is_a_property_with_the_schema_values():
    rna = properties.BLURD_FactorProperties.bl_rna.properties
    for factor in FACTORS:
        prop = rna[factor.name]
        assert prop.name == factor.label and prop.description.startswith(factor.description)
        if factor.is_numeric:
            assert prop.type == "FLOAT"
            lo, hi = factor.value_range
            to_stored = math.radians if factor.kind is schema.FactorKind.ANGLE else float
            assert prop.hard_min == pytest.approx(to_stored(lo), rel=1e-6)
            assert prop.hard_max == pytest.approx(to_stored(hi), rel=1e-6)
            assert prop.default == pytest.approx(to_stored(factor.default), rel=1e-6)
            if factor.kind is schema.FactorKind.ANGLE:
                assert prop.subtype == "ANGLE"
        else:
            assert prop.type == "ENUM"
            assert [item.identifier for item in prop.enum_items] == [str(v) for v in factor.values]
            assert prop.default == factor.default


def test_only_factors_and_their_swatches_are_properties():
    names = set(properties.BLURD_FactorProperties.bl_rna.properties.keys()) - {"rna_type", "name"}
    swatches = {f.name + properties.RGB_SUFFIX for f in FACTORS if f.kind is schema.FactorKind.COLOUR}
    assert names == {f.name for f in FACTORS} | swatches


def test_defaults_are_the_schema_defaults(props):
    assert properties.factor_values(props) == schema.default_assignment()


def test_colour_swatch_shows_the_chosen_colour(props):
    rna = properties.BLURD_FactorProperties.bl_rna.properties
    for factor in FACTORS:
        if factor.kind is not schema.FactorKind.COLOUR:
            continue
        swatch = rna[factor.name + properties.RGB_SUFFIX]
        assert swatch.subtype == "COLOR_GAMMA" and swatch.is_readonly
        for value in factor.values:
            setattr(props, factor.name, value)
            expected = factor.rgb(value) or (0.0, 0.0, 0.0)
            assert tuple(getattr(props, factor.name + properties.RGB_SUFFIX)) == pytest.approx(expected, abs=1e-6)


def test_set_and_read_factor_values(props):
    properties.set_factor_values(props, LOOK)
    assert properties.factor_values(props) == {**schema.default_assignment(), **LOOK}
    assert props.camera_angle == pytest.approx(math.radians(-15), rel=1e-6)


def test_fractional_numbers_survive_blender_floats(props):
    properties.set_factor_values(props, {"camera_angle": 12.345, "light_warmth": 5600.5, "age": 42.5})
    values = properties.factor_values(props)
    assert (values["camera_angle"], values["light_warmth"], values["age"]) == (12.345, 5600.5, 42.5)


def test_bad_values_change_nothing(props):
    with pytest.raises(errors.FactorError, match="valid values are"):
        properties.set_factor_values(props, {"age": 70, "hair_color": "plaid"})
    assert properties.factor_values(props) == schema.default_assignment()


def test_values_outside_the_range_are_clamped_by_blender(props):
    props.camera_angle = math.radians(500)  # Blender clamps to the property's range
    assert properties.factor_values(props)["camera_angle"] == 90


# ---- the scene-binding hook ----


@pytest.fixture()
def hook_calls(monkeypatch):
    """The scene hook ``scene.live.on_factors_changed``, recording its calls instead of applying bindings."""
    from blurd.scene import live

    calls = []
    monkeypatch.setattr(live, "on_factors_changed", lambda scene, values: calls.append((scene, dict(values))))
    return calls


def test_changing_a_property_calls_the_scene_hook(props, hook_calls):
    props.hair_color = "green"
    assert len(hook_calls) == 1
    scene, values = hook_calls[0]
    assert scene == bpy.context.scene and values["hair_color"] == "green" and len(values) == len(FACTORS)


def test_setting_many_factors_calls_the_hook_once(props, hook_calls):
    properties.set_factor_values(props, LOOK)
    assert len(hook_calls) == 1 and hook_calls[0][1] == {**schema.default_assignment(), **LOOK}


# ---- Blender's preset mechanism ----


def test_blender_preset_saves_loads_and_removes(props, user_scripts, hook_calls):
    properties.set_factor_values(props, LOOK)
    assert bpy.ops.blurd.factor_preset_add(name="Red Look") == {"FINISHED"}
    (preset_file,) = (user_scripts / "presets" / "blurd" / "factors").glob("*.py")
    assert preset_file.name == "Red_Look.py"

    properties.set_factor_values(props, schema.default_assignment())
    hook_calls.clear()
    result = bpy.ops.script.execute_preset(filepath=str(preset_file), menu_idname="BLURD_MT_factor_presets")
    assert result == {"FINISHED"}
    assert properties.factor_values(props) == {**schema.default_assignment(), **LOOK}
    assert len(hook_calls) == 1  # the preset's twenty assignments notify the scene once

    assert bpy.ops.blurd.factor_preset_add(name="Red_Look", remove_name=True) == {"FINISHED"}
    assert not preset_file.exists()


def test_blender_preset_holds_only_factors(props, user_scripts):
    bpy.ops.blurd.factor_preset_add(name="defaults")
    (preset_file,) = (user_scripts / "presets" / "blurd" / "factors").glob("*.py")
    assigned = [line.split("=")[0].strip() for line in preset_file.read_text().splitlines() if " = " in line]
    assert assigned[0] == "blurd" and sorted(assigned[1:]) == sorted(f"blurd.{f.name}" for f in FACTORS)


# ---- preset files: export and import ----


def test_exported_preset_gives_the_batch_the_same_factors(props, tmp_path):
    properties.set_factor_values(props, LOOK)
    path = tmp_path / "look.toml"
    assert bpy.ops.blurd.preset_export(filepath=str(path)) == {"FINISHED"}
    preset = presets.load_preset(path)  # what batch.py reads
    (sample,) = list(preset.grid)
    assert dict(sample.factors) == properties.factor_values(props)
    assert preset.name == "look"


def test_export_onto_a_base_preset_keeps_its_grid(props, tmp_path):
    properties.set_factor_values(props, LOOK)
    path = tmp_path / "quick_look.toml"
    base = presets.shipped_preset_path("quick")
    assert bpy.ops.blurd.preset_export(filepath=str(path), base_preset=str(base), preset_name="quick look") == {
        "FINISHED"}
    exported, quick = presets.load_preset(path), presets.load_preset(base)
    assert exported.name == "quick look"
    assert exported.grid.sweep == quick.grid.sweep and exported.grid.rules == quick.grid.rules
    assert exported.render == quick.render and exported.output == quick.output
    scene_values = properties.factor_values(props)
    for sample in exported.grid:
        for name, value in sample.factors.items():
            if name not in exported.grid.sweep:
                assert value == scene_values[name]


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_import_sets_the_scene_factors(props, tmp_path, fmt):
    text = presets.dump_preset({**LOOK, "shirt_color": "cyan"}, name="imported")
    if fmt == "json":
        import tomllib

        text = json.dumps(tomllib.loads(text))
    path = tmp_path / f"imported.{fmt}"
    path.write_text(text, encoding="utf-8")
    assert bpy.ops.blurd.preset_import(filepath=str(path)) == {"FINISHED"}
    assert properties.factor_values(props) == presets.load_preset(path).factors


def test_export_then_import_round_trips(props, tmp_path):
    properties.set_factor_values(props, LOOK)
    path = tmp_path / "round.toml"
    bpy.ops.blurd.preset_export(filepath=str(path))
    properties.set_factor_values(props, schema.default_assignment())
    bpy.ops.blurd.preset_import(filepath=str(path))
    assert properties.factor_values(props) == {**schema.default_assignment(), **LOOK}


def test_import_of_a_malformed_preset_fails_and_changes_nothing(props, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('format = 1\n[factors]\nhair_color = "plaid"\n', encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"broken\.toml: \[factors\.hair_color\] .*unknown value 'plaid'"):
        bpy.ops.blurd.preset_import(filepath=str(path))
    assert properties.factor_values(props) == schema.default_assignment()


def test_reset_restores_defaults(props):
    properties.set_factor_values(props, LOOK)
    assert bpy.ops.blurd.factors_reset() == {"FINISHED"}
    assert properties.factor_values(props) == schema.default_assignment()

"""The preset reader and writer (pure Python: these tests import neither bpy nor torch)."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from blurd import presets
from blurd.factors import errors, schema
from blurd.presets import reader, settings

PresetError = errors.PresetError

QUICK = presets.shipped_preset_path("quick")


def quick_data() -> dict:
    with open(QUICK, "rb") as handle:
        return tomllib.load(handle)


# ---- shipped presets ----


@pytest.mark.parametrize("name", presets.SHIPPED_PRESETS)
def test_shipped_presets_load_and_round_trip(name):
    preset = presets.load_preset(presets.shipped_preset_path(name))
    assert preset.name == name
    assert set(preset.factors) == set(schema.FACTOR_NAMES)
    again = presets.loads_preset(presets.dump_preset(preset), source=preset.source)
    assert again == preset
    assert [s.id for s in again.grid] == [s.id for s in preset.grid]


def test_quick_preset_is_a_handful_of_small_samples():
    preset = presets.load_preset(QUICK)
    samples = list(preset.grid)
    assert 4 <= len(samples) <= 12
    assert max(preset.render.resolution) <= 128 and preset.render.samples <= 64 and not preset.render.denoise
    assert {s.factors["gender"] for s in samples} == {"male", "female"}


def _obeys_blurd_rules(values) -> bool:
    male_styles = {"none", "buzzcut", "short_combed", "bald_top", "undercut"}
    if values["gender"] == "female":
        return values["beard_style"] == "none" and values["hair_style"] in {"bob_long", "afro_dreads"}
    return values["hair_style"] in male_styles and (values["beard_style"] != "none" or values["beard_color"] == "black")


def test_blurd3d_sweeps_the_authors_factors_with_beards_only_for_men():
    preset = presets.load_preset(presets.shipped_preset_path("blurd3d"))
    assert set(preset.grid.sweep) == {"age", "gender", "race", "hair_style", "beard_style", "hair_color",
                                      "beard_color", "shirt_color", "tie_color", "world_background"}
    samples = list(preset.grid)
    assert len(samples) == preset.grid.samples
    assert all(_obeys_blurd_rules(s.factors) for s in samples)
    assert {s.factors["gender"] for s in samples} == {"male", "female"}
    assert any(s.factors["beard_style"] == "full_beard" for s in samples)


def test_blurd_mask_sweeps_all_twenty_factors():
    preset = presets.load_preset(presets.shipped_preset_path("blurd_mask"))
    assert set(preset.grid.sweep) == set(schema.FACTOR_NAMES)
    samples = list(preset.grid)
    assert len(samples) == preset.grid.samples
    assert all(_obeys_blurd_rules(s.factors) for s in samples)


def test_json_preset_reads_like_the_toml_one():
    toml_preset = presets.load_preset(QUICK)
    json_preset = presets.loads_preset(json.dumps(quick_data()), source=str(QUICK), fmt="json")
    assert json_preset == toml_preset


def test_json_file_is_read_by_suffix(tmp_path):
    path = tmp_path / "quick.json"
    path.write_text(json.dumps(quick_data()), encoding="utf-8")
    assert presets.load_preset(path).factors == presets.load_preset(QUICK).factors


def test_factors_only_preset_round_trips_and_pins_every_factor():
    values = {"age": 70, "gender": "female", "hair_style": "bob_long", "camera_angle": -15.5}
    text = presets.dump_preset(values, name="look")
    assert set(tomllib.loads(text)["factors"]) == set(schema.FACTOR_NAMES)
    preset = presets.loads_preset(text, "look.toml")
    assert preset.name == "look"
    (sample,) = list(preset.grid)
    assert dict(sample.factors) == {**schema.default_assignment(), **values}


def test_with_factors_keeps_the_grid_and_replaces_fixed_factors():
    base = presets.load_preset(QUICK)
    values = {**schema.default_assignment(), "eye_color": "green", "eyebrow_color": "blonde", "gender": "female"}
    changed = presets.with_factors(base, values, name="mine")
    assert changed.grid.sweep == base.grid.sweep and changed.render == base.render
    assert changed.factors["eye_color"] == "green" and changed.factors["eyebrow_color"] == "blonde"
    assert changed.factors["gender"] == schema.FACTOR_BY_NAME["gender"].default  # swept: not fixed
    assert presets.loads_preset(presets.dump_preset(changed), changed.source) == changed


def test_write_preset_is_atomic_and_readable(tmp_path):
    path = presets.write_preset(tmp_path / "sub" / "p.toml", presets.load_preset(QUICK))
    assert [p.name for p in path.parent.iterdir()] == ["p.toml"]
    assert presets.load_preset(path).grid == presets.load_preset(QUICK).grid


def test_preset_is_immutable():
    preset = presets.load_preset(QUICK)
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.name = "other"


@pytest.mark.parametrize(
    ("settings_class", "fields", "not_in_file"),
    [
        ("RenderSettings", "RENDER_FIELDS", "RENDER_FIELDS_NOT_IN_FILE"),
        ("OutputSettings", "OUTPUT_FIELDS", "OUTPUT_FIELDS_NOT_IN_FILE"),
    ],
)
def test_every_setting_is_readable_from_a_preset(settings_class, fields, not_in_file):
    names = {f.name for f in dataclasses.fields(getattr(settings, settings_class))}
    assert names == set(getattr(reader, fields)) | set(getattr(reader, not_in_file))


def test_reader_needs_neither_bpy_nor_torch(tmp_path):
    """Load every shipped preset in a fresh Python where importing bpy or torch fails."""
    code = textwrap.dedent(
        """
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"bpy", "torch", "diffusers", "transformers"}:
                    raise ImportError(f"{name} is blocked in this test")
                return None

        sys.meta_path.insert(0, Block())
        import blurd.presets as presets
        for name in presets.SHIPPED_PRESETS:
            presets.load_preset(presets.shipped_preset_path(name))
        assert not any(m.split(".")[0] in {"bpy", "torch"} for m in sys.modules)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# ---- malformed presets: each class is rejected with a message naming the file, the key and the fix ----


def _set(path: str, value):
    """A mutation of the quick preset's data: set the dotted key ``path`` to ``value``."""

    def mutate(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return mutate


def _delete(path: str):
    def mutate(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


def _add_rule(rule: dict):
    return lambda data: data["grid"].setdefault("rules", []).append(rule)


MALFORMED = [
    # (id, mutation, key named in the message, phrases the message must hold)
    ("unknown top-level key", _set("rendr", {"samples": 4}), "[rendr]", ["unknown key", "did you mean 'render'"]),
    ("unknown render key", _set("render.sample", 4), "[render.sample]", ["did you mean 'samples'"]),
    ("unknown grid key", _set("grid.sweeps", {}), "[grid.sweeps]", ["did you mean 'sweep'"]),
    ("unknown output key", _set("output.contactsheet", True), "[output.contactsheet]", ["did you mean"]),
    ("section not a table", _set("render", 16), "[render]", ["expected a table"]),
    ("wrong type: samples as text", _set("render.samples", "16"), "[render.samples]", ["expected a whole number"]),
    ("wrong type: fractional samples", _set("render.samples", 16.5), "[render.samples]", ["whole number"]),
    ("wrong type: boolean", _set("render.denoise", 1), "[render.denoise]", ["true or false"]),
    ("wrong type: name", _set("name", 3), "[name]", ["expected a string"]),
    ("resolution too small", _set("render.resolution", [4, 128]), "[render.resolution[0]]", ["out of range",
                                                                                             "8..16384"]),
    ("resolution not a pair", _set("render.resolution", [128]), "[render.resolution]", ["[width, height]"]),
    ("render samples zero", _set("render.samples", 0), "[render.samples]", ["out of range", "1..65536"]),
    ("palette cells out of range", _set("render.palette_cells", 1000), "[render.palette_cells]", ["1..256"]),
    ("palette larger than image", lambda d: d["render"].update(resolution=[16, 16], palette_cells=32),
     "[render.palette_cells]", ["do not fit", "at most 16"]),
    ("unknown device", _set("render.device", "TPU"), "[render.device]",
     ["did you mean 'GPU'? valid values are: CPU, GPU"]),
    ("grid sample count zero", _set("grid.samples", 0), "[grid.samples]", ["out of range"]),
    ("more samples than the grid holds", _set("grid.samples", 100_000), "[grid]", ["holds only 55296", "lower"]),
    ("negative seed", _set("grid.seed", -1), "[grid.seed]", ["out of range"]),
    ("contact sheet size", _set("output.thumbnail_size", 1), "[output.thumbnail_size]", ["16..2048"]),
    ("unknown factor", _set("factors.hair_colour", "red"), "[factors.hair_colour]", ["unknown factor",
                                                                                  "did you mean 'hair_color'"]),
    ("unknown factor value", _set("factors.shirt_color", "pink"), "[factors.shirt_color]", ["unknown value 'pink'",
                                                                                          "valid values are"]),
    ("factor number out of range", _set("factors.camera_angle", 120), "[factors.camera_angle]", ["outside -90..90"]),
    ("factor number wrong type", _set("factors.age", "old"), "[factors.age]", ["not a number"]),
    ("unknown swept factor", _set("grid.sweep.haircolor", ["red"]), "[grid.sweep.haircolor]", ["unknown factor"]),
    ("unknown swept value", _set("grid.sweep.hair_color", ["red", "plaid"]), "[grid.sweep.hair_color[1]]",
     ["unknown value 'plaid'", "valid values are"]),
    ("empty sweep", _set("grid.sweep.hair_color", []), "[grid.sweep.hair_color]", ["lists no values"]),
    ("duplicate sweep value", _set("grid.sweep.hair_color", ["red", "red"]), "[grid.sweep.hair_color]",
     ["twice"]),
    ("factor fixed and swept", _set("factors.hair_color", "red"), "[grid.sweep]", ["both fixed", "remove"]),
    ("rule on unknown factor", _add_rule({"when": {"gendr": "male"}, "deny": {"hair_style": ["none"]}}),
     "[grid.rules[2].when.gendr]", ["unknown factor", "did you mean 'gender'"]),
    ("rule on unknown value", _add_rule({"when": {"gender": "male"}, "allow": {"beard_style": ["goatee"]}}),
     "[grid.rules[2].allow.beard_style[0]]", ["unknown value 'goatee'"]),
    ("rule without allow or deny", _add_rule({"when": {"gender": "male"}}), "[grid.rules[2]]",
     ["needs 'allow' or 'deny'"]),
    ("rule with unknown key", _add_rule({"when": {"gender": "male"}, "unless": {}}), "[grid.rules[2].unless]",
     ["unknown key"]),
    ("rules exclude everything", _add_rule({"when": {"hair_color": ["black", "red", "yellow", "blue"]},
                                            "deny": {"hair_color": ["black", "red", "yellow", "blue"]}}),
     "[grid]", ["empty", "loosen"]),
    ("absolute output folder", _set("output.folder", "/tmp/data"), "[output.folder]", ["absolute",
                                                                                      "escape the output folder"]),
    ("windows absolute output folder", _set("output.folder", "C:/data"), "[output.folder]", ["absolute"]),
    ("home output folder", _set("output.folder", "~/data"), "[output.folder]", ["absolute"]),
    ("output folder with ..", _set("output.folder", "runs/../../up"), "[output.folder]", ["'..'",
                                                                                         "escape the output folder"]),
    ("output folder with backslashes", _set("output.folder", "runs\\one"), "[output.folder]", ["backslashes"]),
    ("missing format", _delete("format"), "[format]", ["missing the format version", "format = 1"]),
    ("unknown format version", _set("format", 2), "[format]", ["unknown preset format version 2"]),
    ("unknown diffusion key", _set("diffusion.stepz", 4), "[diffusion.stepz]", ["unknown key"]),
    ("diffusion value out of range", _set("diffusion.steps", 0), "[diffusion.steps]", ["out of range"]),
]


@pytest.mark.parametrize(("mutate", "key", "phrases"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_preset_is_rejected_naming_file_key_and_fix(tmp_path, mutate, key, phrases):
    data = copy.deepcopy(quick_data())
    mutate(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PresetError) as info:
        presets.load_preset(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key} "), message
    for phrase in phrases:
        assert phrase in message, message
    assert ";" in message, f"no fix given: {message}"


@pytest.mark.parametrize(
    ("filename", "text", "phrases"),
    [
        ("bad.toml", "format = 1\n[render\nsamples = 4\n", ["not valid TOML", "fix the syntax"]),
        ("bad.json", '{"format": 1, "render": {', ["not valid JSON", "fix the syntax"]),
        ("list.json", "[1, 2]", ["expected a table"]),
        ("preset.yaml", "format: 1", ["unknown preset file type '.yaml'", ".toml or .json"]),
    ],
)
def test_unreadable_preset_files_are_rejected(tmp_path, filename, text, phrases):
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PresetError) as info:
        presets.load_preset(path)
    assert str(info.value).startswith(str(path))
    for phrase in phrases:
        assert phrase in str(info.value)


def test_missing_preset_file_names_the_path(tmp_path):
    with pytest.raises(PresetError, match="no such file"):
        presets.load_preset(tmp_path / "nope.toml")


def test_toml_errors_name_the_source_given_to_loads():
    with pytest.raises(PresetError) as info:
        presets.loads_preset('format = 1\n[factors]\nage = 200\n', source="inline.toml")
    assert str(info.value).startswith("inline.toml: [factors.age] ")


def test_relative_output_folder_is_normalised():
    data = quick_data()
    data["output"]["folder"] = "./runs/one/"
    assert presets.loads_preset(json.dumps(data), "x.json", fmt="json").output.folder == "runs/one"


def test_shipped_preset_paths_exist():
    for name in presets.SHIPPED_PRESETS:
        assert Path(presets.shipped_preset_path(name)).is_file()

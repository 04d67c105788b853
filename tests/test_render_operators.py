"""The sidebar's Render and Batch sweep operators, executed as a script would (background mode, blocking).

Their modal paths need a window (Blender's render job, timers) and are exercised by hand in the UI; the
engine they drive is tested in test_passes.py and test_sweep.py.
"""

from __future__ import annotations

import json

import bpy
import pytest
import tiny_scene
from tiny_presets import render_table

from blurd.dataset import layout
from blurd.dataset.record import is_complete
from blurd.factors import ids
from blurd.operators import batch as batch_op
from blurd.operators import render as render_op
from blurd.operators import scene_context as output
from blurd.panels import output as panel

MODULES = (output, render_op, batch_op, panel)
PRESET = """\
format = 1
name = "two"
[grid.sweep]
hair_color = ["red", "blue"]
""" + render_table()


@pytest.fixture
def registered():
    scene = tiny_scene.build_scene()
    for module in MODULES:
        for cls in module.classes:
            bpy.utils.register_class(cls)
        for name, prop in getattr(module, "scene_properties", dict)().items():
            setattr(bpy.types.Scene, name, prop)
    yield scene
    for module in reversed(MODULES):
        for name in getattr(module, "scene_properties", dict)():
            delattr(bpy.types.Scene, name)
        for cls in reversed(module.classes):
            bpy.utils.unregister_class(cls)


def test_render_operator_writes_the_current_factors_into_the_output_folder(registered, tmp_path):
    registered.blurd_output.folder = str(tmp_path)
    assert bpy.ops.blurd.render() == {"FINISHED"}
    values = output.current_factors(registered)  # defaults: the factor properties are not registered here
    folder = layout.sample_dir(tmp_path, ids.sample_id(values))
    assert is_complete(folder)
    record = json.loads((folder / layout.SAMPLE_JSON).read_text())
    assert record["factors"] == values and record["render"]["width"] == 48  # the scene's own resolution
    assert [json.loads(line)["id"] for line in (tmp_path / layout.MANIFEST).read_text().splitlines()] == [record["id"]]
    assert bpy.ops.blurd.render() == {"FINISHED"}  # rendering again replaces the sample, one manifest row
    assert len((tmp_path / layout.MANIFEST).read_text().splitlines()) == 1


def test_batch_operator_sweeps_the_preset_and_restores_the_scene(registered, tmp_path, monkeypatch):
    applied = []

    def apply(scene, values, bindings=None):
        applied.append(values["hair_color"])
        tiny_scene.apply_factors(scene, values)

    monkeypatch.setattr(batch_op, "factor_applier", lambda: apply)
    preset = tmp_path / "two.toml"
    preset.write_text(PRESET)
    registered.blurd_output.folder = str(tmp_path / "out")
    registered.blurd_output.preset = str(preset)

    assert bpy.ops.blurd.batch_sweep() == {"FINISHED"}

    rows = [json.loads(line) for line in (tmp_path / "out" / layout.MANIFEST).read_text().splitlines()]
    assert sorted(row["factors"]["hair_color"] for row in rows) == ["blue", "red"]
    assert (tmp_path / "out" / layout.CONTACT_SHEET).is_file()
    assert registered.render.resolution_x == 48  # the user's render settings are back
    assert applied[-1] == output.current_factors(registered)["hair_color"]  # and the scene's own factors


def test_batch_operator_reports_a_bad_preset_before_any_work(registered, tmp_path):
    registered.blurd_output.folder = str(tmp_path / "out")
    registered.blurd_output.preset = str(tmp_path / "missing.toml")
    with pytest.raises(RuntimeError, match="missing.toml"):
        bpy.ops.blurd.batch_sweep()
    assert not (tmp_path / "out").exists()


def test_batch_operator_refuses_a_scene_without_factor_bindings(registered, tmp_path):
    preset = tmp_path / "two.toml"
    preset.write_text(PRESET)
    registered.blurd_output.folder = str(tmp_path / "out")
    registered.blurd_output.preset = str(preset)
    with pytest.raises(RuntimeError, match="no factor bindings"):
        bpy.ops.blurd.batch_sweep()
    assert not (tmp_path / "out" / layout.SAMPLES_DIR).exists()

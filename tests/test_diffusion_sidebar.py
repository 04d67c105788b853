"""The sidebar path: the Generate operator renders the current factors if needed, then runs each mode in the worker
and loads the result into bpy.data.images (real bpy, real Cycles, the tiny random models)."""

from __future__ import annotations

import sys
from pathlib import Path

import diffusion_fixtures as fx
import pytest
from diffusion_fixtures import extension_module

tiny_models = fx.tiny_models  # fixture, requested by name below
MODULES = ("operators.scene_context", "operators.render", "panels.diffusion", "operators.worker", "operators.generate")


@pytest.fixture(scope="module", autouse=True)
def stop_worker_at_the_end():
    yield
    session = sys.modules.get("blurd.operators.worker")
    if session is not None:
        session.SESSION.stop()


@pytest.fixture
def blender(tmp_path):
    bpy = pytest.importorskip("bpy")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    registered = []
    for name in MODULES:
        module = extension_module(name)
        for cls in module.classes:
            bpy.utils.register_class(cls)
            registered.append(cls)
        for prop, value in getattr(module, "scene_properties", dict)().items():
            setattr(bpy.types.Scene, prop, value)
    scene = bpy.context.scene
    bpy.ops.mesh.primitive_uv_sphere_add(radius=1.0)
    bpy.ops.object.camera_add(location=(0, -4, 0), rotation=(1.5708, 0, 0))
    scene.camera = bpy.context.active_object
    bpy.ops.object.light_add(type="POINT", location=(2, -3, 2))
    scene.render.engine = "CYCLES"
    scene.render.resolution_x = scene.render.resolution_y = 64
    scene.render.resolution_percentage = 100
    scene.cycles.samples = 2
    scene.cycles.use_denoising = False
    scene.render.threads_mode, scene.render.threads = "FIXED", 1
    scene.blurd_output.folder = str(tmp_path / "out")
    yield bpy
    for cls in reversed(registered):
        bpy.utils.unregister_class(cls)


def test_generate_renders_then_shows_every_mode(blender, tiny_models):
    bpy = blender
    props = bpy.context.scene.blurd_diffusion
    for key, value in tiny_models.settings_mapping().items():
        setattr(props, key, value)
    props.steps, props.strength, props.resolution = 4, 0.5, (64, 48)
    for mode in ("unleashed", "tempered", "harbinger"):
        props.mode = mode
        assert bpy.ops.blurd.generate() == {"FINISHED"}
        image = bpy.data.images[f"sd_{mode}.png"]
        assert tuple(image.size) == (64, 48)
    samples = list(Path(bpy.context.scene.blurd_output.folder).glob("samples/*"))
    assert len(samples) == 1 and {p.name for p in samples[0].glob("sd_*.png")} == {
        "sd_unleashed.png", "sd_tempered.png", "sd_harbinger.png"}


def test_generate_reports_a_missing_model(blender, tiny_models):
    bpy = blender
    props = bpy.context.scene.blurd_diffusion
    props.base_model, props.mode, props.steps, props.resolution = "/nowhere/model", "unleashed", 2, (64, 64)
    with pytest.raises(RuntimeError, match="base model '/nowhere/model' does not exist"):
        bpy.ops.blurd.generate()

"""Every mode on a REAL rendered sample: a tiny Cycles render through scene.render.render_sample, then the worker."""

from __future__ import annotations

import diffusion_fixtures as fx
import pytest
from diffusion_fixtures import extension_module, tiny_settings
from PIL import Image

from blurd.diffusion.modes import MODES

tiny_models, worker = fx.tiny_models, fx.worker  # fixtures, requested by name below


@pytest.fixture(scope="module")
def rendered_sample(tmp_path_factory):
    bpy = pytest.importorskip("bpy")
    render = extension_module("scene.render")
    settings_module = extension_module("presets.settings")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    bpy.ops.mesh.primitive_uv_sphere_add(radius=1.0)
    bpy.context.active_object.pass_index = 1  # skin
    bpy.ops.object.camera_add(location=(0, -4, 0), rotation=(1.5708, 0, 0))
    scene.camera = bpy.context.active_object
    bpy.ops.object.light_add(type="POINT", location=(2, -3, 2))
    settings = settings_module.RenderSettings(resolution=(64, 64), samples=2, denoise=False, threads=1)
    folder = tmp_path_factory.mktemp("rendered") / "sample"
    render.render_sample(scene, folder, sample_id="rendered0001", seed=11, factors={"hair_color": "blue"},
                         settings=settings)
    return folder


def test_every_mode_on_a_rendered_sample(rendered_sample, tiny_models, worker):
    result = worker.run([(rendered_sample, m.name) for m in MODES], tiny_settings(tiny_models, resolution=[64, 64]))
    assert len(result.outputs) == 3
    for output in result.outputs:
        with Image.open(output.image) as image:
            assert image.size == (64, 64)
        assert output.seed == 11

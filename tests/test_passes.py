"""Every pass from one Cycles render call, in the documented conventions, byte-identical when repeated.

Renders the tiny sphere scene (tests/tiny_scene.py) at 48 px with 4 samples, so the file runs in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import bpy
import numpy as np
import pytest
import tiny_scene
from PIL import Image

from blurd.benchmark.fidelity import dilate
from blurd.dataset import layout
from blurd.dataset.record import SampleRecord
from blurd.factors import parts
from blurd.presets.settings import RenderSettings
from blurd.scene import pass_images, render

SIZE = 48
SETTINGS = RenderSettings(resolution=(SIZE, SIZE), samples=4, denoise=False, threads=1, palette_cells=4)
FACTORS = {"hair_color": "red"}


def render_into(folder: Path, *, cube: bool = True, seed: int = 7, scene=None) -> SampleRecord:
    scene = scene or tiny_scene.build_scene(cube=cube)
    return render.render_sample(scene, folder, sample_id="0123456789abcdef", seed=seed, factors=FACTORS,
                                settings=SETTINGS)


def png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


@pytest.fixture(scope="module")
def sphere(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sphere")
    render_into(folder, cube=False)
    return folder


def test_normal_png_follows_normalbae_convention_on_a_sphere(sphere):
    """ControlNet 1.1 NormalBAE: blue is front, red is left, green is top (NYU-V2 colours)."""
    normal = png(sphere / "normal.png").astype(int)
    skin = png(sphere / layout.mask_filename("skin")) > 127
    rows, cols = np.nonzero(skin)
    centre = SIZE // 2
    row_cols = np.nonzero(skin[centre])[0]
    col_rows = np.nonzero(skin[:, centre])[0]
    left, right = normal[centre, row_cols.min() + 1], normal[centre, row_cols.max() - 1]
    top, bottom = normal[col_rows.min() + 1, centre], normal[col_rows.max() - 1, centre]
    facing = normal[int(round(rows.mean())), int(round(cols.mean()))]

    assert left[0] >= 215 and abs(left[1] - 128) <= 25, left  # faces the image's left: red
    assert right[0] <= 40 and abs(right[1] - 128) <= 25, right
    assert top[1] >= 215 and abs(top[0] - 128) <= 25, top  # faces up: green
    assert bottom[1] <= 40 and abs(bottom[0] - 128) <= 25, bottom
    assert facing[2] >= 250 and abs(facing[0] - 128) <= 8 and abs(facing[1] - 128) <= 8, facing  # front: blue
    assert tuple(normal[0, 0]) == (128, 128, 255)  # no surface: a backdrop facing the camera


def test_depth_files_follow_metric_and_controlnet_conventions(sphere):
    metric = render.read_image_array(sphere / "depth.exr")[..., 0]  # Blender's own float32 EXR
    depth = png(sphere / "depth.png").astype(int)
    skin = png(sphere / layout.mask_filename("skin")) > 127  # the binary mask: coverage >= 0.5
    centre = SIZE // 2
    surface = metric < render.NO_SURFACE_DEPTH

    assert metric.shape == (SIZE, SIZE)
    assert metric[centre, centre] == pytest.approx(tiny_scene.CAMERA_DISTANCE - 1.0, abs=0.02)  # planar depth, m
    assert (metric[~surface] == render.NO_SURFACE_DEPTH_VALUE).all()  # Cycles' no-hit depth, kept as written
    assert (metric[surface] < tiny_scene.CAMERA_DISTANCE + 2).all()
    silhouette = dilate(skin, 1) & dilate(~skin, 1)  # partly covered pixels: the coverage mask may differ there
    assert skin.sum() > 100 and not ((surface != skin) & ~silhouette).any()

    subject = skin & surface
    assert (depth[~skin] == 0).all()  # background black
    assert depth[subject].max() == 255 and depth[centre, centre] >= 250  # the nearest point is brightest
    assert depth[subject].min() == round(255 * pass_images.DEPTH_PNG_RANGE[0])  # the farthest subject pixel
    near_to_far = np.argsort(metric[subject], kind="stable")
    assert (np.diff(depth[subject][near_to_far]) <= 1).all()  # farther never brighter (beyond rounding)


def test_every_pass_comes_from_one_render_call(tmp_path):
    calls = []

    def count(*_args):
        calls.append(1)

    scene = tiny_scene.build_scene()  # (a factory reset drops handlers, so build first)
    bpy.app.handlers.render_pre.append(count)
    try:
        record = render_into(tmp_path, scene=scene)
    finally:
        bpy.app.handlers.render_pre.remove(count)

    assert len(calls) == 1
    expected = {p.filename for p in layout.PASSES} | {layout.mask_filename(p.name) for p in parts.PARTS}
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == expected | {layout.SAMPLE_JSON}  # nothing else, no temporary names left
    assert set(record.passes.values()) == expected
    assert json.loads((tmp_path / layout.SAMPLE_JSON).read_text()) == record.to_json()
    newest_pass = max((tmp_path / name).stat().st_mtime_ns for name in expected)
    assert (tmp_path / layout.SAMPLE_JSON).stat().st_mtime_ns >= newest_pass  # sample.json last

    soft = {p.name: png(tmp_path / layout.mask_filename(p.name)).astype(int) for p in parts.PARTS}
    assert (np.abs(sum(soft.values()) - 255) <= len(parts.PARTS)).all()  # the parts' coverage adds up to the pixel
    assert any(((m > 0) & (m < 255)).any() for m in soft.values())  # anti-aliased: partly covered pixels
    masks = {name: m > 127 for name, m in soft.items()}  # the binary masks: coverage >= 0.5
    assert masks["skin"].any() and masks["shirt"].any() and masks["background"].any()
    label = png(tmp_path / "label.png")
    assert set(np.unique(label)) == {parts.Label.BACKGROUND, parts.Label.SKIN, parts.Label.CLOTH}
    # masks hold the pixels a part covers at least half of; away from the silhouettes that is the label's class
    inner = ~np.logical_or.reduce([dilate(label == c, 1) & dilate(label != c, 1) for c in np.unique(label)])
    for part, label_id in (("skin", parts.Label.SKIN), ("shirt", parts.Label.CLOTH),
                           ("background", parts.Label.BACKGROUND)):
        assert ((masks[part] > 0) == (label == label_id))[inner].all(), part
    assert (sum(m.astype(int) for m in masks.values()) == 1)[inner].all()  # inside: exactly one part

    rgb, palette = png(tmp_path / "rgb.png"), png(tmp_path / "palette.png")
    assert rgb.shape == palette.shape == (SIZE, SIZE, 3)
    cell = SIZE // SETTINGS.palette_cells
    block = palette[:cell, :cell].reshape(-1, 3)
    assert (block == block[0]).all()  # one colour per cell
    assert np.abs(block[0].astype(int) - rgb[:cell, :cell].reshape(-1, 3).mean(0)).max() <= 1  # the cell mean

    intrinsics = record.camera["intrinsics"]
    assert intrinsics["fx"] == pytest.approx(50.0 / 36.0 * SIZE) and intrinsics["cx"] == SIZE / 2
    assert record.versions["blender"] == bpy.app.version_string
    assert record.timings["render_s"] > 0


def test_the_same_sample_rendered_twice_gives_identical_bytes(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    render_into(first)
    render_into(second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file() and p.name != layout.SAMPLE_JSON)
    assert len(files) == len(layout.PASSES) + len(parts.PARTS)
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert b"Date\x00" not in (first / name).read_bytes(), name  # no render-time metadata in any file
    records = [json.loads((folder / layout.SAMPLE_JSON).read_text()) for folder in (first, second)]
    for record in records:
        record.pop("timings")
    assert records[0] == records[1]
    third = tmp_path / "c"
    render_into(third, seed=8)  # the seed reaches Cycles: another seed, other noise
    assert (third / "rgb.png").read_bytes() != (first / "rgb.png").read_bytes()


def test_render_restores_the_scene_compositor_and_needs_a_camera(tmp_path):
    scene = tiny_scene.build_scene(cube=False)
    own = bpy.data.node_groups.new("UserCompositor", "CompositorNodeTree")
    scene.compositing_node_group = own
    scene.render.use_stamp_date = True  # the user's metadata choice comes back after the render
    render.render_sample(scene, tmp_path / "s", sample_id="x", seed=1, factors={}, settings=SETTINGS)
    assert scene.compositing_node_group == own
    assert scene.render.use_stamp_date

    scene.camera = None
    with pytest.raises(render.RenderError, match="no active camera"):
        render.render_sample(scene, tmp_path / "t", sample_id="y", seed=1, factors={}, settings=SETTINGS)
    assert not (tmp_path / "t").exists()



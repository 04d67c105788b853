"""Diffusion pairs: two samples swept from a preset that differ only in a colour factor start every diffusion mode
from the same latent noise, get identical depth and normal conditioning and a palette that differs only in the
part's cells; the fidelity report (``python -m blurd.benchmark fidelity``) measures the pair in every image source.

The pair is rendered from the tiny sphere scene (its sphere tagged as hair, which hair_color paints) through the
sweep engine with the default seed policy, and diffused by the tiny random pipelines (tests/diffusion_fixtures.py).
"""

from __future__ import annotations

import json

import diffusion_fixtures as fx
import numpy as np
import pytest
import tiny_scene
from diffusion_fixtures import SIZE, tiny_settings
from PIL import Image

from blurd.benchmark import cli
from blurd.benchmark.fidelity import dilate
from blurd.dataset import layout
from blurd.diffusion.modes import MODES
from blurd.presets import loads_preset
from blurd.scene import part_tags, sweep

tiny_models, worker = fx.tiny_models, fx.worker  # fixtures, requested by name below

CELLS = 8
PRESET = f"""
format = 1
[grid.sweep]
hair_color = ["red", "blue"]
gender = ["male", "female"]
[render]
resolution = [{SIZE[0]}, {SIZE[1]}]
samples = 4
denoise = false
threads = 1
palette_cells = {CELLS}
"""


def png(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, tiny_models, worker):
    """Four samples (hair colour x gender) swept from a preset, each diffused in every mode."""
    out = tmp_path_factory.mktemp("pairs")
    preset = loads_preset(PRESET, "pairs.toml")
    scene = tiny_scene.build_scene()
    part_tags.tag_part(scene.objects["Sphere"], "hair")  # hair_color paints the sphere in the tiny scene
    scene.cycles.max_bounces = 0  # direct light: the sphere's colour reaches no other surface
    config = sweep.SweepConfig(out=out, grid=preset.grid, render=preset.render, output=preset.output,
                               progress_bar=False)
    assert sweep.Sweep(config, scene=scene, apply_factors=tiny_scene.apply_factors).run().rendered == 4
    folders = {(s.factors["hair_color"], s.factors["gender"]): layout.sample_dir(out, s.id) for s in preset.grid}
    worker.run([(folder, m.name) for folder in folders.values() for m in MODES], tiny_settings(tiny_models))
    return out, folders


def sd_meta(folder, mode: str) -> dict:
    return json.loads((folder / layout.diffusion_filename(mode, "json")).read_text())


def test_a_colour_pair_starts_every_mode_from_the_same_noise(dataset):
    _, folders = dataset
    for gender in ("male", "female"):
        red, blue = folders[("red", gender)], folders[("blue", gender)]
        for mode in MODES:
            a, b = sd_meta(red, mode.name), sd_meta(blue, mode.name)
            assert a["seed"] == b["seed"] == json.loads((red / layout.SAMPLE_JSON).read_text())["seed"]
            assert a["noise_sha256"] and a["noise_sha256"] == b["noise_sha256"], mode.name
    for mode in MODES:  # another person (gender is an identity factor): other noise
        assert sd_meta(folders[("red", "male")], mode.name)["noise_sha256"] != \
            sd_meta(folders[("red", "female")], mode.name)["noise_sha256"], mode.name


def test_harbinger_inputs_of_a_colour_pair_differ_only_in_the_part(dataset):
    _, folders = dataset
    red, blue = folders[("red", "male")], folders[("blue", "male")]
    for name in ("depth.png", "normal.png"):  # the geometry conditioning is identical, byte for byte
        assert (red / name).read_bytes() == (blue / name).read_bytes(), name
    part = dilate(png(red / layout.mask_filename("hair")) > 0)
    height, width = part.shape
    cell = min(height, width) / CELLS
    grid_h, grid_w = round(height / cell), round(width / cell)
    rows = np.minimum(np.arange(height) * grid_h // height, grid_h - 1)
    cols = np.minimum(np.arange(width) * grid_w // width, grid_w - 1)
    cell_of = rows[:, None] * grid_w + cols[None, :]
    changed = (png(red / "palette.png") != png(blue / "palette.png")).any(axis=-1)
    part_cells = set(np.unique(cell_of[part]))
    assert changed.any() and set(np.unique(cell_of[changed])) <= part_cells
    assert len(part_cells) < grid_h * grid_w  # the check means something: some cells hold no hair


def test_fidelity_report_measures_every_source(dataset, capsys):
    out, _ = dataset
    assert cli.main(["fidelity", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "benchmark" / "fidelity.json").read_text())
    assert report["sources"] == ["render", "unleashed", "tempered", "harbinger"]
    summary = {(s["factor"], s["source"]): s for s in report["summary"]}
    assert set(summary) == {("hair_color", source) for source in report["sources"]}
    assert all(s["pairs"] == 2 for s in summary.values())  # red/blue for each gender
    assert summary[("hair_color", "render")]["pixel_share_min"] == 1.0  # exact: shared noise, direct light
    assert report["factors_without_part"] == {"gender": 2}  # pairs that differ in a factor with no part
    csv_lines = (out / "benchmark" / "fidelity.csv").read_text().splitlines()
    assert csv_lines[0].startswith("factor,part,source,pairs,pixel_share_mean") and len(csv_lines) == 5
    assert png(out / "benchmark" / "fidelity.png").ndim == 3
    harbinger = summary[("hair_color", "harbinger")]
    print(f"harbinger with tiny random models: pixel share {harbinger['pixel_share_mean']:.3f}, energy share "
          f"{harbinger['energy_share_mean']:.3f} inside the hair mask")
    assert "hair_color" in printed and "harbinger" in printed


def test_fidelity_report_refuses_a_dataset_without_pairs(tmp_path, capsys):
    assert cli.main(["fidelity", str(tmp_path)]) == 2
    assert "not a BLURD dataset folder" in capsys.readouterr().err

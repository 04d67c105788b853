"""Control fidelity through the path users take: presets that sweep one colour factor over two values are rendered
by the sweep engine with the default seed policy (no pinned seed), and every pair's change lies inside its part.

One 256 px pair per colour factor, at 4 samples without denoising; the conditions are spread over the pairs (camera
angles -30..30, all four worlds, focal lengths 35..85) and the pairs under one set of conditions share their base
render, so the whole matrix is 13 renders of the built-in human. The measurement is the fidelity report's
(``python -m blurd.benchmark fidelity``); ``benchmarks/fidelity_sweep.py`` runs the exhaustive sweep.
"""

from __future__ import annotations

import json

import pytest

from blurd.benchmark.dataset import load_dataset
from blurd.benchmark.fidelity import COLOUR_PAIRS, ISOLATION_BAR, fidelity_report, pair_preset
from blurd.dataset import layout
from blurd.presets.reader import preset_from_mapping
from blurd.scene import sweep

RENDER = {"resolution": [256, 256], "samples": 4, "denoise": False, "threads": 2}
# conditions -> the colour factors paired under them
MATRIX = (
    ({"camera_angle": -30, "world_background": "studio", "focal_length": 35},
     ("hair_color", "eyebrow_color", "lipstick_color")),
    ({"camera_angle": 30, "world_background": "daylight", "focal_length": 85}, ("beard_color", "eye_color")),
    ({"camera_angle": -15, "world_background": "sunset", "focal_length": 50}, ("shirt_color", "eyeshadow_color")),
    ({"camera_angle": 15, "world_background": "indoor", "focal_length": 70}, ("tie_color", "eyeliner_color")),
)


def test_the_matrix_covers_every_colour_factor_and_condition():
    factors = [f for _, group in MATRIX for f in group]
    assert sorted(factors) == sorted(COLOUR_PAIRS)
    conditions = [c for c, _ in MATRIX]
    assert {c["world_background"] for c in conditions} == {"studio", "daylight", "sunset", "indoor"}
    assert {-30, 30} <= {c["camera_angle"] for c in conditions}
    assert {35, 85} <= {c["focal_length"] for c in conditions}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Every pair of the matrix swept into one dataset folder, as batch.py would sweep each pair's preset."""
    out = tmp_path_factory.mktemp("fidelity")
    scene = None
    for conditions, factors in MATRIX:
        for factor in factors:
            preset = preset_from_mapping(pair_preset(factor, conditions, RENDER), f"{factor}.toml")
            config = sweep.SweepConfig(out=out, grid=preset.grid, render=preset.render, output=preset.output,
                                       progress_bar=False)
            runner = sweep.Sweep(config, scene=scene)  # the first sweep builds the built-in human, like batch.py
            summary = runner.run()
            assert not summary.failed, summary.text()
            scene = runner.scene
    return load_dataset(out)


def test_sweeps_share_noise_across_each_pair(dataset):
    assert len(dataset.samples) == len(COLOUR_PAIRS) + len(MATRIX)  # one base render per set of conditions
    for conditions, _ in MATRIX:
        records = [json.loads((s.dir / layout.SAMPLE_JSON).read_text()) for s in dataset.samples
                   if all(s.factors[k] == v for k, v in conditions.items())]
        assert len({r["seed"] for r in records}) == 1  # the default policy: one person, one noise
        assert all(r["seed_policy"]["seed_from"] != "sample" for r in records)


def test_every_colour_factor_changes_only_its_part_at_256_px(dataset):
    report = fidelity_report(dataset, sources=["render"])
    by_factor = {s.factor: s for s in report.summaries}
    lines = [f"{s.factor}: pixel share {s.pixel_share_min:.4f}, energy share {s.energy_share_min:.4f}, "
             f"{s.changed_pixels_mean:.0f} changed px" for s in report.summaries]
    print("\n".join(lines))
    for factor in COLOUR_PAIRS:
        summary = by_factor[factor]
        assert summary.pairs == 1 and summary.changed_pixels_mean > 20, factor
        assert summary.pixel_share_min >= ISOLATION_BAR, "\n".join(lines)

"""The preset's seed policy: seeds hash only the listed factors (plus the salt), ids still hash every factor; a
pair swept from a preset shares its seed, so its renders differ only where the factor acts (tiny sphere scene)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tiny_scene
from PIL import Image

from blurd.benchmark.fidelity import dilate
from blurd.dataset import layout
from blurd.dataset.record import SampleRecord
from blurd.factors import ids
from blurd.factors.errors import FactorError, PresetError
from blurd.factors.grid import Grid
from blurd.presets import dump_preset, loads_preset
from blurd.scene import sweep

SWEEP = {"hair_color": ["red", "blue"], "gender": ["male", "female"], "camera_angle": [-30, 30]}


def seeds_by(grid: Grid) -> dict[tuple, int]:
    return {(s.factors["hair_color"], s.factors["gender"], s.factors["camera_angle"]): s.seed for s in grid}


def test_the_default_shares_noise_across_non_identity_factors_and_not_across_people():
    grid = Grid(sweep=SWEEP)
    seeds = seeds_by(grid)
    assert grid.seed_from == ids.IDENTITY_FACTORS
    for gender in ("male", "female"):  # colour and camera pairs of one person share one seed
        assert len({seed for key, seed in seeds.items() if key[1] == gender}) == 1
    assert seeds[("red", "male", -30)] != seeds[("red", "female", -30)]  # another person: other noise
    assert len({s.id for s in grid}) == 8  # ids still hash every factor


def test_sample_policy_keeps_the_per_sample_seeds_of_earlier_datasets():
    grid = Grid(sweep=SWEEP, seed_from="sample", seed_salt=5)
    for sample in grid:
        assert sample.seed == ids.sample_seed(sample.id, 5)
    assert len({s.seed for s in grid}) == 8


def test_listed_factors_and_salt_decide_the_seed():
    by_colour = seeds_by(Grid(sweep=SWEEP, seed_from=["hair_color"]))
    assert by_colour[("red", "male", -30)] == by_colour[("red", "female", 30)]
    assert by_colour[("red", "male", -30)] != by_colour[("blue", "male", -30)]
    shared = set(seeds_by(Grid(sweep=SWEEP, seed_from=[])).values())
    assert len(shared) == 1
    assert shared != set(seeds_by(Grid(sweep=SWEEP, seed_from=[], seed_salt=1)).values())
    # the order a preset lists the factors in does not matter
    assert Grid(seed_from=["race", "age"]).seed_policy.seed(ids.validate_assignment({}, complete=True)) == \
        Grid(seed_from=["age", "race"]).seed_policy.seed(ids.validate_assignment({}, complete=True))


def test_policy_records_round_trip_and_old_records_read_as_per_sample():
    policy = ids.SeedPolicy(("gender", "age"), 3)
    assert policy.to_record() == {"seed_from": ["age", "gender"], "salt": 3}
    assert ids.SeedPolicy.from_record(policy.to_record()) == policy
    assert ids.SeedPolicy.from_record(None).per_sample  # sample.json written before seed policies


def test_bad_policies_are_refused_with_the_fix():
    with pytest.raises(FactorError, match="did you mean 'hair_color'"):
        ids.SeedPolicy(("hair_colour",))
    with pytest.raises(FactorError, match="neither a list"):
        Grid(seed_from="per-sample")


PRESET = """
format = 1
[grid]
seed_from = {seed_from}
[grid.sweep]
hair_color = ["red", "blue"]
"""


def test_preset_reads_writes_and_checks_seed_from():
    preset = loads_preset(PRESET.format(seed_from='["gender", "race"]'), "p.toml")
    assert preset.grid.seed_from == ("gender", "race")
    assert loads_preset(dump_preset(preset)).grid.seed_from == ("gender", "race")
    assert loads_preset(PRESET.format(seed_from='"sample"')).grid.seed_policy.per_sample
    default = loads_preset("format = 1\n[grid.sweep]\nhair_color = ['red', 'blue']\n")
    assert default.grid.seed_from == ids.DEFAULT_SEED_FROM
    assert len({s.seed for s in default.grid}) == 1
    with pytest.raises(PresetError, match=r"p.toml: \[grid.seed_from\[1\]\] unknown factor 'gendr'"):
        loads_preset(PRESET.format(seed_from='["race", "gendr"]'), "p.toml")
    with pytest.raises(PresetError, match=r"\[grid.seed_from\] unknown seed policy 'random'"):
        loads_preset(PRESET.format(seed_from='"random"'), "p.toml")
    with pytest.raises(PresetError, match="lists a factor twice"):
        loads_preset(PRESET.format(seed_from='["age", "age"]'), "p.toml")


def _sweep_pair(tmp_path, seed_from: str) -> tuple[list[dict], list[np.ndarray], np.ndarray]:
    """Two samples differing in hair_color (the tiny scene paints the sphere with it), swept from a preset."""
    preset = loads_preset(PRESET.format(seed_from=seed_from) + "[render]\nresolution = [40, 40]\nsamples = 4\n"
                          "denoise = false\nthreads = 1\n", "pair.toml")
    config = sweep.SweepConfig(out=tmp_path, grid=preset.grid, render=preset.render, output=preset.output,
                               progress_bar=False)
    scene = tiny_scene.build_scene()
    scene.cycles.max_bounces = 0  # direct light only: no bounce tints the cube, so any change outside is noise
    sweep.Sweep(config, scene=scene, apply_factors=tiny_scene.apply_factors).run()
    folders = [layout.sample_dir(tmp_path, s.id) for s in preset.grid]
    records = [json.loads((f / layout.SAMPLE_JSON).read_text()) for f in folders]
    images = [np.asarray(Image.open(f / "rgb.png")).astype(int) for f in folders]
    sphere = np.asarray(Image.open(folders[0] / layout.mask_filename("skin"))) > 0
    return records, images, sphere


def test_a_swept_pair_shares_its_seed_and_differs_only_where_the_factor_acts(tmp_path):
    records, (a, b), sphere = _sweep_pair(tmp_path / "shared", "[]")
    assert records[0]["seed"] == records[1]["seed"]
    assert records[0]["seed_policy"] == {"seed_from": [], "salt": 0}
    assert ids.SeedPolicy.from_record(records[0]["seed_policy"]) == ids.SeedPolicy((), 0)
    changed = np.abs(a - b).max(axis=-1) > 0
    assert changed.sum() > 50 and not (changed & ~dilate(sphere)).any()  # the same noise everywhere else

    records, (a, b), sphere = _sweep_pair(tmp_path / "independent", '"sample"')
    assert records[0]["seed"] != records[1]["seed"] and records[0]["seed_policy"]["seed_from"] == "sample"
    assert (np.abs(a - b).max(axis=-1) > 0)[~dilate(sphere)].any()  # other noise outside the sphere too


def test_records_written_before_seed_policies_still_read(tmp_path):
    old = {"id": "0123456789abcdef", "seed": 5, "factors": {"hair_color": "red"}}
    record = SampleRecord.from_json(old)
    assert record.seed == 5 and ids.SeedPolicy.from_record(record.seed_policy).per_sample


def test_resuming_a_folder_seeded_another_way_is_refused_before_any_work(tmp_path):
    """A dataset made before seed policies (per-sample seeds) resumed by a preset with the default policy would mix
    two noise policies: the sweep refuses it and names the fix; with seed_from = "sample" it resumes."""
    scene = tiny_scene.build_scene()
    render = loads_preset("format = 1\n[render]\nresolution = [16, 16]\nsamples = 1\n").render

    def run(seed_from: str, limit: int | None = None) -> sweep.SweepSummary:
        preset = loads_preset(PRESET.format(seed_from=seed_from))
        config = sweep.SweepConfig(out=tmp_path, grid=preset.grid, render=render, output=preset.output,
                                   limit=limit, progress_bar=False)
        return sweep.Sweep(config, scene=scene, apply_factors=tiny_scene.apply_factors).run()

    assert run('"sample"', limit=1).rendered == 1
    with pytest.raises(sweep.SweepError, match=r'seeded another way.*seed_from = "sample"'):
        run('["gender"]')
    assert len(list((tmp_path / layout.SAMPLES_DIR).iterdir())) == 1  # nothing rendered
    resumed = run('"sample"')
    assert (resumed.rendered, resumed.skipped) == (1, 1)

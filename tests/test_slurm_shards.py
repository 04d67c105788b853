"""Slurm array tasks: each task of `sbatch --array` sweeps the shard its SLURM_ARRAY_* variables name, and the
tasks together cover the grid exactly once (through batch.py, with the tiny sphere scene at 32 px)."""

from __future__ import annotations

import json

import pytest
import tiny_scene
from tiny_presets import render_table

from blurd import batch
from blurd.dataset import layout
from blurd.distributed import cli
from blurd.factors.grid import Grid, GridError
from blurd.factors.slurm import array_shard

PRESET = """\
format = 1
name = "slurm-test"
[grid.sweep]
hair_color = ["red", "blue", "green"]
camera_angle = [0, 15]
""" + render_table() + """[output]
contact_sheet = false
"""


def slurm(task: int, count: int, first: int = 0, step: int = 1) -> dict[str, str]:
    return {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": str(count),
            "SLURM_ARRAY_TASK_MIN": str(first), "SLURM_ARRAY_TASK_STEP": str(step), "SLURM_JOB_ID": "77"}


def test_the_array_task_names_its_shard():
    assert array_shard({}) is None  # not an array job
    assert [array_shard(slurm(t, 4)) for t in range(4)] == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert [array_shard(slurm(t, 3, first=1)) for t in (1, 2, 3)] == [(0, 3), (1, 3), (2, 3)]  # --array=1-3
    assert [array_shard(slurm(t, 3, first=0, step=5)) for t in (0, 5, 10)] == [(0, 3), (1, 3), (2, 3)]  # 0-10:5
    with pytest.raises(GridError, match="not one of an evenly spaced range"):
        array_shard(slurm(7, 3, first=1, step=5))  # --array=1,5,7 cannot cover the grid
    with pytest.raises(GridError, match="SLURM_ARRAY_TASK_ID"):
        array_shard({"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"})


def test_array_tasks_through_batch_py_cover_the_grid_exactly_once(tmp_path, monkeypatch):
    preset = tmp_path / "slurm.toml"
    preset.write_text(PRESET)
    out = tmp_path / "ds"
    for task in (1, 2, 3):  # sbatch --array=1-3
        for name, value in slurm(task, 3, first=1).items():
            monkeypatch.setenv(name, value)
        _, run_config = cli.parse_arguments(["--preset", str(preset), "--out", str(out)])
        assert run_config.shard == (task - 1, 3)  # the Ray engine reads the same variables
        assert batch.main(["batch.py", "--preset", str(preset), "--out", str(out), "--no-progress"],
                          build_scene=tiny_scene.build_scene, apply_factors=tiny_scene.apply_factors) == 0

    grid_ids = sorted(s.id for s in Grid(sweep={"hair_color": ["red", "blue", "green"], "camera_angle": [0, 15]}))
    rows = [json.loads(line)["id"] for line in (out / layout.MANIFEST).read_text().splitlines()]
    assert sorted(rows) == grid_ids  # every sample once: no task rendered another's, none was left out
    assert sorted(p.name for p in layout.samples_root(out).iterdir()) == grid_ids

    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "0")  # an explicit --shard wins over the environment
    args, config = batch.parse_arguments(["batch.py", "--preset", str(preset), "--out", str(out), "--shard", "1/2"])
    assert config["shard"] == (1, 2)

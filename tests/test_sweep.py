"""The sweep engine: shards cover the grid exactly once, restarts skip complete samples and clear partial ones,
the manifest stays one row per sample, and the contact sheet, preset copy and sample hook are written.

Uses the tiny sphere scene (tests/tiny_scene.py) at 32 px, 1 Cycles sample.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tiny_scene
from PIL import Image

from blurd.dataset import layout
from blurd.dataset.record import is_complete
from blurd.factors.grid import Grid
from blurd.presets import settings
from blurd.scene import sweep

RENDER = settings.RenderSettings(resolution=(32, 32), samples=1, denoise=False, threads=1)
GRID = Grid(sweep={"hair_color": ["red", "blue", "green"], "camera_angle": [0, 15]})  # six samples


@pytest.fixture(scope="module")
def scene():
    return tiny_scene.build_scene()


def make_sweep(scene, out: Path, **config) -> sweep.Sweep:
    config.setdefault("progress_bar", False)
    return sweep.Sweep(sweep.SweepConfig(out=out, grid=config.pop("grid", GRID), render=RENDER, **config),
                       scene=scene, apply_factors=tiny_scene.apply_factors)


def manifest_ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in (out / layout.MANIFEST).read_text().splitlines()]


def dead_pid() -> int:
    """The id of a process that has exited (a killed writer's)."""
    with subprocess.Popen(["true"]) as child:
        child.wait()
    return child.pid


def temp_leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.startswith(layout.TMP_PREFIX)]


def test_three_shards_cover_the_grid_exactly_once(scene, tmp_path):
    summaries = [make_sweep(scene, tmp_path, shard=(i, 3)).run() for i in range(3)]

    grid_ids = sorted(s.id for s in GRID)
    assert sum(s.planned for s in summaries) == len(grid_ids) == 6
    assert sum(s.rendered for s in summaries) == 6 and not any(s.failed or s.skipped for s in summaries)
    assert sorted(manifest_ids(tmp_path)) == grid_ids  # every sample once, no duplicates
    assert all(is_complete(layout.sample_dir(tmp_path, sid)) for sid in grid_ids)
    rows = [json.loads(line) for line in (tmp_path / layout.MANIFEST).read_text().splitlines()]
    by_id = {s.id: s for s in GRID}
    for row in rows:
        assert row["factors"] == dict(by_id[row["id"]].factors) and row["seed"] == by_id[row["id"]].seed
        assert row["dir"] == f"{layout.SAMPLES_DIR}/{row['id']}" and row["index"] == by_id[row["id"]].index


def test_a_restart_skips_complete_samples_clears_partial_ones_and_repairs_the_manifest(scene, tmp_path):
    first = make_sweep(scene, tmp_path, limit=2).run()
    assert first.rendered == 2
    done_a, done_b, partial, *_ = [s.id for s in GRID]
    # A kill can leave: a half-written sample, a torn manifest line, a complete sample without its manifest row.
    half = layout.sample_dir(tmp_path, partial)
    (half / layout.MASKS_DIR).mkdir(parents=True)
    (half / "rgb.png").write_bytes(b"half")
    (half / f"{layout.TMP_PREFIX}depth.png").write_bytes(b"half")
    lines = (tmp_path / layout.MANIFEST).read_text().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["id"] == done_a]
    (tmp_path / layout.MANIFEST).write_text("".join(kept * 2) + '{"id": "torn')
    stale = tmp_path / f"{layout.TMP_PREFIX}{dead_pid()}-0000-{layout.MANIFEST}"
    stale.write_text("stale")  # left by a writer killed mid-rewrite
    stamp = (layout.sample_dir(tmp_path, done_a) / "rgb.png").stat().st_mtime_ns

    second = make_sweep(scene, tmp_path).run()

    assert (second.skipped, second.rendered, second.failed) == (2, 4, 0)
    assert (layout.sample_dir(tmp_path, done_a) / "rgb.png").stat().st_mtime_ns == stamp  # not rendered again
    assert sorted(manifest_ids(tmp_path)) == sorted(s.id for s in GRID)
    assert all(is_complete(layout.sample_dir(tmp_path, s.id)) for s in GRID)
    with Image.open(half / "rgb.png") as image:
        assert image.size == (32, 32)
    assert temp_leftovers(tmp_path) == []
    assert done_b in manifest_ids(tmp_path)


def test_resume_clears_temporary_files_of_dead_writers_only_and_never_follows_a_link(scene, tmp_path):
    with subprocess.Popen(["sleep", "60"]) as alive:
        try:
            busy = tmp_path / f"{layout.TMP_PREFIX}{alive.pid}-ab12-{layout.CONTACT_SHEET}"  # a live shard's sheet
            busy.write_bytes(b"in progress")
            dead = tmp_path / f"{layout.TMP_PREFIX}{dead_pid()}-cd34-{layout.MANIFEST}"  # killed mid-rewrite
            dead.write_bytes(b"stale")
            outside = tmp_path.parent / f"{tmp_path.name}-outside"
            outside.mkdir()
            (outside / "keep.txt").write_text("not the sweep's")
            link = tmp_path / f"{layout.TMP_PREFIX}{dead_pid()}-ef56-raw"
            link.symlink_to(outside, target_is_directory=True)
            sample_link = layout.samples_root(tmp_path) / f"{layout.TMP_PREFIX}{dead_pid()}-x"
            sample_link.parent.mkdir(parents=True)
            sample_link.symlink_to(outside / "keep.txt")

            make_sweep(scene, tmp_path, limit=1).run()

            assert busy.read_bytes() == b"in progress"
            assert not dead.exists() and not link.is_symlink() and not sample_link.is_symlink()
            assert (outside / "keep.txt").read_text() == "not the sweep's"
        finally:
            alive.kill()


def test_step_by_step_with_progress_eta_and_cancel(scene, tmp_path):
    runner = make_sweep(scene, tmp_path)
    runner.start()
    assert runner.total == 6 and runner.eta_seconds() is None
    result = runner.step()
    assert result.outcome is sweep.Outcome.RENDERED and runner.position == 1
    assert runner.eta_seconds() > 0
    runner.cancel()
    assert runner.done and runner.step() is None
    summary = runner.finish()
    assert summary.cancelled and summary.rendered == 1 and "cancelled" in summary.text()
    assert manifest_ids(tmp_path) == [result.sample.id]


def test_contact_sheet_preset_copy_and_sample_hook(scene, tmp_path):
    preset = tmp_path / "my_preset.toml"
    preset.write_text("# any preset text is copied as it is\n")
    seen: list[Path] = []
    out = tmp_path / "out"
    runner = sweep.Sweep(
        sweep.SweepConfig(out=out, grid=GRID, render=RENDER, limit=4, preset_path=preset, progress_bar=False,
                          output=settings.OutputSettings(thumbnail_size=32)),
        scene=scene, apply_factors=tiny_scene.apply_factors, on_sample_done=seen.append)
    summary = runner.run()

    assert (out / layout.PRESET_COPY).read_bytes() == preset.read_bytes()
    assert summary.contact_sheet == out / layout.CONTACT_SHEET
    with Image.open(out / layout.CONTACT_SHEET) as sheet:
        pixels = np.asarray(sheet.convert("RGB"))
    assert pixels.shape[1] >= 2 * 32 and pixels.shape[0] >= 2 * 32  # a 2x2 grid of 32 px thumbnails
    assert len({tuple(p) for p in pixels.reshape(-1, 3)}) > 50  # thumbnails and label text, not a blank sheet
    assert seen == [layout.sample_dir(out, s.id) for s in list(GRID)[:4]]

    preset.write_text("# another preset\n")
    with pytest.raises(sweep.SweepError, match="different preset"):
        sweep.Sweep(sweep.SweepConfig(out=out, grid=GRID, render=RENDER, preset_path=preset, progress_bar=False),
                    scene=scene).start()


def test_a_failing_sample_is_reported_and_the_sweep_goes_on(scene, tmp_path):
    def apply_or_fail(bl_scene, values, bindings=None):
        if values["hair_color"] == "blue":
            raise RuntimeError("no blue today")
        tiny_scene.apply_factors(bl_scene, values)

    runner = sweep.Sweep(sweep.SweepConfig(out=tmp_path, grid=GRID, render=RENDER, progress_bar=False),
                         scene=scene, apply_factors=apply_or_fail)
    summary = runner.run()
    assert (summary.rendered, summary.failed) == (4, 2)
    assert all("no blue today" in message for _, message in summary.failures)
    blue = [s.id for s in GRID if s.factors["hair_color"] == "blue"]
    assert not any(layout.sample_dir(tmp_path, sid).exists() for sid in blue)
    assert set(manifest_ids(tmp_path)).isdisjoint(blue)


def test_an_unwritable_output_folder_is_an_error_before_any_work(scene, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(sweep.SweepError, match="not writable"):
        make_sweep(scene, blocker / "out").start()

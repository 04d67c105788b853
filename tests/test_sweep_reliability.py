"""The sweep under fault: Ctrl-C inside a render, two runs and two shards at once on one folder, a full disk, a
sample.json whose files are gone. Each drives ``batch.main`` in a child process with the tiny sphere scene standing
in for the built-in human; kill points are deterministic (a render handler at a given sample, a disk of a given
size), never timing. docs/reliability.md states the guarantees these tests check."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_presets import render_table

from blurd import presets
from blurd.dataset import layout
from blurd.dataset.record import is_complete

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
PRESET = """\
format = 1
name = "reliability"
[grid.sweep]
hair_color = ["red", "blue", "green", "yellow"]
camera_angle = [0, 15]
""" + render_table() + """[output]
thumbnail_size = 32
"""
# batch.main with the tiny scene; BLURD_TEST_SIGINT_AT=k sends Ctrl-C to the process group from inside the k-th
# render (a render_pre handler runs in Blender's render job, where the issue saw Ctrl-C swallowed).
DRIVER = """\
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a foreground terminal, whatever started us
import bpy
import tiny_scene
from blurd import batch
renders = []
@bpy.app.handlers.persistent  # tiny_scene reads factory settings, which drops other handlers
def interrupt(*args):
    renders.append(1)
    if len(renders) == int(os.environ.get("BLURD_TEST_SIGINT_AT", "0")):
        os.killpg(os.getpgrp(), signal.SIGINT)
bpy.app.handlers.render_pre.append(interrupt)
sys.exit(batch.main(sys.argv, build_scene=tiny_scene.build_scene, apply_factors=tiny_scene.apply_factors))
"""


@pytest.fixture
def preset(tmp_path) -> Path:
    path = tmp_path / "reliability.toml"
    path.write_text(PRESET)
    return path


def command(preset: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", DRIVER, "--", "--preset", str(preset), "--out", str(out), "--no-progress", *extra]


def start(preset: Path, out: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    import os

    return subprocess.Popen(command(preset, out, *extra), cwd=TESTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, process_group=0, env={**os.environ, **(env or {})})


def grid_ids(preset: Path) -> list[str]:
    return sorted(s.id for s in presets.load_preset(preset).grid)


def assert_consistent(out: Path) -> set[str]:
    """Every sample folder complete, one manifest row per complete sample, no temporary file: returns the ids."""
    folders = {p.name for p in layout.samples_root(out).iterdir()} if layout.samples_root(out).exists() else set()
    assert all(is_complete(layout.sample_dir(out, sid)) for sid in folders), folders
    rows = [json.loads(line)["id"] for line in (out / layout.MANIFEST).read_text().splitlines()] \
        if (out / layout.MANIFEST).exists() else []
    assert sorted(rows) == sorted(folders)
    assert [p for p in out.rglob("*") if p.name.startswith(layout.TMP_PREFIX)] == []
    return folders


def rendered(stdout: str) -> int:
    return int(re.search(r"(\d+) rendered", stdout).group(1))


def test_ctrl_c_inside_a_render_stops_the_sweep_after_that_sample_with_exit_130(tmp_path, preset):
    out = tmp_path / "out"
    run = start(preset, out, env={"BLURD_TEST_SIGINT_AT": "2"})
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr[-2000:]
    assert "interrupted; run the same command again" in stderr and "Traceback" not in stderr
    assert len(assert_consistent(out)) == 2  # the sample whose render saw Ctrl-C is finished, nothing after it

    again = subprocess.run(command(preset, out), cwd=TESTS, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert sorted(assert_consistent(out)) == grid_ids(preset) and rendered(again.stdout) == 6


def test_two_runs_at_once_on_one_folder_share_the_work(tmp_path, preset):
    out = tmp_path / "out"
    runs = [start(preset, out), start(preset, out)]
    results = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in results]
    assert sorted(assert_consistent(out)) == grid_ids(preset)
    assert sum(rendered(stdout) for stdout, _ in results) == len(grid_ids(preset))  # nothing rendered twice


def test_shards_at_once_in_one_folder(tmp_path, preset):
    out = tmp_path / "out"
    runs = [start(preset, out, "--shard", "0/2"), start(preset, out, "--shard", "1/2")]
    results = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in results]
    assert sorted(assert_consistent(out)) == grid_ids(preset)


def test_a_sample_json_whose_files_are_gone_is_rendered_again(tmp_path, preset):
    out = tmp_path / "out"
    first = subprocess.run(command(preset, out, "--limit", "2"), cwd=TESTS, capture_output=True, text=True,
                           timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    victim = sorted(layout.samples_root(out).iterdir())[0]
    (victim / layout.RGB).unlink()  # what the concurrent runs left: sample.json without rgb.png
    shutil.rmtree(victim / layout.MASKS_DIR)
    again = subprocess.run(command(preset, out, "--limit", "2"), cwd=TESTS, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and rendered(again.stdout) == 1, again.stdout
    assert (victim / layout.RGB).is_file() and len(assert_consistent(out)) == 2


# ------------------------------------------------------------------------------------------------- disk full

IN_TMPFS = """\
set -e
mount -t tmpfs -o size="$SIZE" tmpfs "$DISK"
if [ -n "$LEAVE_KB" ]; then  # fill the disk until LEAVE_KB are free
  avail=$(df -k "$DISK" | awk 'NR==2 {print $4}')
  head -c $(( (avail - LEAVE_KB) * 1024 )) /dev/zero > "$DISK/filler" || true
fi
set +e
"$@"
echo "exit=$?"
cd "$DISK/out" 2>/dev/null && find . -mindepth 1 | sort | sed 's/^/found /'
"""


def run_on_a_small_disk(tmp_path: Path, preset: Path, size: str, leave_kb: int | None = None):
    """batch.py writing to a tmpfs of ``size`` (in a private mount namespace: no root needed); returns the exit
    code, stderr and the files left in the dataset folder."""
    import os

    if shutil.which("unshare") is None:
        pytest.fail("the disk-full tests need util-linux's unshare (apt-get install util-linux)")
    disk = tmp_path / "disk"
    disk.mkdir()
    env = {**os.environ, "SIZE": size, "DISK": str(disk), "LEAVE_KB": "" if leave_kb is None else str(leave_kb)}
    run = subprocess.run(["unshare", "-rm", "sh", "-c", IN_TMPFS, "sh", *command(preset, disk / "out")], cwd=TESTS,
                         capture_output=True, text=True, timeout=180, env=env)
    code = int(re.search(r"^exit=(\d+)$", run.stdout, re.M).group(1))
    files = [line[len("found ./"):] for line in run.stdout.splitlines() if line.startswith("found ")]
    return code, run.stderr, files


@pytest.mark.parametrize(("size", "leave_kb"), [("1100k", None), ("1100k", 30), ("1100k", 0)])
def test_a_full_disk_is_one_clear_line_never_a_crash(tmp_path, preset, size, leave_kb):
    code, stderr, files = run_on_a_small_disk(tmp_path, preset, size, leave_kb)
    assert code == 2, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no space left on" in lines[0] and lines[0].startswith("batch.py: "), stderr[-2000:]
    assert not [f for f in files if Path(f).name.startswith(layout.TMP_PREFIX)]
    samples = {Path(f).parts[1] for f in files if f.startswith(f"{layout.SAMPLES_DIR}/") and len(Path(f).parts) > 1}
    for sid in samples:  # whatever was written is complete
        assert f"{layout.SAMPLES_DIR}/{sid}/{layout.SAMPLE_JSON}" in files, files

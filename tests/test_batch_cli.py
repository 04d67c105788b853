"""batch.py: Blender-style and plain-Python argument passing, clear errors before any work, and a sweep killed
with SIGKILL mid-way that ends complete when started again.

The kill test drives batch.main in a subprocess with the tiny sphere scene (tests/tiny_scene.py) standing in for
the built-in human, so it takes a few seconds; one more test runs the real `python batch.py` with the built-in
human when scene/builder.py is present.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tiny_presets import render_table

from blurd import batch, presets
from blurd.dataset import layout
from blurd.dataset.record import is_complete

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"

KILL_PRESET = """\
format = 1
name = "kill-test"
[grid.sweep]
hair_color = ["red", "blue", "green", "yellow"]
camera_angle = [0, 15]
""" + render_table(samples=2) + """[output]
thumbnail_size = 32
"""
DRIVER = (
    "import sys\n"
    "import tiny_scene\n"  # run with cwd=tests/, which `python -c` puts first on sys.path
    "from blurd import batch\n"
    "sys.exit(batch.main(sys.argv, build_scene=tiny_scene.build_scene, apply_factors=tiny_scene.apply_factors))\n"
)


def run_batch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "batch.py"), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture
def preset(tmp_path) -> Path:
    path = tmp_path / "kill.toml"
    path.write_text(KILL_PRESET)
    return path


def test_arguments_after_the_blender_separator_are_the_scripts(tmp_path, preset):
    blender_argv = ["blender", "-b", "-P", "batch.py", "--", "--preset", str(preset), "--out", str(tmp_path / "o"),
                    "--shard", "1/3", "--limit", "2"]
    assert batch.script_arguments(blender_argv) == blender_argv[5:]
    assert batch.script_arguments(["batch.py", "--out", "o"]) == ["--out", "o"]  # python batch.py ...
    _, config = batch.parse_arguments(blender_argv)
    assert config["shard"] == (1, 3) and config["limit"] == 2 and config["out"] == tmp_path / "o"
    assert config["preset_path"] == preset and config["render"].resolution == (32, 32)
    assert len(list(config["grid"])) == 8


def test_model_downloads_need_the_flag_and_inside_blender_online_access(tmp_path, preset):
    args, _ = batch.parse_arguments(["batch.py", "--preset", str(preset), "--out", str(tmp_path / "o")])
    assert args.allow_downloads is False
    args, _ = batch.parse_arguments(["batch.py", "--preset", str(preset), "--out", str(tmp_path / "o"),
                                     "--allow-downloads"])
    assert args.allow_downloads is True
    assert batch.downloads_allowed(True, online_access=False, in_blender=False)  # the bpy wheel: the flag decides
    assert batch.downloads_allowed(True, online_access=True, in_blender=True)
    assert not batch.downloads_allowed(False, online_access=True, in_blender=True)
    with pytest.raises(SystemExit, match="--online-mode"):
        batch.downloads_allowed(True, online_access=False, in_blender=True)


def test_bad_arguments_fail_before_any_work_with_a_clear_message(tmp_path, preset):
    out = tmp_path / "out"
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    cases = [
        (["--preset", str(tmp_path / "missing.toml"), "--out", str(out)], "missing.toml"),
        (["--preset", str(preset), "--out", str(out), "--shard", "3/3"], "shard '3/3'"),
        (["--preset", str(preset), "--out", str(out), "--shard", "one"], "not of the form i/n"),
        (["--preset", str(preset), "--out", str(out), "--limit", "0"], "not positive"),
        (["--preset", str(preset), "--out", str(blocker)], "not a folder"),
        (["--preset", str(preset), "--out", str(out), "--diffuse", "wild"], "unknown diffusion mode"),
    ]
    for args, message in cases:
        run = run_batch(*args)
        assert run.returncode == 2, (args, run.stderr)
        assert message in run.stderr, (args, run.stderr)
        assert not out.exists()


def test_a_sweep_killed_mid_way_resumes_to_a_complete_dataset(tmp_path, preset):
    out = tmp_path / "out"
    command = [sys.executable, "-c", DRIVER, "--", "--preset", str(preset), "--out", str(out), "--no-progress"]
    grid_ids = sorted(s.id for s in presets.load_preset(preset).grid)

    victim = subprocess.Popen(command, cwd=TESTS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob(f"{layout.SAMPLES_DIR}/*/{layout.SAMPLE_JSON}")):
        assert victim.poll() is None and time.monotonic() < deadline, "the sweep ended before its first sample"
        time.sleep(0.005)
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL
    complete_before = {p.parent.name for p in out.glob(f"{layout.SAMPLES_DIR}/*/{layout.SAMPLE_JSON}")}
    assert 0 < len(complete_before) < len(grid_ids)  # killed mid-way

    again = subprocess.run(command, cwd=TESTS, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{len(complete_before)} skipped" in again.stdout

    rows = [json.loads(line) for line in (out / layout.MANIFEST).read_text().splitlines()]
    assert sorted(row["id"] for row in rows) == grid_ids  # unique rows, one per sample
    assert all(is_complete(layout.sample_dir(out, sid)) for sid in grid_ids)
    assert [p for p in out.rglob("*") if p.name.startswith(layout.TMP_PREFIX)] == []
    assert {p.name for p in (out / layout.SAMPLES_DIR).iterdir()} == set(grid_ids)
    assert (out / layout.PRESET_COPY).read_text() == KILL_PRESET and (out / layout.CONTACT_SHEET).is_file()


def test_python_batch_py_sweeps_the_built_in_human(tmp_path):
    quick = (ROOT / "presets" / "quick.toml").read_text()
    tiny = quick.replace("resolution = [128, 128]", "resolution = [32, 32]").replace("samples = 64", "samples = 1")
    preset = tmp_path / "quick_tiny.toml"
    preset.write_text(tiny)
    out = tmp_path / "out"
    run = run_batch("--preset", str(preset), "--out", str(out), "--limit", "1", "--no-progress", timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "1 rendered" in run.stdout
    (row,) = [json.loads(line) for line in (out / layout.MANIFEST).read_text().splitlines()]
    assert is_complete(out / row["dir"]) and (out / layout.CONTACT_SHEET).is_file()


def test_the_sweep_runs_without_tqdm_and_names_a_missing_pillow(tmp_path, preset):
    """Blender's own Python has neither: tqdm is optional (no bar), Pillow is needed and its absence is one line."""
    out = tmp_path / "out"
    no_tqdm = "import sys\nsys.modules['tqdm'] = None\n"  # None: import fails
    run = subprocess.run([sys.executable, "-c", no_tqdm + DRIVER, "--", "--preset", str(preset), "--out", str(out),
                          "--limit", "2"], cwd=TESTS, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "2 rendered" in run.stdout
    rows = [json.loads(line) for line in (out / layout.MANIFEST).read_text().splitlines()]
    assert len(rows) == 2 and all(is_complete(out / row["dir"]) for row in rows)
    from PIL import Image

    with Image.open(out / rows[0]["dir"] / "normal.png") as normal:
        assert normal.size == (32, 32) and normal.mode == "RGB"

    no_pillow = "import sys\nsys.modules['PIL'] = None\n"
    run = subprocess.run([sys.executable, "-c", no_pillow + DRIVER, "--", "--preset", str(preset), "--out",
                          str(tmp_path / "other")], cwd=TESTS, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "Pillow is not importable" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "other").exists()

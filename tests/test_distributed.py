"""The Ray engine (python -m blurd.distributed) against the local sweep (batch.py) on one small preset.

One local Ray per module (2 CPUs and one fake GPU, so the diffusion workers are placed as on a GPU node and run
the tiny random pipelines on the CPU). Both engines render the tiny sphere scene (tests/tiny_scene.py, shipped to
the Ray workers by value) at 48 px, as test_batch_cli's kill test does, so the comparison does not depend on the
built-in human's code staying the same between the two runs. Checked: the
distributed dataset equals batch.py's byte for byte (every pass, the sd images, the contact sheet; sample.json,
sd_<mode>.json and manifest rows up to their timings), the CLIP embedding cache it fills is the benchmark's; a
resumed run renders nothing; a render worker and a diffusion worker killed with SIGKILL mid-item are replaced and
their items retried with nothing lost or half-written; a failing sample is reported and the run goes on; bad
addresses and missing resources are clear errors before any work.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import ray  # the optional extra: scripts/setup.sh installs requirements-ray.txt, so CI runs these tests
import tiny_scene
from diffusion_fixtures import tiny_models  # noqa: F401  (a session fixture)
from tiny_presets import render_table

from blurd import batch
from blurd.dataset import layout
from blurd.distributed import cli
from blurd.distributed.cluster import Stage

MODES = "harbinger"  # the full method: text, depth, normal, palette and img2img from the render
PRESET = """\
format = 1
name = "distributed-test"
[grid.sweep]
hair_color = ["red", "blue"]
camera_angle = [0, 15]
""" + render_table(48, 8) + """[output]
thumbnail_size = 32
[diffusion]
base_model = "{base}"
depth_controlnet = "{depth}"
normal_controlnet = "{normal}"
colour_conditioner = "t2i_adapter"
colour_model = "{adapter}"
steps = 2
strength = 0.5
resolution = [64, 48]
batch_size = 1
"""
TIMINGS = ("timings", "timing", "render_s", "post_s")


@pytest.fixture(scope="module")
def local_ray():
    ray.cloudpickle.register_pickle_by_value(tiny_scene)  # tests/ is not on the workers' path
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def preset(tmp_path_factory, tiny_models) -> Path:  # noqa: F811
    path = tmp_path_factory.mktemp("preset") / "distributed.toml"
    path.write_text(PRESET.format(base=tiny_models.base, depth=tiny_models.depth, normal=tiny_models.normal,
                                  adapter=tiny_models.adapter))
    return path


@pytest.fixture(scope="module")
def local_dataset(tmp_path_factory, preset) -> Path:
    """The reference: batch.py's dataset of the preset, diffused. The worker runs one torch thread, as the Ray
    workers do: CPU float sums depend on the thread count (docs/cluster.md)."""
    out = tmp_path_factory.mktemp("local") / "ds"
    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        code = batch.main(["batch.py", "--preset", str(preset), "--out", str(out), "--diffuse", MODES,
                           "--no-progress"], build_scene=tiny_scene.build_scene, apply_factors=tiny_scene.apply_factors)
    finally:
        os.environ.pop("OMP_NUM_THREADS") if saved is None else os.environ.__setitem__("OMP_NUM_THREADS", saved)
    assert code == 0
    return out


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    from blurd.benchmark.tiny import save_tiny_clip

    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "clip")


def run(capsys, *args: str, **hooks) -> tuple[int, str, str]:
    hooks = {"build_scene": tiny_scene.build_scene, "apply_factors": tiny_scene.apply_factors} | hooks
    code = cli.main([*args, "--no-progress"], **hooks)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def comparable(path: Path) -> bytes | dict:
    """A file's bytes, or for JSON records their content without the timings (which differ run to run)."""
    if path.suffix != ".json":
        return path.read_bytes()
    record = json.loads(path.read_text())
    return {key: value for key, value in record.items() if key not in TIMINGS}


def manifest_rows(out: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (out / layout.MANIFEST).read_text().splitlines()]
    assert len(rows) == len({row["id"] for row in rows}), "an id appears twice in the manifest"
    return {row["id"]: {k: v for k, v in row.items() if k not in TIMINGS} for row in rows}


def dataset_files(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and layout.LOCKS_DIR not in p.parts
            and p.name != layout.LOCK_FILE and ".cache" not in p.parts}


def leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.startswith(layout.TMP_PREFIX)]


def test_a_distributed_run_equals_the_local_sweep_byte_for_byte_and_a_resumed_run_renders_nothing(
        local_ray, preset, local_dataset, tiny_clip, tmp_path, capsys):
    out = tmp_path / "ds"
    code, text, err = run(capsys, "--preset", str(preset), "--out", str(out), "--diffuse", MODES,
                          "--embed", str(tiny_clip))
    assert code == 0, text + err
    assert "1 diffuse worker(s) (0 CPU + 1 GPU each)" in text and "1 embed worker(s) (1 CPU each)" in text

    files = dataset_files(local_dataset)
    assert len(files) > 4 * 12 and files == dataset_files(out)
    for name in sorted(files - {layout.MANIFEST}):  # the manifest's rows come in the order samples finish
        assert comparable(out / name) == comparable(local_dataset / name), name
    assert manifest_rows(out) == manifest_rows(local_dataset)
    assert leftovers(out) == []

    # The embedding cache is the benchmark's own: evaluate reuses every row, and each row is the model's embedding.
    from blurd.benchmark.cache import CacheStats, image_embeddings
    from blurd.benchmark.dataset import load_dataset
    from blurd.benchmark.encoders import make_encoder, parse_model_spec

    spec = parse_model_spec(str(tiny_clip))
    encoder = make_encoder(spec, "cpu")
    samples = load_dataset(out).with_source("harbinger")
    for source in ("render", "harbinger"):
        stats = CacheStats()
        cached = image_embeddings(out, spec.key, source, samples, encoder, stats=stats)
        assert (stats.reused, stats.computed) == (4, 0)
        fresh = encoder.encode_images([s.image_path(source) for s in samples])
        np.testing.assert_allclose(cached, fresh, rtol=1e-4, atol=1e-5)

    stamps = {name: (out / name).stat().st_mtime_ns for name in files}
    code, text, err = run(capsys, "--preset", str(preset), "--out", str(out), "--diffuse", MODES,
                          "--embed", str(tiny_clip))
    assert code == 0, text + err
    assert "0 rendered, 4 skipped" in text and "4 already done" in text
    changed = [name for name in files if (out / name).stat().st_mtime_ns != stamps[name]]
    assert changed == [layout.CONTACT_SHEET] or changed == []  # the sheet is redrawn; no sample file is touched


class Killer:
    """SIGKILLs the first render worker while it renders a sample (its raw passes are being written) and the
    first diffusion worker right after it takes a job."""

    def __init__(self, out: Path, spare: str) -> None:
        self.out, self.spare = out, spare
        self.killed: dict[Stage, int] = {}
        self.mid_sample = False
        self.threads: list[threading.Thread] = []

    def __call__(self, stage: Stage, pid: int, item) -> None:
        if stage in self.killed or stage is Stage.EMBED:
            return
        if stage is Stage.RENDER:
            if item.id == self.spare:
                return
            busy = layout.sample_dir(self.out, item.id) / layout.RAW_DIR
        else:
            busy = None
        self.killed[stage] = pid
        thread = threading.Thread(target=self._kill, args=(pid, busy), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _kill(self, pid: int, busy: Path | None) -> None:
        if busy is None:
            time.sleep(0.05)  # the diffusion worker is loading its pipeline or denoising
        else:
            deadline = time.monotonic() + 60
            while not busy.exists() and time.monotonic() < deadline:
                time.sleep(0.001)
            self.mid_sample = busy.exists()  # the raw passes are being written: the sample is half-made
        os.kill(pid, signal.SIGKILL)


def test_killed_workers_are_retried_and_a_failing_sample_is_reported_with_nothing_lost(
        local_ray, preset, local_dataset, tmp_path, capsys):
    from blurd.factors.grid import Grid

    grid = Grid(sweep={"hair_color": ["red", "blue"], "camera_angle": [0, 15]})
    bad = next(s.id for s in grid if s.factors["hair_color"] == "blue" and s.factors["camera_angle"] == 15)

    def apply_or_fail(bl_scene, values, bindings=None):  # a local function: Ray ships it by value
        if values["hair_color"] == "blue" and values["camera_angle"] == 15:
            raise RuntimeError("no blue at 15 degrees")
        tiny_scene.apply_factors(bl_scene, values, bindings)

    out = tmp_path / "ds"
    killer = Killer(out, spare=bad)
    code, text, err = run(capsys, "--preset", str(preset), "--out", str(out), "--diffuse", MODES,
                          apply_factors=apply_or_fail, on_dispatch=killer)
    for thread in killer.threads:
        thread.join(10)

    assert set(killer.killed) == {Stage.RENDER, Stage.DIFFUSE} and killer.mid_sample
    assert code == 1, text + err
    assert "2 worker(s) died" in text and "2 render worker(s)" in text
    assert re.search(rf"failed {bad}: render: RuntimeError: no blue at 15 degrees", text)
    assert not layout.sample_dir(out, bad).exists() and leftovers(out) == []
    expected = {name for name in dataset_files(local_dataset) if bad not in name} - {layout.CONTACT_SHEET}
    assert dataset_files(out) - {layout.CONTACT_SHEET} == expected
    for name in sorted(expected - {layout.MANIFEST}):
        assert comparable(out / name) == comparable(local_dataset / name), name
    assert manifest_rows(out) == {k: v for k, v in manifest_rows(local_dataset).items() if k != bad}


def test_missing_resources_and_models_are_clear_errors_before_any_work(local_ray, preset, tmp_path, capsys):
    out = tmp_path / "never"
    code, _, err = run(capsys, "--preset", str(preset), "--out", str(out), "--diffuse", "unleashed",
                       "--diffusion-workers", "2")
    assert code == 2 and "need 2 GPU(s), but the cluster has 2 CPU(s) and 1 GPU(s)" in err
    code, _, err = run(capsys, "--preset", str(preset), "--out", str(out), "--render-workers", "3")
    assert code == 2 and "need 3 CPU(s)" in err and "lower --render-workers" in err
    assert not out.exists()

    missing = tmp_path / "missing.toml"
    missing.write_text(re.sub(r'base_model = ".*"', f'base_model = "{tmp_path / "no-model"}"', preset.read_text()))
    code, _, err = run(capsys, "--preset", str(missing), "--out", str(out), "--diffuse", "harbinger")
    assert code == 2 and "the diffuse workers cannot start: ModelNotFoundError: base model" in err
    assert not any(layout.samples_root(out).iterdir())  # nothing rendered before the error


def test_a_bad_address_is_a_clear_error_at_once(preset, tmp_path):
    out = tmp_path / "never"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "blurd.distributed", "--preset", str(preset), "--out", str(out),
                           "--address", "127.0.0.1:9"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "cannot reach a Ray cluster at 127.0.0.1:9" in done.stderr and "ray start --head" in done.stderr
    assert time.monotonic() - started < 60 and not out.exists()
    done = subprocess.run([sys.executable, "-m", "blurd.distributed", "--preset", str(preset), "--out", str(out),
                           "--address", "head-node:port"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "is not 'auto', HOST:PORT or ray://HOST:PORT" in done.stderr

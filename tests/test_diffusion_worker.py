"""The worker through its client: every mode from a sample folder, seeds, batching, resume and the batch queue."""

from __future__ import annotations

import json

import diffusion_fixtures as fx
import numpy as np
import pytest
from diffusion_fixtures import SIZE, tiny_settings
from PIL import Image

from blurd.diffusion.batch_queue import DiffusionQueue
from blurd.diffusion.errors import RequestFailedError
from blurd.diffusion.modes import MODES
from blurd.diffusion.random_models import make_sample
from blurd.diffusion.requests import Progress

tiny_models, worker = fx.tiny_models, fx.worker  # fixtures, requested by name below


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize("colour", ["t2i_adapter", "controlnet"])
def test_every_mode_writes_an_image_of_the_requested_size(tmp_path, tiny_models, worker, colour):
    sample = make_sample(tmp_path / "s1")
    settings = tiny_settings(tiny_models, colour_conditioner=colour)
    events = []
    result = worker.run([(sample, m.name) for m in MODES], settings, on_event=events.append)
    assert sorted(o.mode for o in result.outputs) == sorted(m.name for m in MODES)
    for output in result.outputs:
        with Image.open(output.image) as image:
            assert image.size == SIZE and image.mode == "RGB"
        meta = json.loads(output.json.read_text())
        assert meta["mode"] == output.mode and meta["seed"] == 7 and meta["seed_source"] == "sample"
        assert meta["settings"]["resolution"] == list(SIZE) and meta["models"]["base_model"] == str(tiny_models.base)
        assert "red short combed" in meta["prompt"] and meta["negative_prompt"]
        assert meta["timing"]["generate_s"] > 0
    harbinger = json.loads((sample / "sd_harbinger.json").read_text())
    assert harbinger["models"]["colour_conditioner"] == colour
    assert harbinger["inputs"] == {"depth": "depth.png", "normal": "normal.png", "palette": "palette.png",
                                   "init_image": "rgb.png"}
    steps = [e for e in events if isinstance(e, Progress)]
    # unleashed and tempered run all 4 steps; harbinger runs int(4 x 0.5) = 2 (img2img)
    assert [e.steps for e in steps] == [4] * 4 + [4] * 4 + [2] * 2
    assert not list(sample.glob(".tmp-*"))


def test_modes_differ_and_conditioning_matters(tmp_path, tiny_models, worker):
    a, b = make_sample(tmp_path / "a", seed=3), make_sample(tmp_path / "b", seed=3)
    # same seed and prompt, different pass images: only conditioned modes may change
    rng = np.random.default_rng(99)
    for name in ("depth", "normal", "palette", "rgb"):
        Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(b / f"{name}.png")
    worker.run([(s, m.name) for s in (a, b) for m in MODES], tiny_settings(tiny_models))
    assert np.array_equal(pixels(a / "sd_unleashed.png"), pixels(b / "sd_unleashed.png"))
    assert not np.array_equal(pixels(a / "sd_tempered.png"), pixels(b / "sd_tempered.png"))
    assert not np.array_equal(pixels(a / "sd_harbinger.png"), pixels(b / "sd_harbinger.png"))
    assert not np.array_equal(pixels(a / "sd_unleashed.png"), pixels(a / "sd_tempered.png"))


def test_same_seed_same_image_and_seed_setting_overrides(tmp_path, tiny_models, worker):
    sample = make_sample(tmp_path / "s")
    settings = tiny_settings(tiny_models)
    worker.run([(sample, "harbinger"), (sample, "unleashed")], settings)
    first = {m: pixels(sample / f"sd_{m}.png") for m in ("harbinger", "unleashed")}
    worker.run([(sample, "harbinger"), (sample, "unleashed")], settings, overwrite=True)
    for mode, image in first.items():
        assert np.array_equal(image, pixels(sample / f"sd_{mode}.png")), mode
    worker.run([(sample, "unleashed")], settings.replace(seed=8), overwrite=True)
    assert not np.array_equal(first["unleashed"], pixels(sample / "sd_unleashed.png"))
    assert json.loads((sample / "sd_unleashed.json").read_text())["seed_source"] == "settings"


def test_batched_images_match_single_ones(tmp_path, tiny_models, worker):
    samples = [make_sample(tmp_path / f"s{i}", seed=i) for i in range(3)]
    worker.run([(s, "tempered") for s in samples], tiny_settings(tiny_models, batch_size=1))
    single = [pixels(s / "sd_tempered.png") for s in samples]
    worker.run([(s, "tempered") for s in samples], tiny_settings(tiny_models, batch_size=2), overwrite=True)
    for s, image in zip(samples, single):
        assert np.abs(pixels(s / "sd_tempered.png") - image).max() <= 2  # float reassociation only
        assert json.loads((s / "sd_tempered.json").read_text())["batch_size"] in (1, 2)


def test_done_jobs_are_skipped_unless_overwritten(tmp_path, tiny_models, worker):
    sample = make_sample(tmp_path / "s")
    worker.run([(sample, "unleashed")], tiny_settings(tiny_models))
    stamp = (sample / "sd_unleashed.png").stat().st_mtime_ns
    result = worker.run([(sample, "unleashed")], tiny_settings(tiny_models))
    assert result.outputs[0].skipped and (sample / "sd_unleashed.png").stat().st_mtime_ns == stamp


def test_missing_pass_fails_before_work(tmp_path, tiny_models, worker):
    sample = make_sample(tmp_path / "s")
    (sample / "palette.png").unlink()
    with pytest.raises(RequestFailedError, match="palette.png"):
        worker.run([(sample, "unleashed"), (sample, "harbinger")], tiny_settings(tiny_models))
    assert not (sample / "sd_unleashed.png").exists()


def test_diffusion_queue_diffuses_submitted_samples_and_resumes(tmp_path, tiny_models, worker):
    samples = [make_sample(tmp_path / f"s{i}", seed=i) for i in range(3)]
    settings = tiny_settings(tiny_models, batch_size=2)
    done = []
    worker.run([(samples[0], "tempered")], settings)  # models loaded before the queue starts
    (samples[0] / "sd_tempered.png").unlink()
    loads = worker.info()["model_loads"]
    with DiffusionQueue(settings, ["unleashed", "tempered"], client=worker, on_output=done.append) as q:
        for s in samples:
            q.submit(s)
        report = q.drain(timeout=300)
    assert not report.failures and len(report.outputs) == 6 and len(done) == 6
    assert all((s / f"sd_{m}.png").is_file() for s in samples for m in ("unleashed", "tempered"))
    assert worker.running  # a caller's client is not stopped by the queue
    (samples[0] / "sd_tempered.png").unlink()
    with DiffusionQueue(settings, ["unleashed", "tempered"], client=worker) as q:
        for s in samples:
            q.submit(s)
    assert [(o.sample_dir, o.mode) for o in q.report.outputs] == [(samples[0].resolve(), "tempered")]
    assert q.report.skipped == 5
    assert worker.info()["model_loads"] == loads  # the queue reuses the loaded pipeline: no model loads again

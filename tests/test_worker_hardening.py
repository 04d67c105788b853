"""The worker survives any single line and answers every request: deeply nested JSON, a cancel without a target
or for no live request, EOF; a cancel stops a big request inside its first step; an unreadable pass image is a
DiffusionError naming the file; prompt templates are bounded. Drives the worker process through its protocol."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import diffusion_fixtures as fx
import pytest
from diffusion_fixtures import tiny_settings

from blurd.dataset import layout
from blurd.diffusion.batch_queue import DiffusionQueue
from blurd.diffusion.errors import RequestFailedError
from blurd.diffusion.interpreter import WORKER_MODULE
from blurd.diffusion.random_models import make_sample
from blurd.diffusion.requests import Progress
from blurd.diffusion.settings import DiffusionSettings
from blurd.factors.errors import BlurdError

tiny_models, worker = fx.tiny_models, fx.worker


def start_worker(tmp_path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", WORKER_MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, cwd=tmp_path,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert json.loads(process.stdout.readline())["type"] == "ready"
    return process


def send(process: subprocess.Popen, message: dict | str) -> None:
    process.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
    process.stdin.flush()


def replies_until(process: subprocess.Popen, done, timeout: float = 300) -> list[dict]:
    """The worker's replies up to the first for which ``done`` holds; a worker that stops answering is killed after
    ``timeout`` seconds, so a lost reply fails the test instead of hanging it."""
    replies: list[dict] = []
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    try:
        while not replies or not done(replies[-1]):
            line = process.stdout.readline()
            assert line, f"the worker stopped answering after {replies}"
            replies.append(json.loads(line))
    finally:
        watchdog.cancel()
    return replies


@pytest.fixture(scope="module")
def raw_worker(tmp_path_factory):
    """One worker process fed raw lines, as any client could send them (starting one imports torch: seconds)."""
    process = start_worker(tmp_path_factory.mktemp("raw_worker"))
    yield process
    process.kill()
    process.wait()


def test_every_single_line_gets_a_reply(raw_worker):
    send(raw_worker, "[" * 200_000 + "]" * 200_000)  # RecursionError in json: used to kill the reader thread
    send(raw_worker, '{"type": "cancel", "id": "c0"}')  # no target
    send(raw_worker, '{"type": "cancel", "id": "c1", "target": "never-sent"}')
    send(raw_worker, '{"type": "info", "id": "last"}')
    replies = replies_until(raw_worker, lambda r: r.get("id") == "last")
    errors = [r for r in replies if r["type"] == "error"]
    assert [e["id"] for e in errors] == [None, "c0", "c1"], replies
    assert "nested too deeply" in errors[0]["message"] and "target" in errors[1]["message"]
    assert "nothing to cancel" in errors[2]["message"] and replies[-1]["type"] == "info"


def test_a_cancel_stops_a_big_request_inside_its_first_step(tmp_path, tiny_models, raw_worker):
    sample = make_sample(tmp_path / "big")
    settings = tiny_settings(tiny_models, steps=1, resolution=[1536, 1536]).to_mapping()
    send(raw_worker, {"type": "generate", "id": "big", "jobs": [{"sample_dir": str(sample), "mode": "unleashed"}],
                      "settings": settings})
    replies_until(raw_worker, lambda r: r["type"] == "status" and r["message"].startswith("running batch"))
    send(raw_worker, {"type": "cancel", "id": "stop", "target": "big"})  # the one step has just begun
    last = replies_until(raw_worker, lambda r: r["type"] not in ("status", "progress"))[-1]
    assert last == {"type": "cancelled", "id": "big", "steps_done": 0}  # stopped inside the step, not after it
    assert not (sample / layout.diffusion_filename("unleashed")).exists()


def test_eof_ends_the_worker(raw_worker):
    raw_worker.stdin.close()  # the client went away
    assert raw_worker.wait(timeout=60) == 0


def test_an_unreadable_pass_image_is_a_diffusion_error_naming_the_file(tmp_path, tiny_models, worker):
    sample = make_sample(tmp_path / "s")
    depth = sample / layout.pass_filename("depth")
    depth.write_bytes(depth.read_bytes()[:200])  # truncated, as a full disk or a kill leaves it
    with pytest.raises(RequestFailedError) as info:
        worker.run([(sample, "tempered")], tiny_settings(tiny_models))
    assert info.value.kind == "DiffusionError" and str(depth) in str(info.value)


@pytest.mark.parametrize("template", ["{hair_color:>30000000}", "{hair_color!r}", "{hair_color:{age}}",
                                      "a photo " * 400])
def test_prompt_templates_are_bounded(template):
    with pytest.raises(BlurdError, match="prompt_template|prompt template"):
        DiffusionSettings.from_mapping({"prompt_template": template}, "preset.toml")


def test_a_killed_worker_is_retried_once_in_the_same_run(tmp_path, tiny_models, worker):
    samples = [make_sample(tmp_path / f"s{k}", seed=k) for k in range(2)]
    killed: list[int] = []

    def kill_at_first_step(event) -> None:  # the kill point: the first denoising step of the first attempt
        if isinstance(event, Progress) and not killed:
            killed.append(worker.pid)
            os.kill(worker.pid, signal.SIGKILL)

    queue = DiffusionQueue(tiny_settings(tiny_models), ["unleashed"], client=worker, on_event=kill_at_first_step)
    for sample in samples:
        queue.submit(sample)
    report = queue.close(timeout=300)
    assert killed and report.failures == [], report.failures
    assert all((s / layout.diffusion_filename("unleashed")).is_file() for s in samples)

"""Worker robustness: cancel within a step, a killed worker, a bad model path, malformed protocol lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import diffusion_fixtures as fx
import pytest
from diffusion_fixtures import tiny_settings

from blurd.diffusion.batch_queue import DiffusionQueue
from blurd.diffusion.errors import RequestCancelledError, RequestFailedError, WorkerCrashedError, WorkerUnavailableError
from blurd.diffusion.interpreter import WORKER_MODULE
from blurd.diffusion.process import WorkerClient
from blurd.diffusion.random_models import make_sample
from blurd.diffusion.requests import Progress

tiny_models, worker = fx.tiny_models, fx.worker  # fixtures, requested by name below
LONG = {"steps": 400, "resolution": [128, 128]}  # minutes of work if nothing stops it


def first_progress(request) -> Progress:
    for event in request.events(timeout=120):
        if isinstance(event, Progress):
            return event
    raise AssertionError("the request ended before its first step")


def test_cancel_stops_a_long_request_within_one_step(tmp_path, tiny_models, worker):
    sample = make_sample(tmp_path / "s")
    request = worker.generate([(sample, "tempered")], tiny_settings(tiny_models, **LONG))
    seen = first_progress(request)
    request.cancel()
    later = [e for e in request.events(timeout=60) if isinstance(e, Progress)]
    with pytest.raises(RequestCancelledError):
        request.result()
    # steps already finished before the worker read the cancel line may still report; at most one more runs
    assert later == [] or later[-1].step <= seen.step + 3
    assert later == [] or later[-1].step < LONG["steps"]
    assert not (sample / "sd_tempered.png").exists()
    assert worker.run([(sample, "unleashed")], tiny_settings(tiny_models)).outputs  # the worker lives on


def test_killed_worker_fails_its_request_and_the_next_one_recovers(tmp_path, tiny_models, worker):
    sample = make_sample(tmp_path / "s")
    request = worker.generate([(sample, "unleashed")], tiny_settings(tiny_models, **LONG))
    first_progress(request)
    starts, pid = worker.starts, worker.pid
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerCrashedError, match="worker exited") as info:
        request.result(timeout=60)
    assert "next request starts a fresh worker" in str(info.value)
    result = worker.run([(sample, "unleashed")], tiny_settings(tiny_models))
    assert result.outputs[0].image.is_file() and worker.starts == starts + 1 and worker.pid != pid


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("base_model", "/nowhere/realistic_vision", "base model '/nowhere/realistic_vision' does not exist"),
        ("depth_controlnet", "someone/not-cached-controlnet", "not in the local Hugging Face cache"),
        ("normal_controlnet", "weights.ckpt", "does not exist"),
    ],
)
def test_bad_model_fails_at_once_naming_it(tmp_path, tiny_models, worker, setting, value, words):
    sample = make_sample(tmp_path / "s")
    settings = tiny_settings(tiny_models).replace(**{setting: value})
    request = worker.generate([(sample, "tempered")], settings)
    events = list(request.events(timeout=60))
    with pytest.raises(RequestFailedError) as info:
        request.result()
    assert info.value.kind == "ModelNotFoundError" and words in str(info.value) and setting in str(info.value)
    assert not [e for e in events if isinstance(e, Progress)] and not (sample / "sd_tempered.png").exists()


def test_wrong_kind_of_model_folder_is_named(tmp_path, tiny_models, worker):
    sample = make_sample(tmp_path / "s")
    settings = tiny_settings(tiny_models).replace(depth_controlnet=str(tiny_models.adapter))
    with pytest.raises(RequestFailedError, match="holds a T2IAdapter, not a ControlNetModel"):
        worker.run([(sample, "tempered")], settings)


def test_malformed_messages_get_errors_and_do_not_kill_the_worker(tmp_path):
    """The worker process itself, fed raw lines as any client could send them: each bad line gets an error reply
    and the next good request is still answered by the same process."""
    worker = subprocess.Popen([sys.executable, "-m", WORKER_MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, cwd=tmp_path, env={**os.environ,
                                                                                      "HF_HUB_OFFLINE": "1"})
    try:
        assert json.loads(worker.stdout.readline())["type"] == "ready"
        for line in ("this is not json", "[1, 2]", '{"no_type": 1}', '{"type": "generate", "id": "g"}',
                     '{"type": "dream", "id": "d"}', '{"type": "info", "id": "last"}'):
            worker.stdin.write(line + "\n")
        worker.stdin.flush()
        replies = []
        while not replies or replies[-1].get("id") != "last":
            replies.append(json.loads(worker.stdout.readline()))
        errors = " | ".join(r.get("message", "") for r in replies if r["type"] == "error")
        assert "not JSON" in errors and "a message must be a JSON object" in errors
        assert "needs a string 'type'" in errors
        assert "unknown request type 'dream'" in errors and "non-empty 'jobs'" in errors
        assert replies[-1]["type"] == "info" and replies[-1]["pid"] == worker.pid
    finally:
        worker.stdin.close()
        assert worker.wait(60) == 0  # EOF on stdin ends the worker cleanly


def test_unusable_worker_python_fails_before_the_batch_starts(tiny_models):
    with pytest.raises(WorkerUnavailableError, match="/nowhere/python.*Worker Python"):
        DiffusionQueue(tiny_settings(tiny_models), ["unleashed"], client=WorkerClient("/nowhere/python"))

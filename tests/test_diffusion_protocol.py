"""Worker robustness: cancel within a step, a killed worker, a bad model path, malformed protocol lines."""

from __future__ import annotations

import os
import signal
import time

import diffusion_fixtures as fx
import pytest
from diffusion_fixtures import tiny_settings

from blurd.diffusion.client import DiffusionQueue, Progress, WorkerClient
from blurd.diffusion.errors import RequestCancelledError, RequestFailedError, WorkerCrashedError, WorkerUnavailableError
from blurd.diffusion.random_models import make_sample

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


def test_malformed_messages_get_errors_and_do_not_kill_the_worker(tiny_models, worker):
    worker.start()
    pid = worker.pid
    for line in ("this is not json", "[1, 2]", '{"no_type": 1}', '{"type": "generate"}'):
        worker.send_raw_line(line)
    with pytest.raises(RequestFailedError, match="unknown request type 'dream'"):
        worker.submit({"type": "dream"}).reply(timeout=60)
    with pytest.raises(RequestFailedError, match="non-empty 'jobs'"):
        worker.submit({"type": "generate", "jobs": []}).reply(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any("not JSON" in line for line in worker_tail(worker)):
        time.sleep(0.1)
    tail = "\n".join(worker_tail(worker))
    assert "not JSON" in tail and "a message must be a JSON object" in tail and "needs a string 'type'" in tail
    assert worker.info()["pid"] == pid == worker.pid


def worker_tail(client) -> list[str]:
    return list(client._proc.stderr_tail) if client._proc else []


def test_unusable_worker_python_fails_before_the_batch_starts(tiny_models):
    with pytest.raises(WorkerUnavailableError, match="/nowhere/python.*Worker Python"):
        DiffusionQueue(tiny_settings(tiny_models), ["unleashed"], client=WorkerClient("/nowhere/python"))

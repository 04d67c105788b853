"""The Blender-side handle on the worker: starts it, sends requests, streams progress. Never imports torch.

``WorkerClient`` owns one worker process at a time (started on first use, restarted after a crash) and returns a
``Request`` per submission, whose events (status, progress) can be polled from a Blender modal timer or iterated
in a thread. ``DiffusionQueue`` runs the batch stage in a background thread beside rendering.
"""

from __future__ import annotations

import collections
import itertools
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dataset import layout
from .errors import (
    DiffusionError,
    ProtocolError,
    RequestCancelledError,
    RequestFailedError,
    WorkerCrashedError,
    WorkerUnavailableError,
)
from .modes import Mode, get_mode
from .protocol import Job, ReplyType, RequestType, decode, encode
from .settings import DiffusionSettings

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the extension's root: holds diffusion/ and factors/
PACKAGE = "blurd"
WORKER_MODULE = f"{PACKAGE}.diffusion.worker"
STDERR_LINES = 60  # how much of the worker's stderr a crash report quotes
IMPORT_CHECK = f"import torch, diffusers, transformers, {WORKER_MODULE}.server"


def can_run_worker(python: str, timeout: float = 120.0) -> tuple[bool, str]:
    """Whether ``python`` can import torch and diffusers (checked in a subprocess: Blender never imports torch)."""
    try:
        run = subprocess.run([python, "-c", IMPORT_CHECK], capture_output=True, text=True, timeout=timeout,
                             env=worker_environment(os.environ))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{python}: {exc}"
    return run.returncode == 0, (run.stderr.strip().splitlines() or [""])[-1]


def worker_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment: ``base`` plus, for an installed extension (whose folder is named ``blurd``), its
    parent folder on PYTHONPATH, so the worker imports ``blurd`` the standard way. A clone is installed into the
    worker's Python instead (scripts/setup.sh: ``pip install -e .``)."""
    env = dict(base)
    if PACKAGE_ROOT.name == PACKAGE:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT.parent), env.get("PYTHONPATH", "")) if p)
    return env


PYTHON_ENV = "BLURD_WORKER_PYTHON"  # headless runs (batch.py) name the worker interpreter here


def default_python(configured: str | None = None) -> str:
    """The worker interpreter: the configured one, else $BLURD_WORKER_PYTHON, else this interpreter when it can
    import torch and diffusers."""
    configured = configured or os.environ.get(PYTHON_ENV) or None
    if configured:
        path = str(Path(configured).expanduser())
        ok, why = can_run_worker(path)
        if not ok:
            raise WorkerUnavailableError(
                f"the worker Python '{path}' cannot import torch, diffusers and blurd ({why}); run 'Set up worker "
                f"environment' in the BLURD preferences or point 'Worker Python' (or ${PYTHON_ENV}) at an "
                "interpreter that has them"
            )
        return path
    ok, why = can_run_worker(sys.executable)
    if not ok:
        raise WorkerUnavailableError(
            f"this Python ({sys.executable}) cannot import torch, diffusers and blurd ({why}); set 'Worker Python' "
            f"in the BLURD preferences (or ${PYTHON_ENV} for batch.py), or run 'Set up worker environment' there"
        )
    return sys.executable


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Progress:
    """One denoising step finished."""

    step: int
    steps: int
    batch: int
    batches: int
    mode: str

    @property
    def fraction(self) -> float:
        """Overall progress of the request in 0..1."""
        if self.steps <= 0 or self.batches <= 0:
            return 0.0
        return ((self.batch - 1) + self.step / self.steps) / self.batches


@dataclass(frozen=True)
class Status:
    """Free-text news about slow work (model loading)."""

    message: str


@dataclass(frozen=True)
class Output:
    """One finished job: where its image and metadata are."""

    sample_dir: Path
    mode: str
    image: Path
    json: Path
    seed: int | None = None
    seconds: float | None = None
    skipped: bool = False


@dataclass
class RequestResult:
    outputs: list[Output]
    seconds: float
    model_loads: int


Event = Progress | Status


# ---------------------------------------------------------------- request


class Request:
    """A submitted request: poll or iterate its events, then ``result()`` (raises the worker's error, if any)."""

    def __init__(self, client: WorkerClient, request_id: str, kind: str) -> None:
        self.id = request_id
        self.kind = kind
        self._client = client
        self._events: queue.Queue = queue.Queue()
        self._done = threading.Event()
        self._reply: dict[str, Any] | None = None
        self._error: DiffusionError | None = None

    # called by the client's reader thread
    def _deliver(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == ReplyType.PROGRESS.value:
            self._events.put(
                Progress(int(message.get("step", 0)), int(message.get("steps", 0)), int(message.get("batch", 1)),
                         int(message.get("batches", 1)), str(message.get("mode", "")))
            )
        elif kind == ReplyType.STATUS.value:
            self._events.put(Status(str(message.get("message", ""))))
        elif kind == ReplyType.ERROR.value:
            self._finish(error=RequestFailedError(str(message.get("message")), str(message.get("kind", "error")),
                                                  str(message.get("traceback", ""))))
        elif kind == ReplyType.CANCELLED.value:
            self._finish(error=RequestCancelledError(f"request {self.id} was cancelled"))
        else:
            self._finish(reply=message)

    def _finish(self, reply: dict | None = None, error: DiffusionError | None = None) -> None:
        if self._done.is_set():
            return
        self._reply, self._error = reply, error
        self._done.set()
        self._events.put(None)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def poll(self) -> list[Event]:
        """Events received so far, without blocking (for a Blender modal timer)."""
        events = []
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return events
            if event is not None:
                events.append(event)

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Events as they come until the request ends (then call ``result()``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                raise DiffusionError(f"request {self.id} did not finish within {timeout} s")
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                if self._done.is_set() and self._events.empty():
                    return  # ended, and its end marker was taken by an earlier poll() or events()
                continue
            if event is None:
                return
            yield event

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Ask the worker to stop this request at its next denoising step."""
        if not self.done:
            self._client._send({"type": RequestType.CANCEL.value, "id": f"{self.id}-cancel", "target": self.id})

    def reply(self, timeout: float | None = None) -> dict[str, Any]:
        """The worker's reply message; raises RequestFailedError / RequestCancelledError / WorkerCrashedError."""
        if not self._done.wait(timeout):
            raise DiffusionError(f"request {self.id} did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._reply is not None
        return self._reply

    def result(self, timeout: float | None = None) -> RequestResult:
        """The outputs of a generate request."""
        reply = self.reply(timeout)
        outputs = [
            Output(Path(o["sample_dir"]), o["mode"], Path(o["image"]), Path(o["json"]), o.get("seed"),
                   o.get("seconds"), bool(o.get("skipped", False)))
            for o in reply.get("outputs", [])
        ]
        return RequestResult(outputs, float(reply.get("seconds", 0.0)), int(reply.get("model_loads", 0)))


# ---------------------------------------------------------------- client


@dataclass
class _Process:
    popen: subprocess.Popen
    stderr_tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=STDERR_LINES))
    ready: threading.Event = field(default_factory=threading.Event)
    pending: dict[str, Request] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class WorkerClient:
    """Starts the worker on first use and routes its replies to Requests. Thread-safe; one worker at a time.

    ``python``: the worker interpreter (None: this interpreter if it can import torch and diffusers).
    ``allow_downloads``: let the worker fetch missing hub models (Blender: bpy.app.online_access).
    """

    def __init__(
        self,
        python: str | None = None,
        *,
        allow_downloads: bool = False,
        env: dict[str, str] | None = None,
        startup_timeout: float = 300.0,
    ) -> None:
        self._configured_python = python
        self._python: str | None = None
        self.allow_downloads = allow_downloads
        self._env = env
        self._startup_timeout = startup_timeout
        self._proc: _Process | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.starts = 0  # how many worker processes this client started

    # -- lifecycle

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.popen.pid if proc and proc.popen.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def resolve_python(self) -> str:
        """The worker interpreter, checked now (WorkerUnavailableError if it cannot import torch and diffusers)."""
        with self._lock:
            if self._python is None:
                self._python = default_python(self._configured_python)
            return self._python

    def start(self) -> None:
        """Start the worker (if not running) and wait for its ready line."""
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> _Process:
        proc = self._proc
        if proc is not None and proc.popen.poll() is None:
            return proc
        if self._python is None:
            self._python = default_python(self._configured_python)
        env = worker_environment(os.environ if self._env is None else self._env)
        env["PYTHONUNBUFFERED"] = "1"
        if not self.allow_downloads:
            env["HF_HUB_OFFLINE"] = "1"  # belt and braces: never touch the network
        popen = subprocess.Popen(
            [self._python, "-m", WORKER_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        proc = _Process(popen)
        self._proc = proc
        self.starts += 1
        threading.Thread(target=self._read_stdout, args=(proc,), name="blurd-client-stdout", daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(proc,), name="blurd-client-stderr", daemon=True).start()
        if not proc.ready.wait(self._startup_timeout) or popen.poll() is not None:
            self._kill(proc)
            raise WorkerCrashedError(
                f"the diffusion worker ({self._python}) did not start: {self._tail(proc)}; check 'Check worker' "
                "in the BLURD preferences"
            )
        return proc

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker and so free all its GPU memory; pending requests fail as cancelled."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.popen.poll() is None:
                proc.popen.stdin.write(encode({"type": RequestType.SHUTDOWN.value, "id": "shutdown"}))
                proc.popen.stdin.flush()
                proc.popen.stdin.close()
                proc.popen.wait(timeout)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self._kill(proc)
        self._fail_pending(proc, RequestCancelledError("the diffusion worker was stopped"))

    close = stop

    def __enter__(self) -> WorkerClient:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @staticmethod
    def _kill(proc: _Process) -> None:
        if proc.popen.poll() is None:
            proc.popen.kill()
        try:
            proc.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.popen.stdin, proc.popen.stdout, proc.popen.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    # -- requests

    def submit(self, message: dict[str, Any]) -> Request:
        """Send one request (``type`` and fields; the id is added) and return its handle."""
        with self._lock:
            proc = self._ensure_started()
            request = Request(self, f"r{next(self._ids)}", str(message.get("type")))
            try:
                with proc.lock:
                    proc.pending[request.id] = request
                    proc.popen.stdin.write(encode(dict(message, id=request.id)))
                    proc.popen.stdin.flush()
            except (OSError, ValueError):
                with proc.lock:
                    proc.pending.pop(request.id, None)
                raise WorkerCrashedError(
                    f"the diffusion worker exited before taking the request: {self._tail(proc)}"
                ) from None
            return request

    def generate(
        self,
        jobs: Iterable[Job | tuple[str | Path, str]],
        settings: DiffusionSettings,
        *,
        overwrite: bool = False,
    ) -> Request:
        """Submit jobs (sample folder + mode name); modes are checked here, everything else in the worker."""
        job_list = [j if isinstance(j, Job) else Job(Path(j[0]), j[1]) for j in jobs]
        for job in job_list:
            get_mode(job.mode)
        return self.submit(
            {
                "type": RequestType.GENERATE.value,
                "jobs": [Job(Path(j.sample_dir).resolve(), j.mode).to_json() for j in job_list],
                "settings": settings.to_mapping(),
                "allow_downloads": self.allow_downloads,
                "overwrite": overwrite,
            }
        )

    def run(
        self,
        jobs: Iterable[Job | tuple[str | Path, str]],
        settings: DiffusionSettings,
        *,
        overwrite: bool = False,
        on_event: Callable[[Event], None] | None = None,
    ) -> RequestResult:
        """Generate and wait: events go to ``on_event``; raises the request's error."""
        request = self.generate(jobs, settings, overwrite=overwrite)
        for event in request.events():
            if on_event is not None:
                on_event(event)
        return request.result()

    def info(self, timeout: float = 300.0) -> dict[str, Any]:
        """Versions, device and loaded models of the worker (starts it if needed)."""
        return self.submit({"type": RequestType.INFO.value}).reply(timeout)

    def _send(self, message: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.popen.poll() is not None:
            return
        try:
            with proc.lock:
                proc.popen.stdin.write(encode(message))
                proc.popen.stdin.flush()
        except (OSError, ValueError):
            pass

    def send_raw_line(self, line: str) -> None:
        """Write one raw line to the worker (protocol tests and debugging)."""
        proc = self._ensure_started()
        proc.popen.stdin.write(line if line.endswith("\n") else line + "\n")
        proc.popen.stdin.flush()

    # -- reader threads

    def _read_stdout(self, proc: _Process) -> None:
        for line in proc.popen.stdout:
            if not line.strip():
                continue
            try:
                message = decode(line)
            except ProtocolError:
                proc.stderr_tail.append(f"(unreadable worker line) {line.strip()[:200]}")
                continue
            if message["type"] == ReplyType.READY.value:
                proc.ready.set()
                continue
            request_id = message.get("id")
            with proc.lock:
                request = proc.pending.get(request_id) if isinstance(request_id, str) else None
                ends = message["type"] not in (ReplyType.PROGRESS.value, ReplyType.STATUS.value)
                if request is not None and ends:
                    proc.pending.pop(request_id, None)
            if request is not None:
                request._deliver(message)
            elif message["type"] == ReplyType.ERROR.value:
                proc.stderr_tail.append(f"worker: {message.get('message')}")
        # EOF: the worker exited; whatever was running failed with it
        proc.ready.set()
        try:
            proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        code = proc.popen.returncode
        self._fail_pending(
            proc,
            WorkerCrashedError(
                f"the diffusion worker exited (code {code}) while working: {self._tail(proc)}; "
                "the next request starts a fresh worker"
            ),
        )

    @staticmethod
    def _read_stderr(proc: _Process) -> None:
        for line in proc.popen.stderr:
            proc.stderr_tail.append(line.rstrip())

    @staticmethod
    def _tail(proc: _Process) -> str:
        time.sleep(0.05)  # let the stderr thread catch the last lines
        lines = [line for line in proc.stderr_tail if line.strip()]
        return " | ".join(lines[-5:]) if lines else "no output on stderr"

    @staticmethod
    def _fail_pending(proc: _Process, error: DiffusionError) -> None:
        with proc.lock:
            pending, proc.pending = proc.pending, {}
        for request in pending.values():
            request._finish(error=error)


# ---------------------------------------------------------------- batch stage


def job_is_done(sample_dir: Path, mode: str) -> bool:
    """A job is done when its sd_<mode>.png exists (the worker writes it last, atomically)."""
    return (Path(sample_dir) / layout.diffusion_filename(mode, "png")).is_file()


@dataclass
class QueueReport:
    """What a DiffusionQueue did: finished outputs, jobs skipped as already done, and failures."""

    outputs: list[Output] = field(default_factory=list)
    skipped: int = 0
    failures: list[tuple[Path, str, str]] = field(default_factory=list)  # (sample_dir, mode, message)
    model_loads: int = 0


class DiffusionQueue:
    """The batch diffusion stage: samples go in as they finish rendering, a background thread diffuses them.

    ``submit(sample_dir)`` never blocks (so sample k+1 renders while k diffuses). The thread takes every sample
    waiting, drops jobs whose sd_<mode>.png exists (resume) and sends the rest as one request, which the worker
    runs in batches of ``settings.batch_size``. ``drain()`` waits for everything submitted; ``close()`` drains
    and stops the worker. A failed request is recorded in the report and the queue goes on.
    """

    def __init__(
        self,
        settings: DiffusionSettings,
        modes: Iterable[Mode | str],
        *,
        client: WorkerClient | None = None,
        python: str | None = None,
        allow_downloads: bool = False,
        overwrite: bool = False,
        on_output: Callable[[Output], None] | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.settings = settings
        self.modes = tuple(get_mode(m if isinstance(m, str) else m.name) for m in modes)  # Mode or name
        self._own_client = client is None
        self.client = client or WorkerClient(python, allow_downloads=allow_downloads)
        self.overwrite = overwrite
        self.on_output = on_output
        self.on_event = on_event
        self.report = QueueReport()
        self._inbox: queue.Queue = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False
        self._current: Request | None = None
        self.client.resolve_python()  # no usable interpreter: fail before the sweep renders anything
        self._thread = threading.Thread(target=self._loop, name="blurd-diffusion-queue", daemon=True)
        self._thread.start()

    def submit(self, sample_dir: str | Path) -> None:
        """Queue one rendered sample folder for every mode (the sweep's on_sample_done callback)."""
        if self._closed:
            raise DiffusionError("this diffusion queue is closed; make a new DiffusionQueue")
        with self._idle:
            self._pending += 1
        self._inbox.put(Path(sample_dir))

    __call__ = submit

    def drain(self, timeout: float | None = None) -> QueueReport:
        """Wait until every submitted sample is diffused (or failed); returns the report so far."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout):
                raise DiffusionError(f"the diffusion queue did not finish within {timeout} s")
        return self.report

    def cancel(self) -> None:
        """Drop queued samples and stop the running request at its next step."""
        while True:
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                break
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
        request = self._current
        if request is not None:
            request.cancel()

    def close(self, timeout: float | None = None) -> QueueReport:
        """Drain, end the thread and stop the worker (when the queue started it)."""
        if not self._closed:
            try:
                self.drain(timeout)
            finally:
                self._closed = True
                self._inbox.put(None)
                self._thread.join(timeout)
                if self._own_client:
                    self.client.stop()
        return self.report

    def __enter__(self) -> DiffusionQueue:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:
            self.cancel()
        self.close()

    def _loop(self) -> None:
        try:
            self.client.start()  # importing torch takes seconds: do it while the first sample renders
        except DiffusionError:
            pass  # the first request retries and records the error against its jobs
        while True:
            first = self._inbox.get()
            if first is None:
                return
            folders = [first]
            while True:  # take every sample already waiting, so the worker can batch them
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._inbox.put(None)
                    break
                folders.append(more)
            try:
                self._diffuse(folders)
            finally:
                with self._idle:
                    self._pending -= len(folders)
                    self._idle.notify_all()

    def _diffuse(self, folders: list[Path]) -> None:
        jobs = []
        for mode in self.modes:  # mode-major: consecutive jobs share a pipeline and form batches
            for folder in folders:
                if not self.overwrite and job_is_done(folder, mode.name):
                    self.report.skipped += 1
                else:
                    jobs.append(Job(folder, mode.name))
        if not jobs:
            return
        try:
            self._current = self.client.generate(jobs, self.settings, overwrite=self.overwrite)
            for event in self._current.events():
                if self.on_event is not None:
                    self.on_event(event)
            result = self._current.result()
        except DiffusionError as exc:
            self.report.failures += [(job.sample_dir, job.mode, str(exc)) for job in jobs]
            return
        finally:
            self._current = None
        self.report.model_loads = result.model_loads
        for output in result.outputs:
            if output.skipped:
                self.report.skipped += 1
                continue
            self.report.outputs.append(output)
            if self.on_output is not None:
                self.on_output(output)

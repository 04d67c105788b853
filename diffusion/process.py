"""The worker process and its JSON-lines protocol: ``WorkerClient`` starts the worker on first use (and again
after a crash), sends requests and routes each reply line to its ``Request``. Never imports torch."""

from __future__ import annotations

import collections
import itertools
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DiffusionError, ProtocolError, RequestCancelledError, WorkerCrashedError
from .interpreter import WORKER_MODULE, default_python, worker_environment
from .modes import get_mode
from .protocol import Job, ReplyType, RequestType, decode, encode
from .requests import Event, Request, RequestResult
from .settings import DiffusionSettings

STDERR_LINES = 60  # how much of the worker's stderr a crash report quotes


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
            request = Request(f"r{next(self._ids)}", str(message.get("type")), self._send_cancel)
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

    def _send_cancel(self, request_id: str) -> None:
        self._send({"type": RequestType.CANCEL.value, "id": f"{request_id}-cancel", "target": request_id})

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
                request.deliver(message)
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
            request.finish(error=error)

"""The batch diffusion stage: rendered samples go in as they finish, a background thread diffuses them in the
worker while the next samples render."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..dataset.record import is_mode_done
from .errors import DiffusionError, WorkerCrashedError
from .modes import Mode, get_mode
from .process import WorkerClient
from .protocol import Job
from .requests import Event, Output, Request
from .settings import DiffusionSettings

CRASH_RETRIES = 1  # a request whose worker died runs once more (in a fresh worker) before its jobs count as failed


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
        self._cancel_requested = False
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

    def drain(self, timeout: float | None = None) -> QueueReport:
        """Wait until every submitted sample is diffused (or failed); returns the report so far."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout):
                raise DiffusionError(f"the diffusion queue did not finish within {timeout} s")
        return self.report

    def cancel(self) -> None:
        """Drop queued samples and stop the running request at its next step."""
        self._cancel_requested = True
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
                if not self.overwrite and is_mode_done(folder, mode.name):
                    self.report.skipped += 1
                else:
                    jobs.append(Job(folder, mode.name))
        if not jobs:
            return
        for attempt in range(1 + CRASH_RETRIES):
            try:
                self._current = self.client.generate(jobs, self.settings, overwrite=self.overwrite)
                for event in self._current.events():
                    if self.on_event is not None:
                        self.on_event(event)
                result = self._current.result()
                break
            except WorkerCrashedError as exc:  # a killed worker: its finished jobs stand, the rest run once more
                jobs = [job for job in jobs if self.overwrite or not is_mode_done(job.sample_dir, job.mode)]
                if attempt < CRASH_RETRIES and jobs and not self._cancel_requested:
                    continue
                self.report.failures += [(job.sample_dir, job.mode, str(exc)) for job in jobs]
                return
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

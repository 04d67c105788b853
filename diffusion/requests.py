"""One request to the worker as the caller sees it: its events (progress, status) and its outcome, a
``concurrent.futures.Future`` that holds the worker's reply or the error it ended with."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DiffusionError, RequestCancelledError, RequestFailedError
from .protocol import ReplyType


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


class Request:
    """A submitted request: poll or iterate its events, then ``result()`` (raises the worker's error, if any).

    ``future`` completes with the worker's reply message, or with the error the request ended with.
    """

    def __init__(self, request_id: str, kind: str, send_cancel: Callable[[str], None]) -> None:
        self.id = request_id
        self.kind = kind
        self.future: Future = Future()
        self._send_cancel = send_cancel
        self._events: queue.Queue = queue.Queue()

    def deliver(self, message: dict[str, Any]) -> None:
        """Take one worker message addressed to this request (called by the client's reader thread)."""
        kind = message.get("type")
        if kind == ReplyType.PROGRESS.value:
            self._events.put(
                Progress(int(message.get("step", 0)), int(message.get("steps", 0)), int(message.get("batch", 1)),
                         int(message.get("batches", 1)), str(message.get("mode", "")))
            )
        elif kind == ReplyType.STATUS.value:
            self._events.put(Status(str(message.get("message", ""))))
        elif kind == ReplyType.ERROR.value:
            self.finish(error=RequestFailedError(str(message.get("message")), str(message.get("kind", "error")),
                                                 str(message.get("traceback", ""))))
        elif kind == ReplyType.CANCELLED.value:
            self.finish(error=RequestCancelledError(f"request {self.id} was cancelled"))
        else:
            self.finish(reply=message)

    def finish(self, reply: dict | None = None, error: DiffusionError | None = None) -> None:
        """End the request (the first outcome wins; later ones, e.g. a crash after the reply, are ignored)."""
        try:
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(reply)
        except InvalidStateError:  # already finished (by the reply, or by another thread)
            return
        self._events.put(None)

    @property
    def done(self) -> bool:
        return self.future.done()

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
                if self.done and self._events.empty():
                    return  # ended, and its end marker was taken by an earlier poll() or events()
                continue
            if event is None:
                return
            yield event

    def wait(self, timeout: float | None = None) -> bool:
        try:
            self.future.exception(timeout)
        except FutureTimeout:
            return False
        return True

    def cancel(self) -> None:
        """Ask the worker to stop this request at its next denoising step."""
        if not self.done:
            self._send_cancel(self.id)

    def reply(self, timeout: float | None = None) -> dict[str, Any]:
        """The worker's reply message; raises RequestFailedError / RequestCancelledError / WorkerCrashedError."""
        try:
            return self.future.result(timeout)
        except FutureTimeout:
            raise DiffusionError(f"request {self.id} did not finish within {timeout} s") from None

    def result(self, timeout: float | None = None) -> RequestResult:
        """The outputs of a generate request."""
        reply = self.reply(timeout)
        outputs = [
            Output(Path(o["sample_dir"]), o["mode"], Path(o["image"]), Path(o["json"]), o.get("seed"),
                   o.get("seconds"), bool(o.get("skipped", False)))
            for o in reply.get("outputs", [])
        ]
        return RequestResult(outputs, float(reply.get("seconds", 0.0)), int(reply.get("model_loads", 0)))

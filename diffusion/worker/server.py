"""The worker's main loop: a reader thread takes requests off stdin, the main thread runs them one at a time.

The reader keeps reading while a request runs, so a ``cancel`` line is seen at once and the running pipeline
stops at its next step. Protocol replies go to the real stdout; anything a library prints goes to stderr.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..core import BlurdError
from ..errors import ProtocolError, RequestCancelledError
from ..protocol import PROTOCOL_VERSION, ReplyType, RequestType, decode, encode, request_id_of
from . import generate, info
from .models import LoadedPipelines

# One action per module: request type -> function(context, message) -> reply dict (without id)
ACTIONS: dict[str, Callable[[WorkerContext, dict], dict]] = {
    RequestType.GENERATE.value: generate.run,
    RequestType.INFO.value: info.run,
}


@dataclass
class WorkerContext:
    """State that lives as long as the worker: the reply channel, cancel flags and the loaded pipelines."""

    out: TextIO
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: set[str] = field(default_factory=set)
    pipelines: LoadedPipelines | None = None
    total_loads: int = 0  # model loads over the worker's life (the overhead benchmark reads it through info)
    pipeline_loads: int = 0  # base pipeline loads over the worker's life
    current: str | None = None
    pending: set[str] = field(default_factory=set)  # ids queued or running: what a cancel can target
    steps_done: int = 0  # denoising steps the running request finished (reported when it is cancelled)

    def send(self, message: dict[str, Any]) -> None:
        line = encode(message)
        with self.lock:
            self.out.write(line)
            self.out.flush()

    def status(self, request_id: str | None, text: str) -> None:
        self.send({"type": ReplyType.STATUS.value, "id": request_id, "message": text})

    def raise_if_cancelled(self, request_id: str) -> None:
        if request_id in self.cancelled:
            raise RequestCancelledError(f"request {request_id} was cancelled")


def _error_reply(request_id: str | None, exc: BaseException) -> dict[str, Any]:
    """An error as plain strings: no torch type ever crosses the protocol."""
    if isinstance(exc, BlurdError):
        kind, message = type(exc).__name__, str(exc)
    elif type(exc).__name__ == "OutOfMemoryError":
        kind = "OutOfMemoryError"
        message = (
            f"out of accelerator memory ({exc}); lower the resolution or batch size, or turn on attention slicing, "
            "VAE tiling or CPU offload"
        )
    else:
        kind, message = type(exc).__name__, f"{type(exc).__name__}: {exc}"
    return {
        "type": ReplyType.ERROR.value,
        "id": request_id,
        "kind": kind,
        "message": message,
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def _take_line(ctx: WorkerContext, line: str, inbox: queue.Queue) -> None:
    """One stdin line: a cancel is handled here at once; every other valid request is queued in order."""
    if not line.strip():
        return
    try:
        message = decode(line)
    except ProtocolError as exc:
        ctx.send(_error_reply(None, exc) | {"kind": "ProtocolError", "traceback": ""})
        return
    request_id = request_id_of(message)
    if message["type"] == RequestType.CANCEL.value:
        target = message.get("target")
        if not isinstance(target, str):
            ctx.send(_error_reply(request_id, ProtocolError("cancel needs a string 'target': the id of the request "
                                                            "to stop")) | {"traceback": ""})
        elif target not in ctx.pending:
            ctx.send(_error_reply(request_id, ProtocolError(f"nothing to cancel: request {target!r} is neither "
                                                            "queued nor running")) | {"traceback": ""})
        else:
            ctx.cancelled.add(target)  # the target replies ``cancelled`` within one step
        return
    if request_id is not None:
        ctx.pending.add(request_id)
    inbox.put(message)


def _read_requests(ctx: WorkerContext, source: TextIO, inbox: queue.Queue) -> None:
    """Reader thread: survives any single line (each gets an error reply); EOF cancels everything and ends the
    worker, since no one is left to read the replies."""
    try:
        for line in source:
            try:
                _take_line(ctx, line, inbox)
            except Exception as exc:  # a line no check foresaw: answered, and the next line is read
                ctx.send(_error_reply(None, exc) | {"kind": "ProtocolError", "traceback": ""})
    except Exception as exc:  # stdin itself failed: treat as EOF
        print(f"blurd worker: stdin failed ({exc}); exiting", file=sys.stderr)
    finally:
        ctx.cancelled.update(ctx.pending)  # the client went away: stop the running request at its next check
        inbox.put(None)


def serve(source: TextIO, out: TextIO) -> None:
    """Answer requests from ``source`` on ``out`` until EOF or a shutdown request."""
    ctx = WorkerContext(out)
    inbox: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_read_requests, args=(ctx, source, inbox), name="blurd-worker-stdin", daemon=True)
    reader.start()
    ctx.send({"type": ReplyType.READY.value, "id": None, "protocol": PROTOCOL_VERSION, "pid": os.getpid()})
    while True:
        message = inbox.get()
        if message is None:
            return
        request_id = request_id_of(message)
        kind = message["type"]
        if kind == RequestType.SHUTDOWN.value:
            ctx.send({"type": ReplyType.BYE.value, "id": request_id})
            ctx.cancelled.update(ctx.pending)
            return
        action = ACTIONS.get(kind)
        if action is None or request_id is None:
            problem = f"unknown request type {kind!r}" if action is None else f"request {kind!r} needs a string 'id'"
            ctx.send(_error_reply(request_id, ProtocolError(problem)) | {"traceback": ""})
            ctx.pending.discard(request_id)
            continue
        ctx.current, ctx.steps_done = request_id, 0
        try:
            reply = action(ctx, message)
        except RequestCancelledError:
            ctx.send({"type": ReplyType.CANCELLED.value, "id": request_id, "steps_done": ctx.steps_done})
        except Exception as exc:  # every failure becomes an error reply; the worker lives on
            ctx.send(_error_reply(request_id, exc))
        else:
            ctx.send({"id": request_id} | reply)
        finally:
            ctx.current = None
            ctx.cancelled.discard(request_id)
            ctx.pending.discard(request_id)


def main() -> None:
    """Keep a private handle on the real stdout for the protocol and point fd 1 at stderr for everything else."""
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    source = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    serve(source, protocol_out)

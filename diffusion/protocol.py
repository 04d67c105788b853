"""The worker's wire format: one JSON object per line on stdin (requests) and stdout (replies).

Pure Python, shared by the client (Blender side) and the worker. docs/worker_protocol.md is the reference;
every message is a JSON object with a ``type`` and, except ``ready``, the ``id`` of the request it belongs to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import ProtocolError

PROTOCOL_VERSION = 1


class RequestType(StrEnum):
    """Messages the client sends."""

    GENERATE = "generate"  # run jobs (sample folder + mode) with settings; replies progress..., then result
    CANCEL = "cancel"  # stop request ``target`` within one denoising step; replies ``cancelled`` for it
    INFO = "info"  # versions, device and loaded models; replies ``info``
    SHUTDOWN = "shutdown"  # exit after the current request; frees all GPU memory


class ReplyType(StrEnum):
    """Messages the worker sends."""

    READY = "ready"  # once, at start: protocol version and pid
    STATUS = "status"  # free text about slow work (loading models)
    PROGRESS = "progress"  # one per denoising step
    RESULT = "result"  # a generate request finished: one output per job
    INFO = "info"
    CANCELLED = "cancelled"
    ERROR = "error"  # kind, message, traceback; ``id`` is null when the request line itself was unreadable
    BYE = "bye"  # reply to shutdown, right before exit


@dataclass(frozen=True)
class Job:
    """One image to make: a mode applied to one sample folder."""

    sample_dir: Path
    mode: str

    def to_json(self) -> dict[str, str]:
        return {"sample_dir": str(self.sample_dir), "mode": self.mode}

    @classmethod
    def from_json(cls, data: Any) -> Job:
        if not isinstance(data, dict) or not isinstance(data.get("sample_dir"), str) or not isinstance(
            data.get("mode"), str
        ):
            raise ProtocolError(f"a job must be {{'sample_dir': str, 'mode': str}}, got {data!r}")
        return cls(Path(data["sample_dir"]), data["mode"])


def encode(message: dict[str, Any]) -> str:
    """One protocol line (no newline inside, newline at the end)."""
    return json.dumps(message, separators=(",", ":"), default=str) + "\n"


def decode(line: str) -> dict[str, Any]:
    """The message on one line; ProtocolError for anything that is not a JSON object with a known ``type``."""
    try:
        message = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON ({exc.msg} at column {exc.colno}): {line.strip()[:120]!r}") from None
    except RecursionError:
        raise ProtocolError("JSON nested too deeply; a message is a flat object of the documented fields") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(message).__name__}")
    if not isinstance(message.get("type"), str):
        raise ProtocolError("a message needs a string 'type'")
    return message


def request_id_of(message: dict[str, Any]) -> str | None:
    value = message.get("id")
    return value if isinstance(value, str) else None

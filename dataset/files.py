"""The one atomic writer: every file goes to a temporary name beside its target and is renamed into place.

The temporary name holds the writer's process id (``.tmp-<pid>-<random>-<name>``), so resume can tell the leftovers
of a dead process from the files a live shard is writing right now (``hygiene``). A failed write removes its
temporary file; a full disk is a DiskFullError naming the path. ``durable=True`` also fsyncs the file and its
folder: used for the files that mark progress (sample.json, the manifest), so a power loss never leaves a
completion marker pointing at data that is not on disk.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import no_space_as_error
from .layout import TMP_PREFIX


def temp_name(final: Path) -> Path:
    """A fresh temporary name beside ``final`` that names this process."""
    return final.with_name(f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{final.name}")


def temp_owner(name: str) -> int | None:
    """The process id in a temporary name written by ``temp_name`` (None for other names)."""
    if not name.startswith(TMP_PREFIX):
        return None
    head = name[len(TMP_PREFIX):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def fsync_path(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(final: Path | str, *, durable: bool = False) -> Iterator[Path]:
    """A temporary path beside ``final`` for the block to write; renamed onto ``final`` when the block succeeds,
    deleted when it fails. Raises DiskFullError when the disk fills."""
    final = Path(final)
    with no_space_as_error(final.parent):
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(final)
        try:
            yield tmp
            if durable:
                fsync_path(tmp)
            os.replace(tmp, final)
            if durable:
                fsync_path(final.parent, directory=True)
        finally:
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()


def write_atomic(final: Path | str, write: Callable[[Path], None], *, durable: bool = False) -> None:
    """Run ``write`` on a temporary name beside ``final``, then rename it into place."""
    with atomic_path(final, durable=durable) as tmp:
        write(tmp)


def write_bytes(final: Path | str, data: bytes, *, durable: bool = False) -> None:
    with atomic_path(final, durable=durable) as tmp:
        tmp.write_bytes(data)


def write_text(final: Path | str, text: str, *, durable: bool = False) -> None:
    with atomic_path(final, durable=durable) as tmp:
        tmp.write_text(text, encoding="utf-8")


def json_text(record: Mapping[str, Any]) -> str:
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def write_json(final: Path | str, record: Mapping[str, Any], *, durable: bool = False) -> None:
    write_text(final, json_text(record), durable=durable)

"""Locks that let several processes share one dataset folder (fcntl ``flock``, so a dead holder frees its lock).

* The **dataset lock** (``OUT/.blurd.lock``, kept) guards short critical sections: copying the preset, clearing
  dead writers' temporary files, repairing and appending to the manifest, writing the contact sheet.
* A **sample lock** (``OUT/.locks/<id>.lock``) is held while a process renders that sample; shards (disjoint
  samples) never wait on each other, and two runs of one sweep share the work instead of writing the same folder.
  The lock file is deleted by its holder; a waiter that wakes on a deleted file retries on the new one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from .errors import no_space_as_error
from .layout import LOCK_FILE, sample_lock_path


class Busy(Exception):
    """A non-blocking acquire found the lock held by another process."""


class FileLock:
    """An exclusive ``flock`` on ``path``; ``remove=True`` deletes the file on release (sample locks)."""

    def __init__(self, path: Path, *, remove: bool = False) -> None:
        self.path = Path(path)
        self.remove = remove
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, blocking: bool = True) -> FileLock:
        """Take the lock (waiting unless ``blocking`` is false, then Busy); never follows a symbolic link."""
        with no_space_as_error(self.path.parent):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
                except BlockingIOError:
                    os.close(fd)
                    raise Busy(str(self.path)) from None
                except BaseException:
                    os.close(fd)
                    raise
                try:
                    on_disk = os.stat(self.path, follow_symlinks=False)
                except FileNotFoundError:
                    on_disk = None
                mine = os.fstat(fd)
                if on_disk is not None and (on_disk.st_ino, on_disk.st_dev) == (mine.st_ino, mine.st_dev):
                    self._fd = fd
                    return self
                os.close(fd)  # the holder we waited for deleted that file: lock the current one

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if self.remove:
                self.path.unlink(missing_ok=True)  # while still holding it: waiters then retry on a new file
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def dataset_lock(out: Path) -> FileLock:
    return FileLock(Path(out) / LOCK_FILE)


def sample_lock(out: Path, sample_id: str) -> FileLock:
    return FileLock(sample_lock_path(out, sample_id), remove=True)

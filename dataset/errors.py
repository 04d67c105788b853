"""Errors of the dataset layer; each names the path and the fix."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..factors.errors import BlurdError

NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class DatasetError(BlurdError):
    """A dataset folder that cannot be read or written as asked."""


class DiskFullError(DatasetError):
    """The file system holding a dataset is full: one clear line, never a traceback or a crash."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(f"no space left on {self.path}; free some space (or choose another --out) and run the "
                         f"same command again to resume")


def is_no_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS


@contextmanager
def no_space_as_error(path: Path | str) -> Iterator[None]:
    """Turn "no space left on device" (or an exceeded quota) inside the block into a DiskFullError naming ``path``."""
    try:
        yield
    except OSError as exc:
        if is_no_space(exc):
            raise DiskFullError(path) from None
        raise

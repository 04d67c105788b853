"""OUT/manifest.jsonl: one JSON row per complete sample, appended as samples finish, repaired on resume.

Appends and repairs take the dataset lock, so two processes never interleave a row, never rewrite the file under
each other's feet and never append the same id twice: before appending, a writer reads the rows other processes
added since it last looked (only the new bytes) and skips an id already there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import DatasetError, no_space_as_error
from .files import write_text
from .layout import MANIFEST, SAMPLES_DIR, sample_dir
from .locks import dataset_lock
from .record import SampleRecord, is_complete


def manifest_row(record: SampleRecord, index: int) -> dict[str, Any]:
    """The manifest row of a complete sample, from its record."""
    return {
        "id": record.id,
        "index": index,
        "seed": record.seed,
        "factors": record.factors,
        "dir": f"{SAMPLES_DIR}/{record.id}",
        "render_s": record.timings.get("render_s"),
        "post_s": record.timings.get("post_s"),
    }


def _row_id(line: str) -> str | None:
    """The id of one manifest line, None for a torn or foreign line."""
    if not line.endswith("\n"):
        return None
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):
        return None
    sid = row.get("id") if isinstance(row, dict) else None
    return sid if isinstance(sid, str) else None


class Manifest:
    """The manifest of one dataset folder as this process knows it: the ids in it and how far it has read."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = self.out / MANIFEST
        self.ids: set[str] = set()
        self._offset = 0
        self._inode: int | None = None

    def check(self) -> None:
        """DatasetError when the manifest path cannot be a file (a folder, a link): before any work."""
        if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
            raise DatasetError(f"{self.path} is not a regular file; move it away (the sweep writes its manifest "
                               f"there)")

    def repair(self) -> set[str]:
        """Drop torn lines, duplicate ids and rows of incomplete samples (atomic rewrite); returns the ids kept."""
        self.check()
        with dataset_lock(self.out):
            self.ids, kept, changed = set(), [], False
            lines = self._read_lines()
            for line in lines:
                sid = _row_id(line)
                if sid is None or sid in self.ids or not is_complete(sample_dir(self.out, sid)):
                    changed = True
                    continue
                self.ids.add(sid)
                kept.append(line)
            if changed:
                write_text(self.path, "".join(kept), durable=True)
            self._remember()
        return set(self.ids)

    def append(self, row: dict[str, Any]) -> bool:
        """Append one row unless its id is in the manifest already (any process's row); True when written."""
        line = (json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
        with dataset_lock(self.out):
            self._catch_up()
            if row["id"] in self.ids:
                return False
            with no_space_as_error(self.path):
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
                try:
                    written = os.write(fd, line)
                    if written != len(line):  # a short write (disk full): take the torn bytes back
                        os.ftruncate(fd, os.fstat(fd).st_size - written)
                        raise OSError(28, "No space left on device")
                finally:
                    os.close(fd)
            self.ids.add(row["id"])
            self._remember()
        return True

    def rows(self) -> Iterator[dict[str, Any]]:
        """The readable rows, in file order (a reader's view; torn lines are skipped)."""
        for line in self._read_lines():
            if _row_id(line) is not None:
                yield json.loads(line)

    # -- reading ----------------------------------------------------------------------------------------------
    def _read_lines(self) -> list[str]:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        except FileNotFoundError:
            return []
        except IsADirectoryError:
            raise DatasetError(f"{self.path} is a folder; move it away (the sweep writes its manifest there)") from None

    def _remember(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._offset, self._inode = 0, None
            return
        self._offset, self._inode = st.st_size, st.st_ino

    def _catch_up(self) -> None:
        """Add the ids other processes appended since this one last looked (a rewrite means: read it all)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.ids, self._offset, self._inode = set(), 0, None
            return
        if st.st_ino != self._inode or st.st_size < self._offset:
            self.ids, self._offset = set(), 0
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            tail = handle.read().decode("utf-8", errors="replace")
        self.ids.update(sid for sid in map(_row_id, tail.splitlines(keepends=True)) if sid is not None)
        self._offset, self._inode = st.st_size, st.st_ino

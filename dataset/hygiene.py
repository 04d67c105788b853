"""Clearing what dead writers left: ``.tmp-<pid>-*`` files and folders whose process no longer runs.

Never follows a symbolic link (a link named ``.tmp-*`` is removed as a link, its target untouched), never removes
a live process's temporary file (another shard may be writing it right now), and treats a name without a pid
(an older BLURD's) as stale only once it is older than STALE_SECONDS.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

from .files import temp_owner
from .layout import MASKS_DIR, TMP_PREFIX

STALE_SECONDS = 600.0


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OverflowError:
        return False
    return True


def is_stale(entry: Path, now: float | None = None) -> bool:
    """Whether the temporary ``entry`` belongs to no live writer."""
    owner = temp_owner(entry.name)
    if owner is not None:
        return not process_alive(owner)
    try:
        age = (now or time.time()) - entry.lstat().st_mtime
    except FileNotFoundError:
        return False
    return age > STALE_SECONDS


def remove_entry(entry: Path) -> None:
    """Delete a file, link or folder without following links; gone already is fine."""
    try:
        mode = entry.lstat().st_mode
        if stat.S_ISDIR(mode):
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except FileNotFoundError:
        pass


def remove_stale_temp_files(folder: Path, *, everything: bool = False) -> list[Path]:
    """Delete the stale ``TMP_PREFIX`` entries directly in ``folder`` and its masks folder; ``everything`` deletes
    them all (the caller holds the folder's lock, so no one else writes there). Returns what was removed."""
    removed: list[Path] = []
    now = time.time()
    folder = Path(folder)
    for parent in (folder, folder / MASKS_DIR):
        if parent.is_symlink() or not parent.is_dir():
            continue
        for entry in parent.iterdir():
            if entry.name.startswith(TMP_PREFIX) and (everything or is_stale(entry, now)):
                remove_entry(entry)
                removed.append(entry)
    return removed


def clear_folder(folder: Path) -> None:
    """Remove a partial sample folder (a link is removed as a link)."""
    remove_entry(Path(folder))

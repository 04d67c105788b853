"""Where a run writes its dataset: ``--out`` joined with the preset's ``[output] folder``, checked before any work."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DatasetError


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` stays inside ``root`` once symbolic links are followed (what exists of it)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def unwritable_reason(out: Path) -> str:
    """Why ``out`` cannot hold a dataset ("" when it can), checked without creating anything."""
    if out.exists() and not out.is_dir():
        return "exists and is not a folder"
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return ""


def dataset_folder(out: Path, preset_folder: str) -> Path:
    """The dataset folder of a run; DatasetError naming the fix when it escapes ``out`` or cannot be written."""
    folder = out / preset_folder if preset_folder else out
    if preset_folder and not inside(folder, out):
        raise DatasetError(f"[output] folder {preset_folder!r} leads outside --out {out} (through a symbolic link); "
                           f"remove the link or choose another folder")
    problem = unwritable_reason(folder)
    if problem:
        raise DatasetError(f"--out {folder}: {problem}; choose another folder")
    return folder

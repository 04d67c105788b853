"""Import the repository as the package ``blurd``, the way Blender imports the installed extension.

The repository root is the extension package, but its folder may have any name, and the package's modules use
relative imports (``from ..factors import ...``) that only work inside a package. ``import_blurd()`` links a
temporary folder's ``blurd`` to the repository root, puts that folder on sys.path and imports ``blurd`` from it,
so ``__package__`` is ``"blurd"`` as in Blender. Importing ``blurd`` needs no bpy; ``blurd.register()`` does.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

PACKAGE = "blurd"
REPO_ROOT = Path(__file__).resolve().parents[1]

_link_parent: Path | None = None


def package_parent() -> Path:
    """A folder holding ``blurd`` -> the repository root (made once per process, removed at exit).

    Put it on PYTHONPATH to import ``blurd`` in a subprocess.
    """
    global _link_parent
    if _link_parent is None:
        parent = Path(tempfile.mkdtemp(prefix="blurd-pkg-"))
        atexit.register(shutil.rmtree, parent, ignore_errors=True)
        os.symlink(REPO_ROOT, parent / PACKAGE, target_is_directory=True)
        _link_parent = parent
    return _link_parent


def import_blurd() -> ModuleType:
    """The repository imported as the package ``blurd`` (cached in sys.modules like any import)."""
    module = sys.modules.get(PACKAGE)
    if module is not None:
        if Path(module.__file__).resolve().parent != REPO_ROOT:
            raise RuntimeError(f"another package named {PACKAGE!r} is imported: {module.__file__}")
        return module
    try:
        parent = str(package_parent())
    except OSError:  # no symlinks (e.g. Windows without developer mode): load the package by its location
        spec = importlib.util.spec_from_file_location(
            PACKAGE, REPO_ROOT / "__init__.py", submodule_search_locations=[str(REPO_ROOT)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
        return module
    if parent not in sys.path:
        sys.path.insert(0, parent)
    return importlib.import_module(PACKAGE)


def import_module(name: str) -> ModuleType:
    """``blurd.<name>``, e.g. ``import_module("presets.reader")``."""
    import_blurd()
    return importlib.import_module(f"{PACKAGE}.{name}")

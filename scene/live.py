"""Live updates from the sidebar: when a factor property changes, drive the open scene through its bindings.

The scene says which binding file it follows: a rig set up by the user stores a path in the scene property
``blurd_bindings``; a scene made by ``build_scene`` carries the built-in mark. Any other scene is left untouched.
Update callbacks cannot raise, so a binding error is stored in ``blurd_binding_error`` for the panel to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import bpy

from ..factors.errors import BlurdError
from .bindings import Bindings, load_bindings
from .builder import BUILTIN_MARK, builtin_bindings

BINDINGS_PROP = "blurd_bindings"  # scene property: path of the user's binding file
ERROR_PROP = "blurd_binding_error"  # scene property: the last binding error, for the panel
_cache: dict[str, tuple[float, Bindings]] = {}


def binding_file(bl_scene: bpy.types.Scene) -> str:
    """The scene's binding file path as set: the sidebar's ``Scene.blurd_bindings`` property, else a raw custom
    property of that name (scripts, or files saved without the extension; Blender 5 keeps the two apart)."""
    return str(getattr(bl_scene, BINDINGS_PROP, "") or bl_scene.get(BINDINGS_PROP) or "")


def scene_bindings(bl_scene: bpy.types.Scene) -> Bindings | None:
    """The bindings that drive this scene: the user's file, the built-in one, or None for an unbound scene."""
    user_path = binding_file(bl_scene)
    if user_path:
        path = Path(bpy.path.abspath(str(user_path)))
        mtime = path.stat().st_mtime if path.is_file() else -1.0
        cached = _cache.get(str(path))
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_bindings(path))  # raises BindingError naming a missing/malformed file
            _cache[str(path)] = cached
        return cached[1]
    if bl_scene.get(BUILTIN_MARK):
        return builtin_bindings(bl_scene)  # the binding file of the built-in human this scene holds
    return None


def on_factors_changed(bl_scene: bpy.types.Scene, values: Mapping[str, Any]) -> None:
    """Apply ``values`` to the scene through its bindings; a scene with no bindings is left as it is.

    Never raises: it runs inside Blender's property-update callbacks, where an exception would only be printed and
    the sidebar would go on as if the factor had been applied. Every error, expected or not, is kept in
    ``blurd_binding_error`` for the Bindings panel.
    """
    try:
        bindings = scene_bindings(bl_scene)
        if bindings is not None:
            bindings.apply(bl_scene, values)
    except Exception as exc:  # noqa: BLE001 - see the docstring: nothing may escape an update callback
        report_error(bl_scene, exc)
        return
    clear_error(bl_scene)


def report_error(bl_scene: bpy.types.Scene, exc: BaseException) -> str:
    """Keep ``exc`` as the scene's last binding error (BLURD errors as they are; others with their type)."""
    message = str(exc) if isinstance(exc, BlurdError) else f"{type(exc).__name__}: {exc}"
    try:
        bl_scene[ERROR_PROP] = message
    except (TypeError, AttributeError, RuntimeError):  # a scene that is being freed: printing is all that is left
        pass
    print(f"BLURD: {message}")
    return message


def clear_error(bl_scene: bpy.types.Scene) -> None:
    if ERROR_PROP in bl_scene:
        del bl_scene[ERROR_PROP]


def last_error(bl_scene: bpy.types.Scene) -> str:
    """The scene's last binding error ("" when the last update went through)."""
    return str(bl_scene.get(ERROR_PROP, ""))

"""The scene a headless sweep renders: the built-in human, or a user's .blend driven by its binding file.

``batch.py --blend rig.blend --bindings rig.toml`` opens the file; ``blender -b rig.blend -P batch.py`` has opened it
already, and its scene is used as it is (never wiped). The bindings are ``--bindings``, else the scene's own
``blurd_bindings``, else the built-in human's when the file holds it; a scene with none of them is refused before
anything is rendered, and the file is checked against the scene first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bpy
from bpy.props import StringProperty

from ..factors.errors import BlurdError
from . import live
from .binding_check import empty_mask_warning, part_warnings
from .bindings import Bindings, load_bindings
from .part_tags import scene_part_ids


class UnboundSceneError(BlurdError):
    """A user's scene that the factors cannot drive: no binding file and not the built-in human."""


@dataclass(frozen=True)
class SceneSource:
    """What a sweep renders: ``scene`` None = build the built-in human; ``bindings`` None = the built-in human's."""

    scene: bpy.types.Scene | None
    bindings: Bindings | None
    warnings: tuple[str, ...] = ()


def open_blend(path: Path) -> None:
    """Open a .blend as Blender's current file, or raise naming it."""
    try:
        bpy.ops.wm.open_mainfile(filepath=str(Path(path).resolve()), load_ui=False)
    except RuntimeError as exc:
        raise BlurdError(f"--blend {path}: Blender cannot open it ({str(exc).strip()}); give a .blend file") from None


def sweep_scene(blend: Path | None, bindings: Bindings | None) -> SceneSource:
    """The scene to sweep and its bindings (``bindings`` = the already loaded ``--bindings`` file, or None).

    Opens ``blend`` when given; otherwise a .blend Blender opened (``blender -b rig.blend -P batch.py``) is used as it
    is. Without either, the built-in human is built (and a ``--bindings`` file, meant for a rig, is refused).
    """
    if blend is not None:
        open_blend(blend)
    if not bpy.data.filepath:
        if bindings is not None:
            raise UnboundSceneError(f"--bindings {bindings.source} needs your character's .blend: add --blend "
                                    f"rig.blend (or run blender -b rig.blend -P batch.py); the built-in human has its "
                                    f"own bindings")
        return SceneSource(None, None)
    scene = bpy.context.scene
    name = Path(bpy.data.filepath).name
    if bindings is None:
        with saved_binding_file_readable():
            bindings = live.scene_bindings(scene)  # the scene's blurd_bindings (relative to the .blend), or built-in
    if bindings is None:
        raise UnboundSceneError(
            f"{name}: scene {scene.name!r} has no factor bindings, so the factors cannot drive it; pass --bindings "
            f"rig.toml (docs/bindings.md), set the scene's binding file in the sidebar's Bindings panel, or leave "
            f"out the .blend to render the built-in human")
    bindings.check(scene)
    scene_part_ids(scene)  # a tag naming no part is refused now, not once per sample
    return SceneSource(scene, bindings, tuple(part_warnings(scene, bindings)))


@contextmanager
def saved_binding_file_readable() -> Iterator[None]:
    """Make the binding file the sidebar saved with a scene readable while the extension is not registered.

    Blender 5 keeps the value of a registered property (``Scene.blurd_bindings``, set in the Bindings panel) apart
    from custom properties: without the property defined, ``scene.get`` does not see it. Defining a property of that
    name for the read exposes the saved value (batch.py imports the package but registers no UI).
    """
    if hasattr(bpy.types.Scene, live.BINDINGS_PROP):
        yield
        return
    prop = StringProperty(subtype="FILE_PATH", options={"PATH_SUPPORTS_BLEND_RELATIVE"})
    setattr(bpy.types.Scene, live.BINDINGS_PROP, prop)
    try:
        yield
    finally:
        delattr(bpy.types.Scene, live.BINDINGS_PROP)


def load_binding_file(path: Path | None) -> Bindings | None:
    """``--bindings``, parsed before any scene work (errors name the file and entry)."""
    return load_bindings(path) if path is not None else None


def first_sample_mask_check(warn: Callable[[str], None]) -> Callable[[Path], None]:
    """A per-sample hook that warns once if the first complete sample's part masks are all empty."""
    checked: list[bool] = []

    def hook(folder: Path) -> None:
        if checked:
            return
        checked.append(True)
        warning = empty_mask_warning(Path(folder))
        if warning:
            warn(warning)

    return hook

"""What the operators read from the scene: where the sidebar's Render and Batch sweep write (the output folder
and preset on ``Scene.blurd_output``), and the helpers they share: the scene's current factors (tolerating a
missing ``scene.blurd``), the factor-applying hook of the scene bindings, and the progress text shown while an
operator runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import bpy
from bpy.props import FloatProperty, PointerProperty, StringProperty
from bpy.types import PropertyGroup

from ..factors import default_assignment, validate_assignment
from ..factors.errors import BlurdError
from ..presets import shipped_preset_path
from ..scene import live
from .properties import factor_values

DEFAULT_OUTPUT = "//blurd_out"  # beside the .blend file ("//" is Blender's blend-relative prefix)


class BLURD_OutputProperties(PropertyGroup):
    """Output folder, sweep preset and the progress of a running Render or Batch sweep"""

    folder: StringProperty(name="Output folder", subtype="DIR_PATH", default=DEFAULT_OUTPUT,
                           description="Dataset folder: samples/<id>/ with the passes, manifest.jsonl, contact sheet")
    preset: StringProperty(name="Sweep preset", subtype="FILE_PATH", default="",
                           description="Preset file whose grid Batch sweep renders (empty: the shipped quick preset)")
    progress: FloatProperty(name="Progress", subtype="PERCENTAGE", min=0.0, max=100.0, default=0.0,
                            options={"SKIP_SAVE"})
    status: StringProperty(name="Status", default="", options={"SKIP_SAVE"})


classes: tuple[type, ...] = (BLURD_OutputProperties,)


def scene_properties() -> dict[str, Any]:
    """Properties the output module adds to bpy.types.Scene."""
    return {"blurd_output": PointerProperty(type=BLURD_OutputProperties, name="BLURD output")}


def output_props(scene: bpy.types.Scene) -> Any:
    return getattr(scene, "blurd_output", None)


def output_folder(scene: bpy.types.Scene) -> Path:
    """The absolute output folder ("//" resolved against the .blend; a cwd-relative folder when unsaved)."""
    props = output_props(scene)
    raw = props.folder if props is not None and props.folder else DEFAULT_OUTPUT
    if raw.startswith("//") and not bpy.data.filepath:
        raw = raw[2:] or "."
    return Path(bpy.path.abspath(raw)).resolve()


def sweep_preset_path(scene: bpy.types.Scene) -> Path:
    props = output_props(scene)
    raw = props.preset if props is not None and props.preset else ""
    return Path(bpy.path.abspath(raw)).resolve() if raw else shipped_preset_path("quick")


def current_factors(scene: bpy.types.Scene) -> dict[str, Any]:
    """The scene's factor values from ``scene.blurd``; defaults when the factor properties are not registered."""
    props = getattr(scene, "blurd", None)
    if props is None:
        return default_assignment()
    return validate_assignment(factor_values(props), complete=True)


class UnboundSceneError(BlurdError):
    """A sweep asked to drive a scene that has no factor bindings."""


def factor_applier() -> Callable[[bpy.types.Scene, Mapping[str, Any], Any], None]:
    """How the Batch sweep puts factor values into the current scene: through the bindings the scene follows
    (its binding file, or the built-in human's), raising on any binding error. Unlike the sidebar's live
    updates, a sweep must never render a sample whose factors did not reach the scene."""
    def apply(bl_scene: bpy.types.Scene, values: Mapping[str, Any], bindings: Any = None) -> None:
        bound = bindings or live.scene_bindings(bl_scene)
        if bound is None:
            raise UnboundSceneError(
                f"scene {bl_scene.name!r} has no factor bindings, so a sweep cannot set its factors; build the "
                f"built-in human, or point the scene at your rig's binding file (docs/bindings.md)")
        bound.apply(bl_scene, dict(values))

    return apply


def scene_has_camera(operator: type, context: Any) -> bool:
    """An operator poll: True when the scene can render; otherwise the greyed-out button's tooltip says why."""
    if context.scene is None or context.scene.camera is None:
        operator.poll_message_set("The scene needs an active camera")
        return False
    return True


def set_progress(context: Any, fraction: float, text: str) -> None:
    """Show ``text`` in the status bar and the output panel, and the fraction done in the panel's bar."""
    props = output_props(context.scene)
    if props is not None:
        props.progress = 100.0 * max(0.0, min(1.0, fraction))
        props.status = text
    if context.workspace is not None:
        context.workspace.status_text_set(text or None)
    for area in context.screen.areas if context.screen else ():
        area.tag_redraw()

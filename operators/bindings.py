"""The scene's binding file and the operators of the Bindings panel: Check (every problem at once) and Check sheet
(one tiny render per factor change on a labelled contact sheet).

``Scene.blurd_bindings`` is the path ``scene.live`` reads (a raw ``scene["blurd_bindings"]`` from older files is the
same property); changing it drives the scene through the new file at once, so its errors show immediately.
"""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import StringProperty
from bpy.types import Operator

from ..factors.errors import BlurdError
from ..scene import binding_check, live
from ..scene.builder import BUILTIN_MARK
from .properties import notify_factors_changed
from .scene_context import current_factors, output_folder, scene_has_camera, set_progress

BINDINGS_PROP = live.BINDINGS_PROP
STATUS_PROP = "blurd_binding_status"  # scene property: the summary line of the last Check
SHEET_IMAGE = "BLURD binding check"  # the Blender image showing the last check sheet
MAX_REPORTED = 20  # problems reported one by one in the status bar/info log (all stay in the panel's error)


def _on_bindings_changed(scene: Any, _context: Any) -> None:
    setattr(scene, STATUS_PROP, "")
    notify_factors_changed(scene)  # apply the new file now: its errors reach the panel before any render


def check_and_report(operator: Operator, scene: bpy.types.Scene) -> binding_check.SceneCheck:
    """Check the scene's binding file, keep the verdict for the panel and report every problem and warning."""
    result = binding_check.check_scene(scene)
    setattr(scene, STATUS_PROP, result.summary())
    if result.problems:
        scene[live.ERROR_PROP] = "\n".join(result.problems)
    else:
        live.clear_error(scene)
    for warning in result.warnings:
        operator.report({"WARNING"}, f"BLURD: {warning}")
    for problem in result.problems[:MAX_REPORTED]:
        operator.report({"ERROR"}, f"BLURD: {problem}")
    if not result.problems:
        operator.report({"INFO"}, f"BLURD: {result.summary()}")
        if result.bindings is not None and result.unbound:
            operator.report({"INFO"}, f"BLURD: not bound (they leave the scene as it is): {', '.join(result.unbound)}")
    return result


class BLURD_OT_bindings_check(Operator):
    """Check the scene's binding file against the scene and list every problem (missing targets, typos, values
    that do not fit their targets) at once"""

    bl_idname = "blurd.bindings_check"
    bl_label = "Check"
    bl_options = {"REGISTER"}

    def execute(self, context: Any) -> set[str]:
        result = check_and_report(self, context.scene)
        return {"CANCELLED"} if result.problems else {"FINISHED"}


class BLURD_OT_bindings_check_sheet(Operator):
    """Render each bound factor's change once at a tiny size and lay the renders out on a labelled contact sheet,
    to see at a glance that every factor does what it should"""

    bl_idname = "blurd.bindings_check_sheet"
    bl_label = "Check sheet"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context: Any) -> bool:
        return scene_has_camera(cls, context)

    def execute(self, context: Any) -> set[str]:
        scene = context.scene
        result = check_and_report(self, scene)
        if result.problems:
            return {"CANCELLED"}
        if result.bindings is None:
            self.report({"ERROR"}, "BLURD: the scene has no binding file; choose one in the Bindings panel")
            return {"CANCELLED"}
        out = output_folder(scene) / binding_check.CHECK_FOLDER

        def progress(done: int, total: int) -> None:
            set_progress(context, done / max(1, total), f"BLURD check sheet: render {done + 1}/{total}")

        try:
            sheet = binding_check.render_check_sheet(scene, result.bindings, current_factors(scene), out,
                                                     progress=progress)
        except (BlurdError, OSError, ImportError) as exc:
            live.report_error(scene, exc)
            self.report({"ERROR"}, f"BLURD: check sheet failed: {exc}")
            return {"CANCELLED"}
        finally:
            set_progress(context, 0.0, "")
        _show_image(sheet.path)
        for warning in sheet.warnings:
            self.report({"WARNING"}, f"BLURD: {warning}")
        if sheet.unchanged:
            self.report({"WARNING"}, f"BLURD: no visible change from {', '.join(sheet.unchanged)}; check their "
                                     f"bindings")
        self.report({"INFO"}, f"BLURD: check sheet of {len(sheet.changes)} factor changes: {sheet.path}")
        return {"FINISHED"}


def last_error(scene: bpy.types.Scene) -> str:
    """The scene's last binding error, for the panel ("" when none)."""
    return live.last_error(scene)


def binding_source_text(scene: bpy.types.Scene) -> str:
    """What drives the scene when no binding file is set, for the panel."""
    return "Built-in human" if scene.get(BUILTIN_MARK) else "No file: factors drive nothing"


def _show_image(path) -> None:
    """Load (or reload) the check sheet as the image SHEET_IMAGE, for an Image Editor to show."""
    image = bpy.data.images.get(SHEET_IMAGE)
    if image is None:
        image = bpy.data.images.load(str(path), check_existing=False)
        image.name = SHEET_IMAGE
    else:
        image.filepath = str(path)
        image.reload()


classes: tuple[type, ...] = (BLURD_OT_bindings_check, BLURD_OT_bindings_check_sheet)


def scene_properties() -> dict[str, Any]:
    """The scene's binding file and the last Check's verdict."""
    return {
        BINDINGS_PROP: StringProperty(
            name="Binding file", subtype="FILE_PATH", default="", update=_on_bindings_changed,
            options={"PATH_SUPPORTS_BLEND_RELATIVE"},  # "//rig.toml": beside the .blend
            description="TOML file binding the factors to this scene's objects, materials, camera and lights "
                        "(docs/bindings.md); empty: the built-in human's, if this scene holds it"),
        STATUS_PROP: StringProperty(name="Binding check", default="", options={"SKIP_SAVE"},
                                    description="Verdict of the last Check"),
    }

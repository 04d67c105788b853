"""The Bindings panel of the BLURD sidebar tab: which binding file drives the scene, Check, Check sheet, and the
last binding error (kept by scene.live, since a sidebar update cannot raise)."""

from __future__ import annotations

from typing import Any

from bpy.types import Panel

from ..operators.bindings import (
    BINDINGS_PROP,
    STATUS_PROP,
    BLURD_OT_bindings_check,
    BLURD_OT_bindings_check_sheet,
    binding_source_text,
    last_error,
)
from .sidebar import SidebarPanel

MAX_ERROR_LINES = 12  # the rest is in the Info log (Check reports every problem)


class BLURD_PT_bindings(SidebarPanel, Panel):
    """The binding file that maps the factors onto this scene, its check and its last error"""

    bl_label = "Bindings"

    @classmethod
    def poll(cls, context: Any) -> bool:
        return context.scene is not None and hasattr(type(context.scene), BINDINGS_PROP)

    def draw(self, context: Any) -> None:
        layout = self.layout
        scene = context.scene
        layout.prop(scene, BINDINGS_PROP, text="File")
        if not getattr(scene, BINDINGS_PROP):
            layout.label(text=binding_source_text(scene), icon="INFO")
        row = layout.row(align=True)
        row.operator(BLURD_OT_bindings_check.bl_idname, icon="CHECKMARK")
        row.operator(BLURD_OT_bindings_check_sheet.bl_idname, icon="IMAGE_DATA")
        status = getattr(scene, STATUS_PROP, "")
        if status:
            layout.label(text=status)
        error = last_error(scene)
        if error:
            box = layout.box()
            lines = error.splitlines()
            for n, line in enumerate(lines[:MAX_ERROR_LINES]):
                box.label(text=line.strip(), icon="ERROR" if n == 0 else "BLANK1")
            if len(lines) > MAX_ERROR_LINES:
                box.label(text=f"... {len(lines) - MAX_ERROR_LINES} more (Check lists all in the Info log)")


classes: tuple[type, ...] = (BLURD_PT_bindings,)

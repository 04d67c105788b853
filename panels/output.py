"""The Output panel of the BLURD sidebar tab: output folder, sweep preset, Render and Batch sweep buttons."""

from __future__ import annotations

from typing import Any

from bpy.types import Panel

from ..operators.batch import BLURD_OT_batch_sweep
from ..operators.human import BLURD_OT_add_human
from ..operators.render import BLURD_OT_render
from .sidebar import SidebarPanel


class BLURD_PT_output(SidebarPanel, Panel):
    """Where renders and sweeps go, and the buttons that start them"""

    bl_label = "Output"

    @classmethod
    def poll(cls, context: Any) -> bool:
        return context.scene is not None and hasattr(context.scene, "blurd_output")

    def draw(self, context: Any) -> None:
        layout = self.layout
        props = context.scene.blurd_output
        layout.prop(props, "folder")
        layout.prop(props, "preset")
        row = layout.row(align=True)
        row.scale_y = 1.4
        row.operator(BLURD_OT_render.bl_idname, icon="RENDER_STILL")
        row.operator(BLURD_OT_batch_sweep.bl_idname, icon="RENDER_ANIMATION")
        if props.status:
            layout.progress(factor=props.progress / 100.0, text=props.status)
        layout.operator(BLURD_OT_add_human.bl_idname, icon="OUTLINER_OB_ARMATURE")


classes: tuple[type, ...] = (BLURD_PT_output,)

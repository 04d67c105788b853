"""Add-on preferences: which Python runs the diffusion worker, and the buttons that set it up and check it."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty
from bpy.types import AddonPreferences


class BLURD_AddonPreferences(AddonPreferences):
    """BLURD studio preferences"""

    bl_idname = __package__

    worker_python: StringProperty(
        name="Worker Python",
        subtype="FILE_PATH",
        default="",
        description="Python interpreter with torch and diffusers that runs the diffusion worker "
        "(empty: Blender's own Python if it can import them)",
    )
    worker_log: StringProperty(name="Setup log", default="", options={"SKIP_SAVE"})
    worker_status: StringProperty(name="Worker status", default="", options={"SKIP_SAVE"})

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "worker_python")
        row = layout.row(align=True)
        setup = row.row(align=True)
        setup.enabled = bpy.app.online_access
        setup.operator("blurd.worker_setup", icon="CONSOLE")
        row.operator("blurd.worker_check", icon="CHECKMARK")
        row.operator("blurd.worker_stop", icon="CANCEL")
        if not bpy.app.online_access:
            layout.label(text="Setting up the worker downloads packages: allow Online Access in System preferences",
                         icon="INFO")
        if self.worker_status:
            for line in self.worker_status.split("\n"):
                layout.label(text=line)
        if self.worker_log:
            layout.label(text=f"Log: {self.worker_log}", icon="TEXT")


classes = (BLURD_AddonPreferences,)

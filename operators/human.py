"""Add the built-in human: a new scene holding the realistic MakeHuman portrait (camera, light, worlds), bound to
the factors, so the sidebar's factors drive it at once."""

from __future__ import annotations

from typing import Any

import bpy
from bpy.types import Operator

from ..factors.errors import BlurdError
from ..scene import builder

SCENE_NAME = "BLURD Portrait"


class BLURD_OT_add_human(Operator):
    """Add a new scene with the built-in human (CC0 MakeHuman body, strand hair), its camera, light and worlds"""

    bl_idname = "blurd.add_human"
    bl_label = "Add built-in human"
    bl_options = {"REGISTER"}

    def execute(self, context: Any) -> set[str]:
        bl_scene = bpy.data.scenes.new(SCENE_NAME)
        try:
            builder.populate_scene(bl_scene)
        except BlurdError as exc:
            bpy.data.scenes.remove(bl_scene)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if context.window is not None:
            context.window.scene = bl_scene
        self.report({"INFO"}, f"built the built-in human in scene {bl_scene.name!r}")
        return {"FINISHED"}


classes: tuple[type, ...] = (BLURD_OT_add_human,)

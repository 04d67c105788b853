"""Sidebar: the Diffusion panel (mode, every diffusion setting, Generate) and its scene properties, generated from
diffusion.settings.SETTING_FIELDS: a new setting there is a new property and a new row here."""

from __future__ import annotations

from typing import Any

from bpy.props import EnumProperty, FloatProperty, PointerProperty, StringProperty
from bpy.types import Panel, PropertyGroup

from ..diffusion.modes import MODES
from ..diffusion.settings import SETTING_FIELDS, DiffusionSettings
from ..operators.settings_properties import field_label, groups, property_annotations
from .sidebar import SidebarPanel


class BLURD_DiffusionProperties(PropertyGroup):
    """Diffusion settings of the sidebar's Generate button (a preset's [diffusion] table holds the same values)"""

    __annotations__ = {
        "mode": EnumProperty(name="Mode", items=[(m.name, m.label, m.description) for m in MODES],
                             default="harbinger"),
        **property_annotations(SETTING_FIELDS, DiffusionSettings()),  # one property per setting, from its table
        "progress": FloatProperty(name="Progress", subtype="PERCENTAGE", min=0.0, max=100.0, options={"SKIP_SAVE"}),
        "status": StringProperty(name="Status", default="", options={"SKIP_SAVE"}),
    }


class BLURD_PT_diffusion(SidebarPanel, Panel):
    """Turn the render photo-real with Stable Diffusion"""

    bl_idname = "BLURD_PT_diffusion"
    bl_label = "Diffusion"

    @classmethod
    def poll(cls, context: Any) -> bool:
        return getattr(context.scene, "blurd_diffusion", None) is not None

    def draw(self, context: Any) -> None:
        props = context.scene.blurd_diffusion
        layout = self.layout
        layout.use_property_split = True
        layout.prop(props, "mode")
        for heading, names in groups(SETTING_FIELDS).items():
            column = layout.column(heading=heading, align=True)
            for name in names:
                column.prop(props, name, text=field_label(name, SETTING_FIELDS[name]))
        row = layout.row(align=True)
        row.scale_y = 1.4
        row.operator("blurd.generate", icon="SHADERFX")
        row.operator("blurd.worker_stop", text="", icon="CANCEL")
        if props.status:
            layout.progress(factor=props.progress / 100.0, text=props.status)


classes: tuple[type, ...] = (BLURD_DiffusionProperties, BLURD_PT_diffusion)


def scene_properties() -> dict[str, Any]:
    """Properties this module adds to bpy.types.Scene."""
    return {"blurd_diffusion": PointerProperty(type=BLURD_DiffusionProperties, name="BLURD diffusion")}



"""The BLURD tab of the 3D viewport sidebar: the twenty factors, grouped as in factors.schema.FactorGroup.

The main panel carries the preset menu in its header (Blender presets: save, load, remove) and the preset file
Import/Export; one sub-panel per factor group lists its factors, colour factors with a swatch of their colour.
"""

from __future__ import annotations

from typing import Any

from bpy.types import Panel

from ..factors import FACTORS, FactorKind
from ..factors.schema import NONE, FactorGroup
from ..operators.presets import (
    BLURD_MT_factor_presets,
    BLURD_OT_factor_preset_add,
    BLURD_OT_factors_reset,
    BLURD_OT_preset_export,
    BLURD_OT_preset_import,
)
from ..operators.properties import RGB_SUFFIX
from .sidebar import SidebarPanel


class _SidebarPanel(SidebarPanel):
    @classmethod
    def poll(cls, context: Any) -> bool:
        return context.scene is not None and hasattr(context.scene, "blurd")


class BLURD_PT_factors(_SidebarPanel, Panel):
    """The factors of variation of the BLURD human"""

    bl_label = "Factors"

    def draw_header_preset(self, _context: Any) -> None:
        row = self.layout.row(align=True)
        row.menu(BLURD_MT_factor_presets.__name__, text=BLURD_MT_factor_presets.bl_label)
        row.operator(BLURD_OT_factor_preset_add.bl_idname, text="", icon="ADD")
        remove = row.operator(BLURD_OT_factor_preset_add.bl_idname, text="", icon="REMOVE")
        remove.remove_active = True

    def draw(self, _context: Any) -> None:
        row = self.layout.row(align=True)
        row.operator(BLURD_OT_preset_import.bl_idname, text="Import", icon="IMPORT")
        row.operator(BLURD_OT_preset_export.bl_idname, text="Export", icon="EXPORT")
        row.operator(BLURD_OT_factors_reset.bl_idname, text="", icon="LOOP_BACK")


def _draw_group(self: Any, context: Any) -> None:
    layout = self.layout
    layout.use_property_split = True
    layout.use_property_decorate = False
    props = context.scene.blurd
    for factor in FACTORS:
        if factor.group is not self.factor_group:
            continue
        if factor.kind is not FactorKind.COLOUR:
            layout.prop(props, factor.name)
            continue
        row = layout.row(align=True)
        row.prop(props, factor.name)
        swatch = row.row(align=True)
        swatch.ui_units_x = 1.5
        if getattr(props, factor.name) == NONE:
            swatch.label(text="", icon="BLANK1")
        else:
            swatch.prop(props, factor.name + RGB_SUFFIX, text="")


def _group_panel(group: FactorGroup) -> type:
    """The sub-panel class of one factor group (generated, so FactorGroup stays the one list of groups)."""
    return type(
        f"BLURD_PT_factors_{group.name.lower()}",
        (_SidebarPanel, Panel),
        {
            "__doc__": f"BLURD factors: {group.value}",
            "__module__": __name__,
            "bl_label": group.value,
            "bl_parent_id": BLURD_PT_factors.__name__,
            "factor_group": group,
            "draw": _draw_group,
        },
    )


GROUP_PANELS: tuple[type, ...] = tuple(_group_panel(group) for group in FactorGroup)

classes: tuple[type, ...] = (BLURD_PT_factors, *GROUP_PANELS)

"""Where every BLURD panel lives: the "BLURD" tab of the 3D viewport's sidebar (N)."""

from __future__ import annotations

CATEGORY = "BLURD"  # the sidebar tab


class SidebarPanel:
    """Mixin placing a panel in the BLURD sidebar tab; each panel adds its own poll."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = CATEGORY

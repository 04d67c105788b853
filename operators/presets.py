"""Factor presets in Blender: the preset menu (Blender's own .py preset mechanism) and Export/Import of preset files.

Blender presets (save, load, remove from the sidebar menu) store the twenty factor properties as Blender writes
presets. Export/Import read and write the BLURD preset format (TOML/JSON, docs/presets.md) that the batch reads,
so a look set up in Blender sweeps the same factors headless.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy
from bl_operators.presets import AddPresetBase
from bpy.props import StringProperty
from bpy.types import Menu, Operator
from bpy_extras.io_utils import ExportHelper, ImportHelper

from ..factors import FACTORS, default_assignment
from ..factors.errors import BlurdError
from ..presets import load_preset, with_factors, write_preset
from . import properties

PRESET_SUBDIR = "blurd/factors"  # under Blender's user scripts/presets folder


def _begin_preset(_context: Any, _filepath: str) -> None:
    properties.begin_bulk_update()


def _end_preset(context: Any, _filepath: str) -> None:
    properties.end_bulk_update(context.scene)


class BLURD_MT_factor_presets(Menu):
    """Saved factor presets: choosing one sets all twenty factors"""

    bl_label = "Factor Presets"
    preset_subdir = PRESET_SUBDIR
    preset_operator = "script.execute_preset"
    # Blender calls these around running a preset file: the scene hook then runs once, not twenty times.
    reset_cb = staticmethod(_begin_preset)
    post_cb = staticmethod(_end_preset)
    draw = Menu.draw_preset


class BLURD_OT_factor_preset_add(AddPresetBase, Operator):
    """Save the twenty factors of the scene as a named preset in the BLURD preset menu (or remove one)"""

    bl_idname = "blurd.factor_preset_add"
    bl_label = "Add BLURD Factor Preset"
    bl_options = {"REGISTER"}  # not INTERNAL (as Blender's own are), so F3 finds it
    preset_menu = BLURD_MT_factor_presets.__name__
    preset_subdir = PRESET_SUBDIR
    preset_defines = ["blurd = bpy.context.scene.blurd"]
    preset_values = [f"blurd.{factor.name}" for factor in FACTORS]


class BLURD_OT_factors_reset(Operator):
    """Set all twenty factors of the scene back to their default values"""

    bl_idname = "blurd.factors_reset"
    bl_label = "Reset BLURD Factors"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: Any) -> bool:
        return context.scene is not None and hasattr(context.scene, "blurd")

    def execute(self, context: Any) -> set[str]:
        properties.set_factor_values(context.scene.blurd, default_assignment())
        return {"FINISHED"}


class BLURD_OT_preset_export(Operator, ExportHelper):
    """Write the scene's twenty factors to a BLURD preset file (.toml); with a base preset, keep its grid, render,
    diffusion and output settings and replace only its fixed factors"""

    bl_idname = "blurd.preset_export"
    bl_label = "Export BLURD Preset"
    bl_options = {"REGISTER"}

    filename_ext = ".toml"
    filter_glob: StringProperty(default="*.toml", options={"HIDDEN"})  # type: ignore[valid-type]
    preset_name: StringProperty(  # type: ignore[valid-type]
        name="Preset Name", description="Name stored in the preset file (default: the file name)", default="",
    )
    base_preset: StringProperty(  # type: ignore[valid-type]
        name="Base Preset", subtype="FILE_PATH", default="",
        description="Optional BLURD preset (.toml/.json) whose grid and settings the export keeps; "
                    "empty writes the factors alone",
    )

    @classmethod
    def poll(cls, context: Any) -> bool:
        return context.scene is not None and hasattr(context.scene, "blurd")

    def invoke(self, context: Any, event: Any) -> set[str]:
        if not self.filepath:
            self.filepath = "blurd_factors" + self.filename_ext
        return ExportHelper.invoke(self, context, event)

    def execute(self, context: Any) -> set[str]:
        path = Path(bpy.path.abspath(self.filepath))
        values = properties.factor_values(context.scene.blurd)
        name = self.preset_name.strip() or path.stem
        try:
            if self.base_preset:
                base = load_preset(bpy.path.abspath(self.base_preset))
                write_preset(path, with_factors(base, values, name=name))
            else:
                write_preset(path, values, name=name, description="Factors exported from Blender")
        except (BlurdError, OSError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"BLURD preset written to {path}")
        return {"FINISHED"}


class BLURD_OT_preset_import(Operator, ImportHelper):
    """Set the scene's factors from a BLURD preset file (.toml/.json); factors the preset sweeps are set to their
    defaults"""

    bl_idname = "blurd.preset_import"
    bl_label = "Import BLURD Preset"
    bl_options = {"REGISTER", "UNDO"}

    filter_glob: StringProperty(default="*.toml;*.json", options={"HIDDEN"})  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: Any) -> bool:
        return context.scene is not None and hasattr(context.scene, "blurd")

    def execute(self, context: Any) -> set[str]:
        try:
            preset = load_preset(bpy.path.abspath(self.filepath))
            properties.set_factor_values(context.scene.blurd, preset.factors)
        except BlurdError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        swept = ", ".join(preset.grid.sweep)
        note = f"; swept factors at their defaults: {swept}" if swept else ""
        self.report({"INFO"}, f"BLURD preset {preset.name!r} loaded{note}")
        return {"FINISHED"}


def _draw_import(menu: Any, _context: Any) -> None:
    menu.layout.operator(BLURD_OT_preset_import.bl_idname, text="BLURD Preset (.toml/.json)")


def _draw_export(menu: Any, _context: Any) -> None:
    menu.layout.operator(BLURD_OT_preset_export.bl_idname, text="BLURD Preset (.toml)")


classes: tuple[type, ...] = (
    BLURD_MT_factor_presets,
    BLURD_OT_factor_preset_add,
    BLURD_OT_factors_reset,
    BLURD_OT_preset_export,
    BLURD_OT_preset_import,
)

menu_entries: tuple[tuple[str, Any], ...] = (
    ("TOPBAR_MT_file_import", _draw_import),
    ("TOPBAR_MT_file_export", _draw_export),
)

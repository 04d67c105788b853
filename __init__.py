"""BLURD studio: a Blender extension that renders a procedural human from twenty factors of variation.

This file only registers the Blender side. Each module in MODULES exposes ``classes`` (registered in order) and
may expose ``scene_properties() -> {name: bpy.props property}`` (added to bpy.types.Scene) and ``menu_entries``
(``(menu class name, draw function)`` pairs appended to Blender menus). ``unregister`` undoes all of it in
reverse. Modules are imported when registering, so the pure packages (``factors``, ``presets``) import without bpy.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .factors.errors import BlurdError  # the one error base class: `from blurd import BlurdError` catches them all

# Registration order: property groups before the operators and panels that use them. One line per module.
MODULES: tuple[str, ...] = (
    "operators.properties",
    "operators.scene_context",
    "operators.presets",
    "operators.render",
    "operators.batch",
    "operators.bindings",
    "operators.human",
    "preferences",
    "operators.worker",
    "operators.generate",
    "panels.factors",
    "panels.output",
    "panels.bindings",
    "panels.diffusion",
)

__all__ = ["BlurdError", "MODULES", "register", "unregister"]

_registered: list[tuple[ModuleType, list[type], list[str], list[tuple[str, object]]]] = []


def _module(name: str) -> ModuleType:
    return importlib.import_module(f".{name}", __package__)


def register() -> None:
    """Register every module's classes, then its Scene properties and menu entries."""
    import bpy

    if _registered:  # Blender never does this, but a script calling register() twice must not double up
        unregister()
    try:
        for name in MODULES:
            module = _module(name)
            done: tuple[ModuleType, list[type], list[str], list[tuple[str, object]]] = (module, [], [], [])
            _registered.append(done)
            for cls in getattr(module, "classes", ()):
                if cls.__doc__ and "bl_description" not in vars(cls):  # the docstring is the tooltip, as one line
                    cls.bl_description = " ".join(cls.__doc__.split())
                bpy.utils.register_class(cls)
                done[1].append(cls)
            scene_properties = getattr(module, "scene_properties", None)
            for prop_name, prop in (scene_properties() if scene_properties else {}).items():
                setattr(bpy.types.Scene, prop_name, prop)
                done[2].append(prop_name)
            for menu_name, draw in getattr(module, "menu_entries", ()):
                getattr(bpy.types, menu_name).append(draw)
                done[3].append((menu_name, draw))
    except Exception:
        unregister()  # leave Blender as it was, then show the error
        raise


def unregister() -> None:
    """Undo register() exactly, in reverse order."""
    import bpy

    while _registered:
        _module_done, classes, scene_props, menus = _registered.pop()
        for menu_name, draw in reversed(menus):
            menu = getattr(bpy.types, menu_name, None)
            if menu is not None:
                menu.remove(draw)
        for prop_name in reversed(scene_props):
            if hasattr(bpy.types.Scene, prop_name):
                delattr(bpy.types.Scene, prop_name)
        for cls in reversed(classes):
            bpy.utils.unregister_class(cls)

"""The factor PropertyGroup on ``Scene.blurd``: one Blender property per factor, generated from factors.FACTORS.

Categorical and colour factors become enums with exactly the schema's values; colour factors also get a derived,
read-only ``<name>_rgb`` colour so the sidebar shows what the name means. Numeric factors become float properties
within the factor's range (angles in the UI's rotation unit, stored as radians the Blender way).
Changing any factor calls ``scene.live.on_factors_changed(scene, values)``, the scene-binding hook.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bpy.props import EnumProperty, FloatProperty, FloatVectorProperty, PointerProperty
from bpy.types import PropertyGroup

from ..factors import FACTORS, Factor, FactorKind, validate_assignment
from ..scene import live

RGB_SUFFIX = "_rgb"  # the derived colour shown beside a colour factor's enum
NUMERIC_DECIMALS = 3  # Blender floats are 32-bit: factor values round-trip to 1/1000 of their unit

# Unit of a factor -> Blender property subtype, so Blender formats and converts the value as it does its own.
_SUBTYPE_BY_UNIT = {"degrees": "ANGLE", "mm": "DISTANCE_CAMERA", "K": "TEMPERATURE"}

_suspended = 0  # >0 while several factors are set at once: the scene hook runs once afterwards, not per factor


def value_label(value: Any) -> str:
    """How a factor value reads in the UI: ``short_combed`` -> ``Short combed``."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def _stored(factor: Factor, value: Any) -> Any:
    """A canonical factor value as the Blender property stores it."""
    if factor.is_numeric:
        number = float(value)
        return math.radians(number) if factor.kind is FactorKind.ANGLE else number
    return str(value)


def _factor_value(factor: Factor, stored: Any) -> Any:
    """A Blender property's value as the canonical factor value (the inverse of ``_stored``)."""
    if factor.is_numeric:
        number = math.degrees(stored) if factor.kind is FactorKind.ANGLE else float(stored)
        rounded = round(number, NUMERIC_DECIMALS)
        return int(rounded) if rounded == int(rounded) else rounded
    return stored


def factor_values(props: Any) -> dict[str, Any]:
    """The complete, canonical factor assignment held by a BLURD_FactorProperties (``scene.blurd``)."""
    raw = {f.name: _factor_value(f, getattr(props, f.name)) for f in FACTORS}
    return validate_assignment(raw, complete=True)


def set_factor_values(props: Any, values: Mapping[str, Any]) -> None:
    """Set the given factors (validated first, so nothing changes on a bad value); the scene hook runs once."""
    canonical = validate_assignment(values)
    by_name = {f.name: f for f in FACTORS}
    with updates_suspended():
        for name, value in canonical.items():
            setattr(props, name, _stored(by_name[name], value))
    notify_factors_changed(props.id_data)


def begin_bulk_update() -> None:
    """Hold back the per-property scene hook while many factors change (presets, import)."""
    global _suspended
    _suspended += 1


def end_bulk_update(scene: Any) -> None:
    """End a bulk update; the scene hook then runs once with the final factors."""
    global _suspended
    _suspended = max(0, _suspended - 1)
    notify_factors_changed(scene)


@contextmanager
def updates_suspended() -> Iterator[None]:
    """begin_bulk_update() ... end_bulk_update() around a block, without the final notification."""
    global _suspended
    _suspended += 1
    try:
        yield
    finally:
        _suspended = max(0, _suspended - 1)


def notify_factors_changed(scene: Any) -> None:
    """Call the scene-binding hook with the scene's current factors (no-op while updates are suspended)."""
    if _suspended or scene is None or not hasattr(scene, "blurd"):
        return
    try:
        values = factor_values(scene.blurd)
    except Exception as exc:  # noqa: BLE001 - an update callback must not raise: the Bindings panel shows it
        live.report_error(scene, exc)
        return
    live.on_factors_changed(scene, values)


def _on_factor_update(self: Any, context: Any) -> None:
    notify_factors_changed(self.id_data if self.id_data is not None else context.scene)


def _enum_property(factor: Factor) -> Any:
    items = [(str(v), value_label(v), f"{factor.label}: {value_label(v)}") for v in factor.values]
    return EnumProperty(name=factor.label, description=factor.description, items=items,
                        default=str(factor.default), update=_on_factor_update)


def _numeric_property(factor: Factor) -> Any:
    lo, hi = factor.value_range or (-1e9, 1e9)
    subtype = _SUBTYPE_BY_UNIT.get(factor.unit, "NONE")
    unit_hint = f" ({factor.unit})" if factor.unit and subtype == "NONE" else ""
    return FloatProperty(
        name=factor.label, description=factor.description + unit_hint, subtype=subtype,
        default=_stored(factor, factor.default), min=_stored(factor, lo), max=_stored(factor, hi),
        precision=1 if factor.kind is FactorKind.ANGLE else 0, step=100,
        update=_on_factor_update,
    )


def _rgb_getter(factor: Factor):
    def get(self: Any) -> tuple[float, float, float]:
        return factor.rgb(getattr(self, factor.name)) or (0.0, 0.0, 0.0)

    return get


def _rgb_property(factor: Factor) -> Any:
    return FloatVectorProperty(
        name=f"{factor.label} swatch", description=f"The colour the chosen {factor.label.lower()} means (read-only)",
        subtype="COLOR_GAMMA", size=3, min=0.0, max=1.0, get=_rgb_getter(factor),
    )


def _annotations() -> dict[str, Any]:
    annotations: dict[str, Any] = {}
    for factor in FACTORS:
        if factor.is_numeric:
            annotations[factor.name] = _numeric_property(factor)
        else:
            annotations[factor.name] = _enum_property(factor)
        if factor.kind is FactorKind.COLOUR:
            annotations[factor.name + RGB_SUFFIX] = _rgb_property(factor)
    return annotations


# Built with type() so the table in factors/schema.py stays the only list of factors.
BLURD_FactorProperties = type(
    "BLURD_FactorProperties",
    (PropertyGroup,),
    {
        "__doc__": "The twenty factors of variation of the BLURD human on this scene",
        "__module__": __name__,
        "__annotations__": _annotations(),
    },
)

classes: tuple[type, ...] = (BLURD_FactorProperties,)


def scene_properties() -> dict[str, Any]:
    """Properties the extension adds to bpy.types.Scene."""
    return {"blurd": PointerProperty(type=BLURD_FactorProperties, name="BLURD factors",
                                     description="Factors of variation of the BLURD human")}


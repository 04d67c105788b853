"""Blender properties made from a settings table (factors.fields), and the values read back from them.

The sidebar's Diffusion properties are generated from ``diffusion.settings.SETTING_FIELDS`` the way the factor
properties are generated from the factor table, so a new setting is one line in that table: its type gives the
Blender property, its range the limits, its ``doc`` the tooltip and its ``label`` the name.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, IntVectorProperty, StringProperty

from ..diffusion.settings import DeviceField
from ..factors.fields import (
    BoolField,
    ChoiceField,
    Field,
    FloatField,
    IntField,
    SeedField,
    SizeField,
    TextField,
)

NO_SEED = -1  # a SeedField's "none": each sample's own seed
FLOAT_DECIMALS = 4  # Blender floats are float32: 0.2 comes back as 0.200000003


def field_label(name: str, field: Field) -> str:
    return field.label or name.replace("_", " ").capitalize()


def _enum_items(values: list[str]) -> list[tuple[str, str, str]]:
    return [(v, v.replace("_", " ").title() if v != "auto" else "Auto", "") for v in values]


def blender_property(name: str, field: Field, default: Any) -> Any:
    """The bpy property holding one setting (its default is the settings dataclass's)."""
    common = {"name": field_label(name, field), "description": field.doc}
    if isinstance(field, BoolField):
        return BoolProperty(default=bool(default), **common)
    if isinstance(field, IntField):
        return IntProperty(default=default, min=field.lo, max=field.hi, **common)
    if isinstance(field, FloatField):
        return FloatProperty(default=default, min=field.lo, max=field.hi, **common)
    if isinstance(field, ChoiceField):
        return EnumProperty(items=_enum_items([str(m.value) for m in field.enum]), default=default.value, **common)
    if isinstance(field, DeviceField):
        return EnumProperty(items=_enum_items(list(field.choices)), default=default, **common)
    if isinstance(field, SizeField):
        return IntVectorProperty(size=2, default=tuple(default), min=field.lo, max=field.hi, step=field.multiple,
                                 **common)
    if isinstance(field, SeedField):
        return IntProperty(default=NO_SEED if default is None else default, min=NO_SEED, max=2**31 - 1,
                           **(common | {"description": f"{field.doc} ({NO_SEED}: each sample's own seed)"}))
    if isinstance(field, TextField):
        return StringProperty(default=default or "", **common)
    raise TypeError(f"no Blender property for {type(field).__name__} (setting {name!r}); add one here")


def property_annotations(fields: Mapping[str, Field], defaults: Any) -> dict[str, Any]:
    """``{name: bpy property}`` for a PropertyGroup's ``__annotations__``, one per field."""
    return {name: blender_property(name, field, getattr(defaults, name)) for name, field in fields.items()}


def value_of(props: Any, name: str, field: Field) -> Any:
    """One setting's value as a preset file would write it (checked afterwards by the same table)."""
    value = getattr(props, name)
    if isinstance(field, SizeField):
        return list(value)
    if isinstance(field, SeedField):
        return None if value == NO_SEED else value
    if isinstance(field, TextField) and field.optional:
        return value or None
    if isinstance(value, float):
        return round(value, FLOAT_DECIMALS)
    return value.value if isinstance(value, Enum) else value


def values_from_properties(props: Any, fields: Mapping[str, Field]) -> dict[str, Any]:
    return {name: value_of(props, name, field) for name, field in fields.items()}


def groups(fields: Mapping[str, Field]) -> dict[str, list[str]]:
    """Setting names by heading, in table order (the sidebar draws one column per heading)."""
    out: dict[str, list[str]] = {}
    for name, field in fields.items():
        out.setdefault(field.group, []).append(name)
    return out

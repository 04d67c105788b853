"""The twenty factors of variation: one table that the UI, presets, scene bindings, prompts and metrics all read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

Value = str | int | float
RGB = tuple[float, float, float]


class FactorKind(StrEnum):
    """How a factor's values behave: named choices, named colours, an angle in degrees, or a number."""

    CATEGORICAL = "categorical"
    COLOUR = "colour"
    ANGLE = "angle"
    NUMBER = "number"


class FactorGroup(StrEnum):
    """Sidebar sections, in display order."""

    IDENTITY = "Identity"
    HAIR_AND_FACE = "Hair and face"
    CLOTHING = "Clothing"
    MAKEUP = "Make-up"
    ENVIRONMENT = "Environment"
    CAMERA_AND_LIGHT = "Camera and light"


# The ten named colours of the authors' code, as linear-ish sRGB display values in 0..1.
COLOURS: Mapping[str, RGB] = MappingProxyType(
    {
        "white": (0.90, 0.90, 0.90),
        "black": (0.02, 0.02, 0.02),
        "red": (0.80, 0.05, 0.05),
        "orange": (0.90, 0.40, 0.05),
        "yellow": (0.90, 0.80, 0.05),
        "green": (0.10, 0.60, 0.10),
        "cyan": (0.05, 0.75, 0.80),
        "blue": (0.05, 0.15, 0.80),
        "violet": (0.45, 0.15, 0.75),
        "magenta": (0.85, 0.10, 0.65),
    }
)
TEN_COLOURS: tuple[str, ...] = tuple(COLOURS)

EYE_COLOURS: Mapping[str, RGB] = MappingProxyType(
    {"brown": (0.25, 0.12, 0.04), "blue": (0.20, 0.40, 0.75), "green": (0.20, 0.50, 0.25)}
)
EYEBROW_COLOURS: Mapping[str, RGB] = MappingProxyType(
    {"black": (0.02, 0.02, 0.02), "brown": (0.22, 0.12, 0.05), "blonde": (0.75, 0.60, 0.35), "grey": (0.50, 0.50, 0.50)}
)
NONE = "none"


@dataclass(frozen=True)
class Factor:
    """One factor of variation: its key, label, kind, allowed values, default and (for colours) RGB per name.

    ``values`` are the schema's default values (the sweepable set). Numeric kinds also accept any value in
    ``value_range``; categorical and colour kinds accept only ``values``.
    """

    name: str
    label: str
    kind: FactorKind
    values: tuple[Value, ...]
    default: Value
    group: FactorGroup
    description: str
    colours: Mapping[str, RGB] = field(default_factory=dict)
    value_range: tuple[float, float] | None = None
    unit: str = ""
    part: str | None = None  # the mask part a colour factor paints (control-fidelity checks read this)

    def __post_init__(self) -> None:
        if self.default not in self.values:
            raise AssertionError(f"factor {self.name}: default {self.default!r} not among its values")
        if self.kind is FactorKind.COLOUR:
            missing = [v for v in self.values if v != NONE and v not in self.colours]
            if missing:
                raise AssertionError(f"factor {self.name}: no RGB for {missing}")

    @property
    def is_numeric(self) -> bool:
        return self.kind in (FactorKind.ANGLE, FactorKind.NUMBER)

    def rgb(self, value: str) -> RGB | None:
        """The RGB a colour value means, or None for ``none`` (no make-up) and non-colour factors."""
        return self.colours.get(value) if self.kind is FactorKind.COLOUR else None


def _colour(name: str, label: str, group: FactorGroup, description: str, *, part: str, values=None,
            colours=COLOURS, default: str | None = None, with_none: bool = False) -> Factor:
    names = tuple(values if values is not None else colours)
    if with_none:
        names = (NONE, *names)
    return Factor(name, label, FactorKind.COLOUR, names, default if default is not None else names[0], group,
                  description, colours=MappingProxyType(dict(colours)), part=part)


_EYEBROW_ALL = MappingProxyType({**EYEBROW_COLOURS, **COLOURS})  # "black" means the same in both

FACTORS: tuple[Factor, ...] = (
    Factor("age", "Age", FactorKind.NUMBER, (30, 70), 30, FactorGroup.IDENTITY,
           "Apparent age in years: shape, skin and greying follow it", value_range=(18, 90), unit="years"),
    Factor("gender", "Gender", FactorKind.CATEGORICAL, ("male", "female"), "male", FactorGroup.IDENTITY,
           "Body and face proportions"),
    Factor("race", "Race", FactorKind.CATEGORICAL, ("caucasian", "asian", "hispanic", "african"), "caucasian",
           FactorGroup.IDENTITY, "Skin tone and facial proportions"),
    Factor("hair_style", "Hair style", FactorKind.CATEGORICAL,
           ("none", "buzzcut", "short_combed", "bald_top", "undercut", "bob_long", "afro_dreads"), "short_combed",
           FactorGroup.HAIR_AND_FACE, "Hair geometry; none is bald"),
    Factor("beard_style", "Beard style", FactorKind.CATEGORICAL, ("none", "full_beard"), "none",
           FactorGroup.HAIR_AND_FACE, "Facial hair geometry"),
    _colour("hair_color", "Hair colour", FactorGroup.HAIR_AND_FACE, "Colour of the scalp hair", part="hair",
            default="black"),
    _colour("beard_color", "Beard colour", FactorGroup.HAIR_AND_FACE, "Colour of the beard", part="beard",
            default="black"),
    _colour("eye_color", "Eye colour", FactorGroup.HAIR_AND_FACE, "Iris colour", part="eyes", colours=EYE_COLOURS),
    _colour("eyebrow_color", "Eyebrow colour", FactorGroup.HAIR_AND_FACE, "Colour of the eyebrows", part="eyebrows",
            colours=_EYEBROW_ALL, values=(*EYEBROW_COLOURS, *(c for c in COLOURS if c not in EYEBROW_COLOURS))),
    _colour("shirt_color", "Shirt colour", FactorGroup.CLOTHING, "Colour of the shirt", part="shirt",
            default="white"),
    _colour("tie_color", "Tie colour", FactorGroup.CLOTHING, "Colour of the tie", part="tie", default="blue"),
    _colour("eyeshadow_color", "Eyeshadow colour", FactorGroup.MAKEUP, "Eyeshadow on the upper eyelids; none for bare",
            part="skin", with_none=True),
    _colour("eyeliner_color", "Eyeliner colour", FactorGroup.MAKEUP, "Eyeliner along the lash line; none for bare",
            part="skin", with_none=True),
    _colour("lipstick_color", "Lipstick colour", FactorGroup.MAKEUP, "Lipstick; none for natural lips", part="lips",
            with_none=True),
    Factor("world_background", "Background", FactorKind.CATEGORICAL, ("studio", "daylight", "sunset", "indoor"),
           "studio", FactorGroup.ENVIRONMENT, "Environment lighting and backdrop"),
    Factor("world_rotation", "Background rotation", FactorKind.ANGLE, (0, 45, 90), 0, FactorGroup.ENVIRONMENT,
           "Rotation of the environment around the vertical axis", value_range=(-360, 360), unit="degrees"),
    Factor("camera_angle", "Camera angle", FactorKind.ANGLE, (-30, -15, 0, 15, 30), 0, FactorGroup.CAMERA_AND_LIGHT,
           "Camera yaw around the head; positive is the subject's left", value_range=(-90, 90), unit="degrees"),
    Factor("focal_length", "Focal length", FactorKind.NUMBER, (35, 50, 85), 50, FactorGroup.CAMERA_AND_LIGHT,
           "Lens focal length; the camera distance keeps the head framed", value_range=(12, 300), unit="mm"),
    Factor("light_strength", "Light strength", FactorKind.CATEGORICAL, ("low", "medium", "high"), "medium",
           FactorGroup.CAMERA_AND_LIGHT, "Key light power"),
    Factor("light_warmth", "Light warmth", FactorKind.NUMBER, (3200, 4500, 5600, 6500), 5600,
           FactorGroup.CAMERA_AND_LIGHT, "Key light colour temperature (blackbody)", value_range=(1000, 12000),
           unit="K"),
)

FACTOR_BY_NAME: Mapping[str, Factor] = MappingProxyType({f.name: f for f in FACTORS})
FACTOR_NAMES: tuple[str, ...] = tuple(FACTOR_BY_NAME)


def default_assignment() -> dict[str, Value]:
    """A full assignment of every factor to its default value."""
    return {f.name: f.default for f in FACTORS}

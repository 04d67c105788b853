"""The diffusion modes (the paper's ablations): ONE table saying what each mode conditions on.

Everything else (worker, panel enum, batch ``--diffuse`` parsing, output names) reads ``MODES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import DiffusionError


class Condition(StrEnum):
    """One input a mode conditions on; ``pass_name`` is the sample pass it reads (dataset.layout.PASSES)."""

    TEXT = "text"
    DEPTH = "depth"
    NORMAL = "normal"
    PALETTE = "palette"
    INIT_IMAGE = "init_image"

    @property
    def pass_name(self) -> str | None:
        return _PASS_OF_CONDITION[self]


_PASS_OF_CONDITION = {
    Condition.TEXT: None,  # the prompt comes from sample.json's factors
    Condition.DEPTH: "depth",
    Condition.NORMAL: "normal",
    Condition.PALETTE: "palette",
    Condition.INIT_IMAGE: "rgb",
}


@dataclass(frozen=True)
class Mode:
    """A diffusion mode: its key (used in file names), label, description and the inputs it conditions on."""

    name: str
    label: str
    description: str
    conditions: frozenset[Condition]

    @property
    def uses_controlnets(self) -> bool:
        return Condition.DEPTH in self.conditions or Condition.NORMAL in self.conditions

    @property
    def uses_palette(self) -> bool:
        return Condition.PALETTE in self.conditions

    @property
    def uses_init_image(self) -> bool:
        return Condition.INIT_IMAGE in self.conditions


MODES: tuple[Mode, ...] = (
    Mode("unleashed", "Unleashed", "Text prompt only", frozenset({Condition.TEXT})),
    Mode(
        "tempered",
        "Tempered",
        "Text + depth and normal ControlNets",
        frozenset({Condition.TEXT, Condition.DEPTH, Condition.NORMAL}),
    ),
    Mode(
        "harbinger",
        "Harbinger",
        "Text + depth + normal + spatial palette colour conditioning + img2img from the render",
        frozenset({Condition.TEXT, Condition.DEPTH, Condition.NORMAL, Condition.PALETTE, Condition.INIT_IMAGE}),
    ),
)
MODE_BY_NAME: dict[str, Mode] = {m.name: m for m in MODES}


def get_mode(name: str) -> Mode:
    """The mode called ``name``; an unknown name is a DiffusionError listing the valid ones."""
    try:
        return MODE_BY_NAME[name.strip().lower()]
    except KeyError:
        raise DiffusionError(
            f"unknown diffusion mode {name!r}; use one of: {', '.join(MODE_BY_NAME)}"
        ) from None


def parse_modes(text: str) -> tuple[Mode, ...]:
    """Modes from a comma-separated list such as ``"unleashed,tempered,harbinger"`` (batch.py --diffuse)."""
    names = [part for part in (p.strip() for p in text.split(",")) if part]
    if not names:
        raise DiffusionError(f"no diffusion mode given; use a comma-separated list of: {', '.join(MODE_BY_NAME)}")
    modes = tuple(dict.fromkeys(get_mode(n) for n in names))
    return modes

"""How a colour factor's value becomes hair pigment (pure data; shading.py reads it, binding files repeat it).

Natural hair colours are melanin amounts, rendered by the Principled Hair BSDF's physically based melanin model so
they shade like real hair; every other named colour is a dye, rendered with the BSDF's direct colouring so the hair
stays the exact colour the factor names (the factor's RGB from factors/schema.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .styles import StrandPart


@dataclass(frozen=True)
class Pigment:
    """Principled Hair BSDF melanin inputs (0..1 each)."""

    melanin: float
    redness: float


# Which colour names of the factor tables are natural hair, and their pigment. Grey is a low melanin with a wide
# per-strand spread (the BSDF's Random Color), as real greying hair mixes pigmented and white strands.
NATURAL: dict[str, Pigment] = {
    "black": Pigment(0.95, 0.05),
    "brown": Pigment(0.72, 0.25),
    "blonde": Pigment(0.32, 0.35),
    "grey": Pigment(0.22, 0.02),
    "white": Pigment(0.04, 0.0),
}


@dataclass(frozen=True)
class Knobs:
    """Names of the Value/RGB nodes a binding file sets on a part's hair material (docs/bindings.md)."""

    material: str
    colour: str  # RGB: the dye colour (the factor's rgb)
    dye: str  # Value: 1 = direct colour (dyes), 0 = melanin (natural colours)
    melanin: str  # Value
    redness: str  # Value


KNOBS: dict[StrandPart, Knobs] = {
    StrandPart.HAIR: Knobs("BLURD_Hair", "Hair Colour", "Hair Dye", "Hair Melanin", "Hair Redness"),
    StrandPart.BEARD: Knobs("BLURD_Beard", "Beard Colour", "Beard Dye", "Beard Melanin", "Beard Redness"),
    StrandPart.EYEBROWS: Knobs("BLURD_Eyebrow", "Eyebrow Colour", "Eyebrow Dye", "Eyebrow Melanin",
                               "Eyebrow Redness"),
    StrandPart.EYELASHES: Knobs("BLURD_Eyelash", "Eyelash Colour", "Eyelash Dye", "Eyelash Melanin",
                                "Eyelash Redness"),
}


def binding_toml(factor: str, part: StrandPart, values: tuple[str, ...]) -> str:
    """The binding-file entries that drive ``part``'s hair material from the colour factor ``factor`` whose values
    are ``values``: the dye colour, whether it is a dye, and the melanin of the natural ones."""
    k = KNOBS[part]
    natural = [v for v in values if v in NATURAL]

    def table(pick, default: float) -> str:
        return "{ " + "".join(f"{v} = {pick(v)}, " for v in natural) + f"default = {default} }}"

    rules = ((k.colour, "rgb = true"), (k.dye, "values = " + table(lambda v: 0.0, 1.0)),
             (k.melanin, "values = " + table(lambda v: NATURAL[v].melanin, 0.5)),
             (k.redness, "values = " + table(lambda v: NATURAL[v].redness, 0.0)))
    lines = []
    for node, rule in rules:
        lines += [f"[[{factor}]]", f'material = "{k.material}"', f'node = "{node}"', rule, ""]
    return "\n".join(lines)

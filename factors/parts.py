"""The parts of the subject: one mask each, a label class and the object pass index that marks it.

The dataset layer (``blurd.dataset.layout``) names their mask files; the scene marks objects with the pass index.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Label(int, Enum):
    """Class ids of label.png (BLURD Mask, remappable to CelebAMask-HQ)."""

    BACKGROUND = 0
    SKIN = 1
    EYES = 2
    EYEBROWS = 3
    LIPS = 4
    HAIR = 5
    CLOTH = 6


@dataclass(frozen=True)
class Part:
    """A part of the subject with its own mask, its label class and the object pass index that marks it."""

    name: str
    label: Label
    pass_index: int


# pass_index 0 is reserved for "no object" (the background).
PARTS: tuple[Part, ...] = (
    Part("skin", Label.SKIN, 1),
    Part("eyes", Label.EYES, 2),
    Part("eyebrows", Label.EYEBROWS, 3),
    Part("lips", Label.LIPS, 4),
    Part("hair", Label.HAIR, 5),
    Part("beard", Label.HAIR, 6),
    Part("shirt", Label.CLOTH, 7),
    Part("tie", Label.CLOTH, 8),
    Part("background", Label.BACKGROUND, 0),
)
PART_BY_NAME = {p.name: p for p in PARTS}
PART_BY_PASS_INDEX = {p.pass_index: p for p in PARTS if p.pass_index > 0}  # rigs bound by pass index (0: none)
# The custom property that names an object's (or a material's) part; the masks read it (scene/part_tags.py).
PART_PROPERTY = "blurd_part"

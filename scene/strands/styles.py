"""What strands can be grown: the hair styles and facial hair of the factor table, and the mask part each belongs to.

The enum values are the factor values of ``hair_style`` and ``beard_style`` (factors/schema.py), so a factor value
converts with ``HairStyle(value)``.
"""

from __future__ import annotations

from enum import StrEnum


class HairStyle(StrEnum):
    NONE = "none"
    BUZZCUT = "buzzcut"
    SHORT_COMBED = "short_combed"
    BALD_TOP = "bald_top"
    UNDERCUT = "undercut"
    BOB_LONG = "bob_long"
    AFRO_DREADS = "afro_dreads"


class BeardStyle(StrEnum):
    NONE = "none"
    FULL_BEARD = "full_beard"


class StrandPart(StrEnum):
    """A strand object's mask part (factors/parts.py PARTS). Eyelashes belong to "eyes": they sit in the eye
    opening, CelebAMask-HQ's eye masks include them, and no colour factor paints them, so they never count as a
    colour change outside a factor's part."""

    HAIR = "hair"
    BEARD = "beard"
    EYEBROWS = "eyebrows"
    EYELASHES = "eyes"

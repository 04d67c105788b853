"""The pure core (``factors``) as the benchmark uses it, imported in one place."""

from __future__ import annotations

from ..factors import FACTOR_BY_NAME, FACTORS, canonical_value, captions, validate_assignment
from ..factors.errors import BlurdError

FACTOR_NAMES: tuple[str, ...] = tuple(f.name for f in FACTORS)

__all__ = [
    "FACTORS",
    "FACTOR_BY_NAME",
    "FACTOR_NAMES",
    "BlurdError",
    "canonical_value",
    "captions",
    "validate_assignment",
]

"""The pure core (``factors``) as the benchmark sees it, imported in ONE place.

Inside the extension package the core is the sibling subpackage (``..factors``); run on its own
(``python -m benchmark`` from the repository root, or the tests) it is the top-level ``factors`` package.
"""

from __future__ import annotations

try:
    from ..factors import FACTOR_BY_NAME, FACTORS, canonical_value, captions, layout, validate_assignment
    from ..factors.errors import BlurdError
except ImportError:  # "attempted relative import beyond top-level package": benchmark is top-level
    from factors import FACTOR_BY_NAME, FACTORS, canonical_value, captions, layout, validate_assignment
    from factors.errors import BlurdError

FACTOR_NAMES: tuple[str, ...] = tuple(f.name for f in FACTORS)

__all__ = [
    "FACTORS",
    "FACTOR_BY_NAME",
    "FACTOR_NAMES",
    "BlurdError",
    "canonical_value",
    "captions",
    "layout",
    "validate_assignment",
]

"""The factor schema, prompt and caption text, the sample grid and the dataset layout.

Pure Python: importable with neither bpy nor torch installed. Everything else in BLURD reads these tables.
"""

from .errors import FactorError
from .schema import COLOURS, FACTOR_BY_NAME, FACTORS, Factor, FactorKind, default_assignment
from .validate import canonical_value, validate_assignment

__all__ = [
    "COLOURS",
    "FACTORS",
    "FACTOR_BY_NAME",
    "Factor",
    "FactorError",
    "FactorKind",
    "canonical_value",
    "default_assignment",
    "validate_assignment",
]

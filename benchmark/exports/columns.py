"""Factor columns shared by the exports: one typed column per factor."""

from __future__ import annotations

from collections.abc import Sequence

from .._core import FACTOR_BY_NAME, FACTOR_NAMES
from ..dataset import SampleRecord


def factor_columns(samples: Sequence[SampleRecord]) -> dict[str, list[object]]:
    """Every factor's values over ``samples``: numbers stay numbers (ints when all integral), names stay strings."""
    out: dict[str, list[object]] = {}
    for name in FACTOR_NAMES:
        values = [s.factors[name] for s in samples]
        if FACTOR_BY_NAME[name].is_numeric:
            values = [int(v) for v in values] if all(float(v).is_integer() for v in values) else \
                [float(v) for v in values]
        else:
            values = [str(v) for v in values]
        out[name] = values
    return out

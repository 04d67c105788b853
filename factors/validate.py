"""Checking and canonicalising factor assignments, so ids and seeds never depend on how a value was typed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import FactorError
from .schema import FACTOR_BY_NAME, FACTOR_NAMES, Factor, Value, default_assignment


def _fmt(values) -> str:
    return ", ".join(str(v) for v in values)


def factor(name: str) -> Factor:
    """The factor called ``name``; an unknown name is an error listing every valid one."""
    try:
        return FACTOR_BY_NAME[name]
    except KeyError:
        raise FactorError(f"unknown factor {name!r}; valid factors are: {_fmt(FACTOR_NAMES)}") from None


def canonical_value(name: str, value: Any) -> Value:
    """``value`` as the canonical form the factor ``name`` stores (ints for integral numbers, lower-case names).

    Raises FactorError naming the factor, the bad value and the valid ones.
    """
    f = factor(name)
    if f.is_numeric:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise FactorError(f"factor {name!r}: {value!r} is not a number; use e.g. {f.values[0]}")
        try:
            number = float(value)
        except ValueError:
            raise FactorError(f"factor {name!r}: {value!r} is not a number; use e.g. {f.values[0]}") from None
        if not math.isfinite(number):
            raise FactorError(f"factor {name!r}: {value!r} is not a finite number")
        lo, hi = f.value_range or (-math.inf, math.inf)
        if not lo <= number <= hi:
            raise FactorError(f"factor {name!r}: {value!r} {f.unit} is outside {lo:g}..{hi:g}; "
                              f"the schema's values are {_fmt(f.values)}")
        rounded = round(number, 6)
        return int(rounded) if rounded == int(rounded) else rounded
    if not isinstance(value, str):
        raise FactorError(f"factor {name!r}: {value!r} is not a name; valid values are: {_fmt(f.values)}")
    key = value.strip().lower()
    if key not in f.values:
        raise FactorError(f"factor {name!r}: unknown value {value!r}; valid values are: {_fmt(f.values)}")
    return key


def validate_assignment(values: Mapping[str, Any], *, complete: bool = False) -> dict[str, Value]:
    """A canonical copy of ``values`` (a factor -> value mapping).

    With ``complete`` the result holds every factor, missing ones set to their defaults. Every problem is
    reported in one FactorError, so a user fixes a preset in one pass.
    """
    problems: list[str] = []
    out: dict[str, Value] = default_assignment() if complete else {}
    for name, value in values.items():
        try:
            out[name] = canonical_value(name, value)
        except FactorError as exc:
            problems.append(str(exc))
    if problems:
        raise FactorError("; ".join(problems))
    return {n: out[n] for n in FACTOR_NAMES if n in out}

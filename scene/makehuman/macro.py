"""MakeHuman's macrodetail weighting: how age, gender and race (and muscle, weight, height, proportions) weight the
macro targets. Pure Python; the numbers follow MakeHuman (see ../shared/HUMAN.md in the project notes).

A macro target's weight is the product of one weight per variable named in its file name, e.g.
``african-female-young`` = race[african] * gender[female] * age[young].
"""

from __future__ import annotations

from dataclasses import dataclass

from ...factors.errors import FactorError

MIN_AGE, MAX_AGE = 18.0, 90.0
# MakeHuman has no "hispanic" macro: a documented blend of the three it has
RACE_BLENDS: dict[str, dict[str, float]] = {
    "caucasian": {"caucasian": 1.0},
    "asian": {"asian": 1.0},
    "african": {"african": 1.0},
    "hispanic": {"caucasian": 0.5, "asian": 0.35, "african": 0.15},
}
GENDERS = {"male": 1.0, "female": 0.0}


class IdentityError(FactorError):
    """An age, gender or race the MakeHuman body cannot make."""


def age_slider(years: float) -> float:
    """MakeHuman's age slider: 1 y = 0, 11 y = 0.1875, 25 y = 0.5, 90 y = 1, piecewise linear."""
    return float(min(1.0, max(0.0, _interp(years, (1.0, 11.0, 25.0, 90.0), (0.0, 0.1875, 0.5, 1.0)))))


def _interp(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    if x <= xs[0]:
        return ys[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return ys[-1]


def age_weights(years: float) -> dict[str, float]:
    """Weights of the baby/child/young/old targets at ``years``: 30 y = 0.92 young + 0.08 old."""
    a = age_slider(years)
    if a < 0.1875:
        t = a / 0.1875
        return {"baby": 1.0 - t, "child": t, "young": 0.0, "old": 0.0}
    if a < 0.5:
        t = (a - 0.1875) / (0.5 - 0.1875)
        return {"baby": 0.0, "child": 1.0 - t, "young": t, "old": 0.0}
    t = (a - 0.5) / 0.5
    return {"baby": 0.0, "child": 0.0, "young": 1.0 - t, "old": t}


def three_way(value: float) -> dict[str, float]:
    """min/average/max weights of a 0..1 slider with 0.5 = average (muscle, weight)."""
    if value < 0.5:
        return {"min": 1.0 - value / 0.5, "average": value / 0.5, "max": 0.0}
    return {"min": 0.0, "average": 1.0 - (value - 0.5) / 0.5, "max": (value - 0.5) / 0.5}


def two_sided(value: float, low: str, high: str) -> dict[str, float]:
    """A 0..1 slider that applies nothing at 0.5: ``low`` ramps to 1 at 0, ``high`` to 1 at 1 (height, proportions)."""
    return {low: max(0.0, (0.5 - value) / 0.5), high: max(0.0, (value - 0.5) / 0.5)}


@dataclass(frozen=True)
class Macro:
    """MakeHuman macro variables of one person (sliders in 0..1 except age in years)."""

    age: float = 30.0
    gender: float = 1.0  # 1 = male, 0 = female
    race: tuple[tuple[str, float], ...] = (("caucasian", 1.0),)
    muscle: float = 0.5
    weight: float = 0.5
    height: float = 0.5
    proportions: float = 0.5

    @classmethod
    def from_factors(cls, age: float, gender: str, race: str, **sliders: float) -> Macro:
        """The macro variables for BLURD's age (18..90 years), gender and race factor values."""
        if not MIN_AGE <= float(age) <= MAX_AGE:
            raise IdentityError(f"age {age} is outside the MakeHuman body's adult range {MIN_AGE:g}..{MAX_AGE:g} "
                                f"years; choose an age in that range")
        if gender not in GENDERS:
            raise IdentityError(f"gender {gender!r} is not one of {', '.join(GENDERS)}")
        if race not in RACE_BLENDS:
            raise IdentityError(f"race {race!r} is not one of {', '.join(RACE_BLENDS)}")
        return cls(float(age), GENDERS[gender], tuple(sorted(RACE_BLENDS[race].items())), **sliders)


def target_weights(macro: Macro, names: list[str] | tuple[str, ...]) -> dict[str, float]:
    """The weight of every named macro target (those under 1e-6 left out)."""
    gender = {"male": macro.gender, "female": 1.0 - macro.gender}
    age = age_weights(macro.age)
    total = sum(w for _, w in macro.race) or 1.0
    race = {"african": 0.0, "asian": 0.0, "caucasian": 0.0, **{k: w / total for k, w in macro.race}}
    muscle = {f"{k}muscle": v for k, v in three_way(macro.muscle).items()}
    weight = {f"{k}weight": v for k, v in three_way(macro.weight).items()}
    height = two_sided(macro.height, "minheight", "maxheight")
    proportions = two_sided(macro.proportions, "uncommonproportions", "idealproportions")
    tables = (gender, age, race, muscle, weight, height, proportions)
    out = {}
    for name in names:
        parts = name.split("/")[-1].split("-")
        if name.startswith("faceunits/"):
            continue
        w = 1.0
        for part in parts:
            if part == "universal":
                continue
            table = next((t for t in tables if part in t), None)
            if table is None:
                w = 0.0
                break
            w *= table[part]
        if w > 1e-6:
            out[name] = w
    return out

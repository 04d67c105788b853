"""Stable sample ids and seeds: hashes of the canonical factor values, identical on every machine and Python.

An id hashes every factor value. A seed follows the preset's seed policy (``SeedPolicy``): by default it hashes
only the identity factors, so a controlled pair (two samples that differ in one colour, camera or light factor)
shares its render and diffusion noise and differs only where that factor acts.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import FactorError
from .schema import FACTOR_BY_NAME, FACTOR_NAMES
from .validate import validate_assignment

ID_LENGTH = 16  # hex digits: 64 bits, so a million samples collide with probability ~3e-8


def canonical_json(values: Mapping[str, Any]) -> str:
    """The complete, canonical factor assignment as compact JSON with sorted keys (what ids hash)."""
    return json.dumps(validate_assignment(values, complete=True), sort_keys=True, separators=(",", ":"))


def sample_id(values: Mapping[str, Any]) -> str:
    """The id of the sample with these factor values; missing factors count at their defaults."""
    return canonical_sample_id(validate_assignment(values, complete=True))


def canonical_sample_id(values: Mapping[str, Any]) -> str:
    """``sample_id`` for an assignment already complete and canonical (skips validation in hot loops)."""
    text = json.dumps(dict(values), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def sample_seed(sid: str, salt: int = 0) -> int:
    """A 32-bit seed derived from a sample id (and a preset-wide salt), for render noise and diffusion."""
    digest = hashlib.sha256(f"{sid}:{salt}".encode("ascii")).digest()
    return int.from_bytes(digest[:4], "big")


# ------------------------------------------------------------------------------------------------ the seed policy

SEED_PER_SAMPLE = "sample"  # seed_from value: every sample its own seed (the hash of its id), independent noise
# Who the person is. The default seed hashes only these, so the samples of one person share their render noise and
# diffusion noise: a pair that differs in a colour, background, camera or light factor differs only where that
# factor acts, while different people still get independent noise.
IDENTITY_FACTORS: tuple[str, ...] = ("age", "gender", "race", "hair_style", "beard_style")
DEFAULT_SEED_FROM: tuple[str, ...] = IDENTITY_FACTORS


@dataclass(frozen=True)
class SeedPolicy:
    """Which factors a sample's seed (Cycles noise and diffusion latent noise) hashes, plus a preset-wide salt.

    ``seed_from`` is a tuple of factor names (the seed hashes only their values, so samples that differ only in
    other factors share one seed; ``()`` gives every sample one seed) or ``SEED_PER_SAMPLE`` (the seed hashes the
    sample id: every sample its own noise, BLURD's behaviour before seed policies).
    """

    seed_from: tuple[str, ...] | str = DEFAULT_SEED_FROM
    salt: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.seed_from, str):
            if self.seed_from != SEED_PER_SAMPLE:
                raise FactorError(f"seed_from {self.seed_from!r} is neither a list of factor names nor "
                                  f"{SEED_PER_SAMPLE!r}; e.g. seed_from = {list(DEFAULT_SEED_FROM)}")
            return
        names = tuple(self.seed_from)
        for name in names:
            if name not in FACTOR_BY_NAME:
                close = difflib.get_close_matches(str(name), FACTOR_NAMES, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise FactorError(f"seed_from names unknown factor {name!r}; {hint}valid factors are: "
                                  f"{', '.join(FACTOR_NAMES)} (or write seed_from = {SEED_PER_SAMPLE!r})")
        if len(set(names)) != len(names):
            raise FactorError(f"seed_from lists a factor twice: {list(names)}; list each factor once")
        object.__setattr__(self, "seed_from", tuple(n for n in FACTOR_NAMES if n in names))  # schema order

    @property
    def per_sample(self) -> bool:
        return self.seed_from == SEED_PER_SAMPLE

    def seed(self, values: Mapping[str, Any], sid: str | None = None) -> int:
        """The seed of the sample with these complete, canonical factor values (and id, computed when None)."""
        if self.per_sample:
            return sample_seed(sid if sid is not None else canonical_sample_id(values), self.salt)
        picked = {name: values[name] for name in self.seed_from}
        text = json.dumps(picked, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"seed_from:{text}:{self.salt}".encode()).digest()
        return int.from_bytes(digest[:4], "big")

    def to_record(self) -> dict[str, Any]:
        """The policy as sample.json records it: ``{"seed_from": [...] | "sample", "salt": n}``."""
        return {"seed_from": self.seed_from if self.per_sample else list(self.seed_from), "salt": self.salt}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> SeedPolicy:
        """The policy a sample.json recorded; datasets made before seed policies had per-sample seeds."""
        if not record:
            return cls(SEED_PER_SAMPLE)
        raw = record.get("seed_from", SEED_PER_SAMPLE)
        return cls(raw if isinstance(raw, str) else tuple(raw), int(record.get("salt", 0)))

"""Stable sample ids and seeds: a hash of the canonical factor values, identical on every machine and Python."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

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

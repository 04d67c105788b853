"""Writing presets as TOML: a whole Preset (for a dataset's preset.toml and Export) or a factor assignment alone.

The output reads back with presets.reader to the same Preset (round trip), so a preset saved from Blender and
read by the batch gives the same factors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from ..dataset.files import write_text
from ..factors.errors import BlurdError
from ..factors.fields import dump_section
from ..factors.validate import validate_assignment
from .reader import FORMAT_VERSION, OUTPUT_FIELDS, RENDER_FIELDS, Preset


def _plain(value: Any) -> Any:
    """``value`` as TOML-writable data: enums by value, tuples as lists, paths as text, None dropped."""
    if isinstance(value, Enum):
        return _plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, PurePath):
        return value.as_posix()
    return value


def _diffusion_table(diffusion: Any) -> dict[str, Any]:
    to_mapping = getattr(diffusion, "to_mapping", None)
    return _plain(to_mapping() if callable(to_mapping) else diffusion)


def preset_to_mapping(preset: Preset) -> dict[str, Any]:
    """The data of a preset file for ``preset``; every non-swept factor is written, so defaults can't drift."""
    grid = preset.grid
    grid_table: dict[str, Any] = {"seed": grid.seed, "seed_salt": grid.seed_salt, "seed_from": grid.seed_from}
    if grid.samples is not None:
        grid_table["samples"] = grid.samples
    grid_table["sweep"] = {name: list(values) for name, values in grid.sweep.items()}
    grid_table["rules"] = [
        {key: {n: list(v) for n, v in getattr(rule, key).items()} for key in ("when", "allow", "deny")
         if getattr(rule, key)}
        for rule in grid.rules
    ]
    if not grid_table["rules"]:
        del grid_table["rules"]
    data = {
        "format": FORMAT_VERSION,
        "name": preset.name,
        "description": preset.description,
        "factors": {k: v for k, v in preset.factors.items() if k not in grid.sweep},
        "grid": grid_table,
        "render": dump_section(preset.render, RENDER_FIELDS),
        "diffusion": _diffusion_table(preset.diffusion),
        "output": dump_section(preset.output, OUTPUT_FIELDS),
    }
    return _plain(data)


def factors_to_mapping(values: Mapping[str, Any], name: str = "factors", description: str = "") -> dict[str, Any]:
    """The data of a factors-only preset file: all twenty factors, canonical, and nothing else."""
    return {"format": FORMAT_VERSION, "name": name, "description": description,
            "factors": validate_assignment(values, complete=True)}


def dump_preset(preset_or_factors: Preset | Mapping[str, Any], name: str | None = None,
                description: str | None = None) -> str:
    """TOML text of a Preset, or of a factors-only preset when given a factor assignment."""
    try:
        import tomli_w
    except ImportError:
        raise BlurdError("writing presets needs the tomli-w package; install it (pip install tomli-w) or install "
                         "the BLURD extension zip, which bundles it") from None
    if isinstance(preset_or_factors, Preset):
        data = preset_to_mapping(preset_or_factors)
        if name is not None:
            data["name"] = name
        if description is not None:
            data["description"] = description
    else:
        data = factors_to_mapping(preset_or_factors, name or "factors", description or "")
    return tomli_w.dumps(data)


def write_preset(path: str | Path, preset_or_factors: Preset | Mapping[str, Any], name: str | None = None,
                 description: str | None = None) -> Path:
    """Write ``dump_preset(...)`` to ``path`` atomically (temporary name in the same folder, then rename)."""
    path = Path(path)
    write_text(path, dump_preset(preset_or_factors, name, description))
    return path

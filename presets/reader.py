"""Reading preset files (TOML, or JSON with the same structure) into a checked, immutable Preset.

Everything is validated before any work starts: unknown keys (with the closest valid one suggested), wrong types,
out-of-range numbers, unknown factors or values, grid rules naming unknown factors or values, output paths that
would escape the output folder, and unknown format versions. Each error is a PresetError naming the file, the key
and the fix. The format is documented in docs/presets.md.
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..factors.errors import BlurdError, FactorError, PresetError
from ..factors.fields import (
    BoolField,
    ChoiceField,
    Field,
    IntField,
    RelativePathField,
    SizeField,
    Where,
    as_int,
    as_list,
    as_str,
    as_table,
    check_keys,
    parse_section,
    suggest,
)
from ..factors.grid import Grid, Rule
from ..factors.ids import DEFAULT_SEED_FROM, SEED_PER_SAMPLE
from ..factors.schema import FACTOR_NAMES, Value
from ..factors.validate import canonical_value, validate_assignment
from .settings import Device, HumanModel, OutputSettings, RenderSettings

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FORMATS = ("toml", "json")
TOP_LEVEL_KEYS = ("format", "name", "description", "factors", "grid", "render", "diffusion", "output")
GRID_KEYS = ("sweep", "rules", "samples", "seed", "seed_salt", "seed_from")
RULE_KEYS = ("when", "allow", "deny")
MAX_SAMPLES = 100_000_000
MAX_SEED = 2**32 - 1

# What [render] may hold (every RenderSettings field).
RENDER_FIELDS: Mapping[str, Field] = MappingProxyType({
    "resolution": SizeField(8, 16384, "image [width, height] in pixels"),
    "samples": IntField(1, 65536, "Cycles samples per pixel"),
    "denoise": BoolField("OpenImageDenoise on the rgb pass"),
    "device": ChoiceField(Device, "CPU or GPU (GPU falls back to CPU with a warning)"),
    "threads": IntField(0, 1024, "render threads; 0 = all cores"),
    "palette_cells": IntField(1, 256, "spatial palette cells along the short side"),
    "transparent_background": BoolField("render the background transparent"),
    "human": ChoiceField(HumanModel, "built-in human: makehuman (realistic) or lowpoly (the paper's ablation)"),
})
RENDER_FIELDS_NOT_IN_FILE: tuple[str, ...] = ()

# What [output] may hold. OutputSettings.extra is for programs, not preset files.
OUTPUT_FIELDS: Mapping[str, Field] = MappingProxyType({
    "folder": RelativePathField("dataset folder inside the output folder"),
    "contact_sheet": BoolField("write contact_sheet.png"),
    "contact_sheet_max": IntField(1, 10_000, "most thumbnails on the contact sheet"),
    "thumbnail_size": IntField(16, 2048, "contact sheet thumbnail size in pixels"),
    "keep_depth_exr": BoolField("keep the float depth.exr beside depth.png"),
})
OUTPUT_FIELDS_NOT_IN_FILE = ("extra",)


@dataclass(frozen=True)
class RawDiffusionSettings:
    """The [diffusion] table kept as read, for when diffusion/settings.py is not available to check it."""

    values: Mapping[str, Any]

    def to_mapping(self) -> dict[str, Any]:
        return dict(self.values)


@dataclass(frozen=True)
class Preset:
    """A checked preset: what to sweep, how to render and diffuse each sample, and how to write the dataset.

    ``factors`` is the complete canonical assignment of the non-swept factors (values the file fixes, defaults
    for the rest; swept factors show their default here). ``grid`` yields the samples.
    """

    name: str
    description: str
    factors: Mapping[str, Value]
    grid: Grid
    render: RenderSettings
    diffusion: Any  # diffusion.settings.DiffusionSettings (RawDiffusionSettings until that module exists)
    output: OutputSettings
    source: str = ""
    format: int = FORMAT_VERSION


def load_preset(path: str | Path) -> Preset:
    """The preset in ``path`` (.toml or .json), checked; raises PresetError naming the file, key and fix."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise PresetError(str(path), "", f"unknown preset file type {path.suffix!r}", "use a .toml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PresetError(str(path), "", "no such file", "check the path, e.g. presets/quick.toml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PresetError(str(path), "", f"cannot read the file ({exc})", "check it is a UTF-8 text file") from None
    return loads_preset(text, source=str(path), fmt=fmt)


def loads_preset(text: str, source: str = "<preset>", fmt: str = "toml") -> Preset:
    """The preset written in ``text`` (TOML or JSON); ``source`` names it in error messages."""
    data = _parse_text(text, source, fmt)
    return preset_from_mapping(data, source)


def _parse_text(text: str, source: str, fmt: str) -> Mapping[str, Any]:
    if "\x00" in text:
        raise PresetError(source, "", "the file holds a NUL character", "save it as plain UTF-8 text")
    if fmt == "toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PresetError(source, "", f"not valid TOML: {exc}", "fix the syntax at the place shown") from None
        except RecursionError:
            raise PresetError(source, "", "TOML nested too deeply", "a preset is a few flat tables") from None
    if fmt == "json":
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise PresetError(source, "", f"not valid JSON: {exc}", "fix the syntax at the place shown") from None
        except RecursionError:
            raise PresetError(source, "", "JSON nested too deeply", "a preset is a few flat tables") from None
        except _DuplicateKey as exc:
            raise PresetError(source, "", f"key {exc.args[0]!r} appears twice in one object",
                              "keep one of them (JSON would silently use the last)") from None
        return as_table(data, Where(source, ""))
    raise PresetError(source, "", f"unknown preset format {fmt!r}", f"use one of: {', '.join(FORMATS)}")


class _DuplicateKey(Exception):
    """A JSON object naming one key twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for key, value in pairs:
        if key in table:
            raise _DuplicateKey(key)
        table[key] = value
    return table


def preset_from_mapping(data: Mapping[str, Any], source: str = "<preset>") -> Preset:
    """A Preset from already-parsed data (the structure of a preset file)."""
    root = Where(source, "")
    check_keys(data, TOP_LEVEL_KEYS, root)
    _check_format(data, root)
    name = as_str(data.get("name", Path(source).stem or "preset"), root.child("name")).strip()
    if not name:
        raise root.child("name").error("the name is empty", 'give the preset a name, e.g. name = "my_faces"')
    description = as_str(data.get("description", ""), root.child("description"))
    fixed = _fixed_factors(data.get("factors", {}), root.child("factors"))
    grid = _grid(data.get("grid", {}), fixed, root.child("grid"))
    render = _render(data.get("render", {}), root.child("render"))
    output = OutputSettings(**parse_section(data.get("output", {}), OUTPUT_FIELDS, root.child("output")))
    diffusion = diffusion_settings(data.get("diffusion", {}), root.child("diffusion"))
    factors = validate_assignment(fixed, complete=True)
    return Preset(name, description, factors, grid, render, diffusion, output, source)


def _check_format(data: Mapping[str, Any], root: Where) -> None:
    where = root.child("format")
    if "format" not in data:
        raise where.error("missing the format version", f"add `format = {FORMAT_VERSION}` at the top of the file")
    version = data["format"]
    if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT_VERSION:
        raise where.error(f"unknown preset format version {version!r}",
                          f"this BLURD reads format = {FORMAT_VERSION}; update BLURD or convert the preset")


def _factor_name(name: Any, where: Where) -> str:
    if name not in FACTOR_NAMES:
        raise where.error(f"unknown factor {name!r}", suggest(str(name), FACTOR_NAMES).replace("keys", "factors"))
    return name


def _factor_value(name: str, value: Any, where: Where) -> Value:
    try:
        return canonical_value(name, value)
    except FactorError as exc:
        raise where.error(str(exc), "use one of the values listed (numbers within the range shown)") from None


def _fixed_factors(table: Any, where: Where) -> dict[str, Value]:
    table = as_table(table, where)
    return {_factor_name(k, where.child(k)): _factor_value(k, v, where.child(k)) for k, v in table.items()}


def _factor_values(raw: Any, name: str, where: Where) -> list[Value]:
    """A list of a factor's values (a single value counts as a one-item list), checked and de-duplicated."""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    values = [_factor_value(name, v, where.child(i) if isinstance(raw, (list, tuple)) else where)
              for i, v in enumerate(items)]
    if not values:
        raise where.error("lists no values", f"list at least one value of {name}, or remove the key")
    if len(set(values)) != len(values):
        raise where.error(f"lists a value twice: {values}", "list each value once")
    return values


def _factor_table(raw: Any, where: Where) -> dict[str, list[Value]]:
    table = as_table(raw, where)
    return {_factor_name(k, where.child(k)): _factor_values(v, k, where.child(k)) for k, v in table.items()}


def _rule(raw: Any, where: Where) -> Rule:
    table = as_table(raw, where)
    check_keys(table, RULE_KEYS, where)
    if "when" not in table:
        raise where.error("a rule needs 'when'", "write when = { gender = \"female\" }")
    if "allow" not in table and "deny" not in table:
        raise where.error("a rule needs 'allow' or 'deny'", "write e.g. allow = { beard_style = [\"none\"] }")
    parts = {key: _factor_table(table[key], where.child(key)) for key in RULE_KEYS if key in table}
    if not parts["when"]:
        raise where.child("when").error("names no factor", "write when = { gender = \"female\" }")
    return Rule(**parts)


def _grid(raw: Any, fixed: Mapping[str, Value], where: Where) -> Grid:
    table = as_table(raw, where)
    check_keys(table, GRID_KEYS, where)
    sweep = _factor_table(table.get("sweep", {}), where.child("sweep"))
    both = sorted(set(sweep) & set(fixed))
    if both:
        raise where.child("sweep").error(f"factor(s) {', '.join(both)} are both fixed in [factors] and swept",
                                         "remove them from [factors] or from [grid.sweep]")
    rules = [_rule(r, where.child("rules").child(i)) for i, r in enumerate(as_list(table.get("rules", []),
                                                                                  where.child("rules")))]
    samples = table.get("samples")
    if samples is not None:
        samples = as_int(samples, where.child("samples"), 1, MAX_SAMPLES)
    seed = as_int(table.get("seed", 0), where.child("seed"), 0, MAX_SEED)
    seed_salt = as_int(table.get("seed_salt", 0), where.child("seed_salt"), 0, MAX_SEED)
    seed_from = _seed_from(table.get("seed_from", DEFAULT_SEED_FROM), where.child("seed_from"))
    # The grid fixes every factor it does not sweep (defaults written out), so a preset written back with every
    # factor pinned reads as the same grid.
    pinned = {k: v for k, v in validate_assignment(fixed, complete=True).items() if k not in sweep}
    try:
        grid = Grid(fixed=pinned, sweep=sweep, rules=rules, samples=samples, seed=seed, seed_salt=seed_salt,
                    seed_from=seed_from)
        grid.check()  # an empty grid, or more samples than it holds, fails here (bounded time), not mid-sweep
    except BlurdError as exc:
        raise where.error(str(exc), "") from None
    return grid


def _seed_from(raw: Any, where: Where) -> tuple[str, ...] | str:
    """``[grid] seed_from``: a list of factor names, or "sample" (each sample its own seed)."""
    if isinstance(raw, str):
        if raw.lower() != SEED_PER_SAMPLE:
            raise where.error(f"unknown seed policy {raw!r}",
                              f'write a list of factor names, e.g. seed_from = {list(DEFAULT_SEED_FROM)}, or '
                              f'seed_from = "{SEED_PER_SAMPLE}" for independent noise per sample')
        return SEED_PER_SAMPLE
    names = as_list(raw, where)
    for i, name in enumerate(names):
        _factor_name(name, where.child(i))
    if len(set(names)) != len(names):
        raise where.error(f"lists a factor twice: {list(names)}", "list each factor once")
    return tuple(names)


def _render(raw: Any, where: Where) -> RenderSettings:
    render = RenderSettings(**parse_section(raw, RENDER_FIELDS, where))
    if render.palette_cells > min(render.resolution):
        raise where.child("palette_cells").error(
            f"{render.palette_cells} cells do not fit a {render.resolution[0]}x{render.resolution[1]} image",
            f"use at most {min(render.resolution)} cells (the short side in pixels)")
    return render


def diffusion_settings(raw: Any, where: Where) -> Any:
    """The [diffusion] table as diffusion.settings.DiffusionSettings (checked there), errors naming the preset.

    Until diffusion/settings.py exists the table is kept as RawDiffusionSettings, to be checked by the worker.
    """
    table = as_table(raw, where)
    try:
        from ..diffusion.settings import DiffusionSettings
    except ImportError as exc:
        log.warning("BLURD: diffusion settings module not available (%s); [diffusion] kept unchecked", exc)
        return RawDiffusionSettings(MappingProxyType(dict(table)))
    return DiffusionSettings.from_mapping(table, where.source)  # raises PresetError naming file and key


def with_factors(preset: Preset, values: Mapping[str, Any], name: str | None = None) -> Preset:
    """A copy of ``preset`` whose non-swept factors are ``values`` (e.g. the scene's current factors)."""
    canonical = validate_assignment(values, complete=True)
    fixed = {k: v for k, v in canonical.items() if k not in preset.grid.sweep}
    grid = replace(preset.grid, fixed=fixed, sweep={k: list(v) for k, v in preset.grid.sweep.items()})
    return replace(preset, name=name or preset.name, factors=validate_assignment(fixed, complete=True), grid=grid)

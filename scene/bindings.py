"""Factor bindings as data: a TOML file maps each factor (and its values) to scene targets, so the same factors drive
the built-in human or any user's rig. See docs/bindings.md for the format and a worked example.

A binding file has an optional ``[binding]`` table (name, format) and, per factor, an array of tables::

    [[hair_color]]
    material = "BLURD_Hair"      # the ID: object | material | world | collection | camera | light | node_group
    node = "Hair Colour"         # what: node (+ input, index) | shape_key | visible = true | path
    rgb = true                   # how the value becomes a number: rgb | values = {...} | points = [[x, y], ...]

Loading checks names against the factor schema (unknown factors and values are errors naming the file and key);
``Bindings.check`` checks that every target exists in a scene and lists every missing one in one error.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import bpy

from ..factors.errors import BlurdError, FactorError
from ..factors.schema import FACTOR_BY_NAME, Factor, FactorKind
from ..factors.validate import canonical_value, validate_assignment

BUILTIN_BINDINGS = Path(__file__).with_name("builtin_bindings.toml")
FORMAT_VERSION = 1
DEFAULT_KEY = "default"
TargetValue = float | bool | tuple[float, ...]


class BindingError(BlurdError):
    """A malformed binding file: the message names the file, the key and the fix."""


class MissingTargetsError(BindingError):
    """A binding file names scene targets that the scene does not have; ``missing`` lists every one."""

    def __init__(self, source: str, missing: list[str]) -> None:
        self.missing = missing
        lines = "\n  ".join(missing)
        super().__init__(f"{source}: {len(missing)} binding target(s) missing from the scene:\n  {lines}\n"
                         f"Rename the objects/materials/nodes in the scene or fix the names in the binding file.")


class IdKind(StrEnum):
    """Which ``bpy.data`` collection a target's ID lives in (``scene`` = the scene being driven)."""

    OBJECT = "object"
    MATERIAL = "material"
    WORLD = "world"
    COLLECTION = "collection"
    CAMERA = "camera"
    LIGHT = "light"
    NODE_GROUP = "node_group"
    SCENE = "scene"

    @property
    def data_attr(self) -> str:
        return {"object": "objects", "material": "materials", "world": "worlds", "collection": "collections",
                "camera": "cameras", "light": "lights", "node_group": "node_groups"}[self.value]


class TargetKind(StrEnum):
    NODE = "node"  # a node's input default_value (``input``), or its first output (RGB / Value nodes)
    SHAPE_KEY = "shape_key"  # an object's shape key value
    VISIBLE = "visible"  # an object's or collection's hide_render and hide_viewport (inverted)
    PATH = "path"  # any RNA property by data path from the ID, e.g. "data.lens" or "rotation_euler[2]"


_WHAT_KEYS = ("node", "shape_key", "visible", "path")
_RULE_KEYS = ("rgb", "values", "points")
_OPTION_KEYS = ("input", "index", "extrapolate")


@dataclass(frozen=True)
class Target:
    """One settable thing in a scene."""

    id_kind: IdKind
    id_name: str
    kind: TargetKind
    name: str = ""  # node name, shape key name or data path
    socket: str = ""  # node input name or identifier; empty = the node's first output
    index: int | None = None  # element of a vector/colour socket or array property

    def describe(self) -> str:
        who = "scene" if self.id_kind is IdKind.SCENE else f'{self.id_kind.value} "{self.id_name}"'
        if self.kind is TargetKind.NODE:
            what = f'node "{self.name}" ' + (f'input "{self.socket}"' if self.socket else "output")
        elif self.kind is TargetKind.SHAPE_KEY:
            what = f'shape key "{self.name}"'
        elif self.kind is TargetKind.VISIBLE:
            what = "visibility"
        else:
            what = f'property "{self.name}"'
        return f"{who} {what}" + (f"[{self.index}]" if self.index is not None else "")

    def _id(self, bl_scene: bpy.types.Scene):
        if self.id_kind is IdKind.SCENE:
            return bl_scene
        return getattr(bpy.data, self.id_kind.data_attr).get(self.id_name)

    def resolve(self, bl_scene: bpy.types.Scene) -> tuple[Any, str] | None:
        """(owner, attribute) to assign, or None when the scene lacks the target."""
        owner = self._id(bl_scene)
        if owner is None:
            return None
        if self.kind is TargetKind.NODE:
            tree = getattr(owner, "node_tree", None) if self.id_kind is not IdKind.NODE_GROUP else owner
            node = tree.nodes.get(self.name) if tree is not None else None
            if node is None:
                return None
            if not self.socket:
                return (node.outputs[0], "default_value") if node.outputs else None
            socket = next((s for s in node.inputs if s.identifier == self.socket), None) or node.inputs.get(self.socket)
            return (socket, "default_value") if socket is not None and hasattr(socket, "default_value") else None
        if self.kind is TargetKind.SHAPE_KEY:
            keys = getattr(getattr(owner, "data", None), "shape_keys", None)
            block = keys.key_blocks.get(self.name) if keys is not None else None
            return (block, "value") if block is not None else None
        if self.kind is TargetKind.VISIBLE:
            return (owner, "hide_render") if hasattr(owner, "hide_render") else None
        head, _, attr = self.name.rpartition(".")
        try:
            holder = owner.path_resolve(head) if head else owner
        except ValueError:
            return None
        return (holder, attr) if hasattr(holder, attr) else None

    def assign(self, bl_scene: bpy.types.Scene, value: TargetValue, where: str) -> None:
        resolved = self.resolve(bl_scene)
        if resolved is None:
            raise MissingTargetsError(where, [self.describe()])
        owner, attr = resolved
        try:
            if self.kind is TargetKind.VISIBLE:
                owner.hide_render = owner.hide_viewport = not bool(value)
                return
            if self.index is not None:
                getattr(owner, attr)[self.index] = value
                return
            current = getattr(owner, attr)
            if isinstance(value, tuple) and hasattr(current, "__len__") and len(current) == 4 and len(value) == 3:
                value = (*value, 1.0)  # RGB into an RGBA colour socket
            setattr(owner, attr, value)
        except (TypeError, ValueError, AttributeError) as exc:
            raise BindingError(f"{where}: cannot set {self.describe()} to {value!r} ({exc}); give a value of the "
                               f"target's type (a number, true/false, or rgb for colour inputs)") from None


@dataclass(frozen=True)
class Rule:
    """How a factor value becomes a target value: a per-value table, the factor's colour table, or a piecewise-linear
    curve through ``points`` (numbers). Table entries win over ``rgb``; ``default`` catches unlisted values."""

    table: Mapping[Any, TargetValue] = field(default_factory=dict)
    default: TargetValue | None = None
    rgb: bool = False
    points: tuple[tuple[float, float], ...] = ()
    extrapolate: bool = False

    def evaluate(self, factor: Factor, value: Any) -> TargetValue | None:
        """The target value for ``value``, or None to leave the target as it is (e.g. a colour for 'none')."""
        if value in self.table:
            return self.table[value]
        if self.rgb and factor.rgb(value) is not None:
            return tuple(float(c) for c in factor.rgb(value))
        if self.points:
            return _interpolate(self.points, float(value), self.extrapolate)
        return self.default


def _interpolate(points: tuple[tuple[float, float], ...], x: float, extrapolate: bool) -> float:
    xs = [p[0] for p in points]
    if len(points) == 1:
        return points[0][1]
    if extrapolate and (x < xs[0] or x > xs[-1]):
        (x0, y0), (x1, y1) = (points[0], points[1]) if x < xs[0] else (points[-2], points[-1])
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    x = min(max(x, xs[0]), xs[-1])
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


@dataclass(frozen=True)
class Binding:
    """One entry of a binding file: a factor, the targets it sets, and the rule giving their value."""

    factor: str
    targets: tuple[Target, ...]
    rule: Rule
    where: str  # "file:[[factor]] #n", for messages

    def apply(self, bl_scene: bpy.types.Scene, value: Any) -> None:
        result = self.rule.evaluate(FACTOR_BY_NAME[self.factor], value)
        if result is None:
            return
        for target in self.targets:
            target.assign(bl_scene, result, self.where)


@dataclass(frozen=True)
class Bindings:
    """A parsed binding file: every binding, in file order."""

    source: str
    name: str
    bindings: tuple[Binding, ...]

    @property
    def factors(self) -> tuple[str, ...]:
        """The factors this file binds (others leave the scene unchanged)."""
        return tuple(dict.fromkeys(b.factor for b in self.bindings))

    def targets(self) -> list[Target]:
        return list(dict.fromkeys(t for b in self.bindings for t in b.targets))

    def missing_targets(self, bl_scene: bpy.types.Scene) -> list[str]:
        """A description of every target the scene lacks (empty when the file fits the scene)."""
        return [t.describe() for t in self.targets() if t.resolve(bl_scene) is None]

    def check(self, bl_scene: bpy.types.Scene) -> None:
        """Raise MissingTargetsError listing every missing target, before anything is changed."""
        missing = self.missing_targets(bl_scene)
        if missing:
            raise MissingTargetsError(self.source, missing)

    def apply(self, bl_scene: bpy.types.Scene, values: Mapping[str, Any]) -> None:
        """Set every target bound to the factors in ``values`` (validated; factors not given are left alone)."""
        canonical = validate_assignment(values)
        self.check(bl_scene)
        for binding in self.bindings:
            if binding.factor in canonical:
                binding.apply(bl_scene, canonical[binding.factor])


# ----------------------------------------------------------------------------------------------------- loading


def load_bindings(path: str | Path | None = None) -> Bindings:
    """Parse a binding file (None = the built-in human's), checking every factor, value and key name."""
    path = Path(path) if path is not None else BUILTIN_BINDINGS
    if not path.is_file():
        raise BindingError(f"binding file {path} does not exist; point the extension at a .toml binding file "
                           f"(see docs/bindings.md)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BindingError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    return parse_bindings(data, str(path))


def parse_bindings(data: Mapping[str, Any], source: str) -> Bindings:
    """Bindings from an already-parsed TOML document; ``source`` names it in messages."""
    meta = data.get("binding", {})
    if not isinstance(meta, Mapping):
        raise BindingError(f"{source}: [binding] must be a table with name and format")
    version = meta.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise BindingError(f"{source}: [binding] format = {version!r} is not supported; use format = {FORMAT_VERSION}")
    problems: list[str] = []
    bindings: list[Binding] = []
    for key, entries in data.items():
        if key == "binding":
            continue
        if key not in FACTOR_BY_NAME:
            problems.append(f"{source}: [[{key}]] is not a factor; valid factors are: {', '.join(FACTOR_BY_NAME)}")
            continue
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            problems.append(f"{source}: {key} must be an array of tables, written [[{key}]]")
            continue
        for n, entry in enumerate(entries, 1):
            where = f"{source}: [[{key}]] #{n}"
            try:
                bindings.append(_parse_entry(FACTOR_BY_NAME[key], entry, where))
            except BindingError as exc:
                problems.append(str(exc))
    if problems:
        raise BindingError("\n".join(problems))
    return Bindings(source, str(meta.get("name", Path(source).stem)), tuple(bindings))


def _parse_entry(factor: Factor, entry: Mapping[str, Any], where: str) -> Binding:
    id_keys = [k for k in entry if k in IdKind._value2member_map_]
    what_keys = [k for k in entry if k in _WHAT_KEYS]
    unknown = [k for k in entry if k not in IdKind._value2member_map_ and k not in _WHAT_KEYS
               and k not in _RULE_KEYS and k not in _OPTION_KEYS]
    if unknown:
        raise BindingError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                           f"{', '.join([*IdKind._value2member_map_, *_WHAT_KEYS, *_RULE_KEYS, *_OPTION_KEYS])}")
    if len(id_keys) != 1:
        raise BindingError(f"{where}: give exactly one of {', '.join(IdKind._value2member_map_)} (found "
                           f"{', '.join(id_keys) or 'none'})")
    if len(what_keys) != 1:
        found = ", ".join(what_keys) or "none"
        raise BindingError(f"{where}: give exactly one of {', '.join(_WHAT_KEYS)} (found {found})")
    id_kind = IdKind(id_keys[0])
    names = entry[id_keys[0]]
    if id_kind is IdKind.SCENE:
        names = [""]
    elif isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(x, str) and x for x in names):
        raise BindingError(f"{where}: {id_keys[0]} must be a name or a list of names")
    kind = TargetKind(what_keys[0])
    if kind is TargetKind.VISIBLE:
        if entry["visible"] is not True or id_kind not in (IdKind.OBJECT, IdKind.COLLECTION):
            raise BindingError(f"{where}: write visible = true on an object or collection")
        label = ""
    else:
        label = entry[kind.value]
        if not isinstance(label, str) or not label:
            raise BindingError(f"{where}: {kind.value} must be a non-empty name")
    if kind is TargetKind.NODE and id_kind not in (IdKind.MATERIAL, IdKind.WORLD, IdKind.NODE_GROUP, IdKind.LIGHT):
        raise BindingError(f"{where}: node targets live in a material, world, light or node_group")
    if kind is TargetKind.SHAPE_KEY and id_kind is not IdKind.OBJECT:
        raise BindingError(f"{where}: shape_key targets need object = \"...\"")
    socket = entry.get("input", "")
    index = entry.get("index")
    if not isinstance(socket, str) or (socket and kind is not TargetKind.NODE):
        raise BindingError(f"{where}: input names a node input and goes with node = \"...\"")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise BindingError(f"{where}: index must be a whole number >= 0")
    targets = tuple(Target(id_kind, name, kind, label, socket, index) for name in names)
    rule = _parse_rule(factor, entry, where, visibility=kind is TargetKind.VISIBLE)
    return Binding(factor.name, targets, rule, where)


def _target_value(raw: Any, where: str, key: str, *, visibility: bool) -> TargetValue:
    if visibility:
        if not isinstance(raw, bool):
            raise BindingError(f"{where}: values.{key} must be true or false for a visibility target")
        return raw
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, (int, float)) and math.isfinite(raw):
        return float(raw)
    if isinstance(raw, list) and raw and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in raw):
        return tuple(float(c) for c in raw)
    raise BindingError(f"{where}: values.{key} = {raw!r} is not a number, a list of numbers or true/false")


def _parse_rule(factor: Factor, entry: Mapping[str, Any], where: str, *, visibility: bool) -> Rule:
    rgb = entry.get("rgb", False)
    if rgb not in (True, False):
        raise BindingError(f"{where}: rgb must be true or false")
    if rgb and factor.kind is not FactorKind.COLOUR:
        raise BindingError(f"{where}: rgb = true needs a colour factor; {factor.name} is {factor.kind.value}")
    table: dict[Any, TargetValue] = {}
    default = None
    raw_values = entry.get("values", {})
    if not isinstance(raw_values, Mapping):
        raise BindingError(f"{where}: values must be a table such as values = {{ {factor.values[0]} = 1.0 }}")
    for key, raw in raw_values.items():
        value = _target_value(raw, where, key, visibility=visibility)
        if key == DEFAULT_KEY:
            default = value
            continue
        try:
            table[canonical_value(factor.name, key)] = value
        except FactorError as exc:
            raise BindingError(f"{where}: values.{key}: {exc}") from None
    points = entry.get("points", [])
    if not isinstance(points, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(c, (int, float)) for c in p) for p in points):
        raise BindingError(f"{where}: points must be a list of [factor value, target value] pairs")
    if points and not factor.is_numeric:
        raise BindingError(f"{where}: points need a numeric factor; {factor.name} is {factor.kind.value}")
    points_t = tuple(sorted((float(a), float(b)) for a, b in points))
    extrapolate = entry.get("extrapolate", False)
    if extrapolate not in (True, False) or (extrapolate and len(points_t) < 2):
        raise BindingError(f"{where}: extrapolate = true needs at least two points")
    if not (rgb or table or points_t or default is not None):
        raise BindingError(f"{where}: say how values map: rgb = true, values = {{...}} or points = [[x, y], ...]")
    if not factor.is_numeric and not rgb and default is None:
        uncovered = [str(v) for v in factor.values if v not in table]
        if uncovered:
            raise BindingError(f"{where}: values has no entry for {', '.join(uncovered)}; add them or a default")
    # rgb with 'none' unlisted leaves the colour target as it is; an amount binding switches the colour off
    if factor.is_numeric and not points_t and default is None:
        raise BindingError(f"{where}: a numeric factor needs points = [[x, y], ...] or a values.default")
    return Rule(table, default, bool(rgb), points_t, bool(extrapolate))

"""Factor bindings as data: a TOML file maps each factor (and its values) to scene targets, so the same factors drive
the built-in human or any user's rig. See docs/bindings.md for the format and a worked example.

A binding file has an optional ``[binding]`` table (name, format) and, per factor, an array of tables::

    [[hair_color]]
    material = "BLURD_Hair"      # the ID: object | material | world | collection | camera | light | node_group | scene
    node = "Hair Colour"         # what: node (+ input, index) | shape_key | visible = true | path
    rgb = true                   # how the value becomes a number: rgb | values = {...} | points = [[x, y], ...]

or, for camera_angle and focal_length, one ``camera_orbit`` entry (scene/camera_orbit.py).

Loading checks names against the factor schema (unknown factors, values and keys are errors naming the file and
entry, with a "did you mean" when a name is close). ``Bindings.problems`` checks a scene: every missing target, every
index out of range and every value that does not fit its target (a colour into a number input, two numbers into a
colour), all listed in one error by ``Bindings.check`` before anything in the scene changes.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from ..factors.errors import BlurdError, FactorError
from ..factors.schema import FACTOR_BY_NAME, Factor, FactorKind
from ..factors.validate import canonical_value, validate_assignment
from .camera_orbit import ORBIT_FACTORS, CameraOrbit, Framing, OrbitDrive

BUILTIN_BINDINGS = Path(__file__).with_name("builtin_bindings.toml")
FORMAT_VERSION = 1
DEFAULT_KEY = "default"
TargetValue = float | bool | tuple[float, ...]


class BindingError(BlurdError):
    """A malformed binding file, or one that does not fit the scene: the message names the file, entry and fix."""


class MissingTargetsError(BindingError):
    """A binding file names scene targets that the scene does not have; ``missing`` lists every one."""

    def __init__(self, source: str, missing: list[str], others: Sequence[str] = ()) -> None:
        self.missing = missing
        lines = "\n  ".join(missing)
        text = (f"{source}: {len(missing)} binding target(s) missing from the scene:\n  {lines}\n"
                f"Rename the objects/materials/nodes in the scene or fix the names in the binding file.")
        if others:
            text += "\nAlso:\n  " + "\n  ".join(others)
        super().__init__(text)


SCENE_NAME_CUTOFF = 0.75  # scenes hold many unrelated names: hint only near-certain typos ("HairMatt", not "TieMat")


def did_you_mean(name: str, valid: Sequence[str], cutoff: float = 0.6) -> str:
    """' (did you mean 'x'?)' for a close valid name, else ''."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


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


ORBIT_KEY = "camera_orbit"
_ID_KEYS = tuple(kind.value for kind in IdKind)
_WHAT_KEYS = ("node", "shape_key", "visible", "path")
_RULE_KEYS = ("rgb", "values", "points")
_OPTION_KEYS = ("input", "index", "extrapolate")
_ORBIT_KEYS = ("pivot", "distance", "framing", "reference_lens", "elevation", "heading")
_ALL_KEYS = (*_ID_KEYS, *_WHAT_KEYS, *_RULE_KEYS, *_OPTION_KEYS, ORBIT_KEY, *_ORBIT_KEYS)
_INDEXED_PATH = re.compile(r"^(.*)\[(\d+)\]$")


def _length(value: Any) -> int | None:
    """How many numbers a property value holds (None for a single value)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return None
    try:
        return len(value)
    except TypeError:
        return None


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

    def missing(self, bl_scene: bpy.types.Scene) -> list[str]:
        """[what the scene lacks, with a "did you mean" for a close name in the scene] or [] when it has it."""
        return [self.describe() + self._closest(bl_scene)] if self.resolve(bl_scene) is None else []

    def _closest(self, bl_scene: bpy.types.Scene) -> str:
        """A hint naming the scene's closest name to the one that is missing (the first missing level only)."""
        owner = self._id(bl_scene)
        if owner is None:
            return did_you_mean(self.id_name, getattr(bpy.data, self.id_kind.data_attr).keys(), SCENE_NAME_CUTOFF)
        if self.kind is TargetKind.NODE:
            tree = getattr(owner, "node_tree", None) if self.id_kind is not IdKind.NODE_GROUP else owner
            if tree is None:
                return f" ({self.id_kind.value} has no nodes)"
            node = tree.nodes.get(self.name)
            if node is None:
                return did_you_mean(self.name, tree.nodes.keys(), SCENE_NAME_CUTOFF)
            return did_you_mean(self.socket, [i.name for i in node.inputs], SCENE_NAME_CUTOFF)
        if self.kind is TargetKind.SHAPE_KEY:
            keys = getattr(getattr(owner, "data", None), "shape_keys", None)
            return (did_you_mean(self.name, keys.key_blocks.keys(), SCENE_NAME_CUTOFF) if keys is not None
                    else " (it has no shape keys)")
        if self.kind is TargetKind.PATH:
            head, _, attr = self.name.rpartition(".")
            try:
                holder = owner.path_resolve(head) if head else owner
            except ValueError:
                return ""
            rna = getattr(holder, "bl_rna", None)
            return did_you_mean(attr, rna.properties.keys(), SCENE_NAME_CUTOFF) if rna is not None else ""
        return ""

    def value_problem(self, bl_scene: bpy.types.Scene, value: TargetValue) -> str | None:
        """Why ``value`` cannot go into this target (None when it fits, or when the target is missing)."""
        resolved = self.resolve(bl_scene)
        if resolved is None or self.kind is TargetKind.VISIBLE:
            return None
        owner, attr = resolved
        current = getattr(owner, attr)
        rna = getattr(owner, "bl_rna", None)
        prop = rna.properties.get(attr) if rna is not None else None
        if prop is not None and prop.is_readonly:
            return f"{self.describe()} is read-only; bind a property that can be set"
        size = _length(current)
        if self.index is not None:
            if size is None:
                return f"{self.describe()}: index {self.index} given, but the target holds a single value; remove index"
            if self.index >= size:
                return (f"{self.describe()}: index {self.index} is out of range; the target has {size} elements "
                        f"(index 0..{size - 1})")
            current, size = current[self.index], None
        if isinstance(current, str) or not (size is not None or isinstance(current, (int, float))):
            return f"{self.describe()} holds {type(current).__name__} values, not numbers; bind a number property"
        given = len(value) if isinstance(value, tuple) else None
        if size is None and given is not None:
            return (f"{self.describe()} takes one number, but the binding gives {given} (a colour or vector"
                    f"{', from rgb = true' if given == 3 else ''}); bind a colour/vector input, or give one number")
        if size is not None and given is None:
            return (f"{self.describe()} takes {size} numbers, but the binding gives one; give a list of {size} "
                    f"numbers, rgb = true for colours, or add index = N to set one element")
        if size is not None and given != size and not (size == 4 and given == 3):
            colour = " (a colour is [r, g, b] or [r, g, b, a])" if size == 4 else ""
            return f"{self.describe()} takes {size} numbers, but the binding gives {given}{colour}"
        return None

    def assign(self, bl_scene: bpy.types.Scene, value: TargetValue, where: str) -> None:
        resolved = self.resolve(bl_scene)
        if resolved is None:
            raise MissingTargetsError(where, [self.describe()])
        owner, attr = resolved
        try:
            if self.kind is TargetKind.VISIBLE:
                owner.hide_render = owner.hide_viewport = not bool(value)
                return
            if attr == "temperature" and hasattr(owner, "use_temperature"):
                owner.use_temperature = True  # a light's temperature only counts with "Use Temperature" on
            if self.index is not None:
                array = getattr(owner, attr)
                array[self.index] = _as_type(array[self.index], value)
                setattr(owner, attr, array)  # arrays read from RNA may be copies (Euler, Vector)
                return
            current = getattr(owner, attr)
            if isinstance(value, tuple) and _length(current) == 4 and len(value) == 3:
                value = (*value, 1.0)  # RGB into an RGBA colour socket
            setattr(owner, attr, _as_type(current, value))
        except (TypeError, ValueError, AttributeError, IndexError) as exc:
            raise BindingError(f"{where}: cannot set {self.describe()} to {value!r} ({exc}); give a value of the "
                               f"target's type (a number, true/false, or rgb for colour inputs)") from None


def _as_type(current: Any, value: TargetValue) -> Any:
    """``value`` converted to the kind of number the property holds (Blender refuses 1.0 for an int property)."""
    if isinstance(value, tuple):
        return value
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, int):
        return int(round(value))
    return value


@dataclass(frozen=True)
class ValueRule:
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

    def outputs(self) -> list[TargetValue]:
        """One of each shape of value this rule can give, to check against a target before applying."""
        found: list[TargetValue] = [*self.table.values()]
        if self.default is not None:
            found.append(self.default)
        if self.rgb:
            found.append((0.5, 0.5, 0.5))
        if self.points:
            found.append(self.points[0][1])
        shapes: dict[Any, TargetValue] = {}
        for value in found:
            shapes.setdefault(len(value) if isinstance(value, tuple) else type(value).__name__, value)
        return list(shapes.values())


IDENTITY = ValueRule(points=((0.0, 0.0), (1.0, 1.0)), extrapolate=True)  # the factor's own value (camera orbits)


def _interpolate(points: tuple[tuple[float, float], ...], x: float, extrapolate: bool) -> float:
    """Piecewise-linear through ``points`` (sorted, distinct x: the loader guarantees both); outside them the end
    values, or with ``extrapolate`` the end segments continued."""
    xs, ys = np.array(points, dtype=float).T
    if len(points) > 1 and extrapolate and not xs[0] <= x <= xs[-1]:
        i = 0 if x < xs[0] else len(points) - 2
        return float(ys[i] + (ys[i + 1] - ys[i]) * (x - xs[i]) / (xs[i + 1] - xs[i]))
    return float(np.interp(x, xs, ys))


@dataclass(frozen=True)
class Binding:
    """One entry of a binding file: a factor, the targets it sets, and the rule giving their value."""

    factor: str
    targets: tuple[Target | CameraOrbit, ...]  # (a _PartialOrbit only while the file is being parsed)
    rule: ValueRule
    where: str  # "file: [[factor]] #n", for messages

    def apply(self, bl_scene: bpy.types.Scene, value: Any) -> None:
        result = self.rule.evaluate(FACTOR_BY_NAME[self.factor], value)
        if result is None:
            return
        for target in self.targets:
            if isinstance(target, CameraOrbit):
                target.assign(bl_scene, float(result))
            else:
                target.assign(bl_scene, result, self.where)

    def value_problems(self, bl_scene: bpy.types.Scene) -> list[str]:
        """Every target/value mismatch of this entry in ``bl_scene``, each naming the entry."""
        problems = []
        for target in self.targets:
            if isinstance(target, CameraOrbit):
                continue
            for value in self.rule.outputs():
                problem = target.value_problem(bl_scene, value)
                if problem:
                    problems.append(f"{self.where}: {problem}")
                    break
        return problems


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

    def targets(self) -> list[Target | CameraOrbit]:
        return list(dict.fromkeys(t for b in self.bindings for t in b.targets))

    def missing_targets(self, bl_scene: bpy.types.Scene) -> list[str]:
        """A description of every target the scene lacks (empty when the file fits the scene)."""
        return list(dict.fromkeys(m for t in self.targets() for m in t.missing(bl_scene)))

    def problems(self, bl_scene: bpy.types.Scene) -> list[str]:
        """Every way this file does not fit ``bl_scene``: missing targets, then values that do not fit a target."""
        missing = [f"{self.source}: missing {m}" for m in self.missing_targets(bl_scene)]
        return missing + [p for b in self.bindings for p in b.value_problems(bl_scene)]

    def check(self, bl_scene: bpy.types.Scene) -> None:
        """Raise one BindingError listing every problem (MissingTargetsError when targets are missing), before
        anything is changed."""
        missing = self.missing_targets(bl_scene)
        others = [p for b in self.bindings for p in b.value_problems(bl_scene)]
        if missing:
            raise MissingTargetsError(self.source, missing, others)
        if others:
            raise BindingError(f"{self.source}: {len(others)} binding(s) do not fit the scene:\n  "
                               + "\n  ".join(others))

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
    if not path.exists():
        raise BindingError(f"binding file {path} does not exist; point the extension at a .toml binding file "
                           f"(see docs/bindings.md)")
    if not path.is_file():
        raise BindingError(f"binding file {path} is not a file; point the extension at a .toml binding file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BindingError(f"binding file {path} cannot be read ({exc.strerror}); check its permissions") from None
    except UnicodeDecodeError:
        raise BindingError(f"{path}: not UTF-8 text; save the binding file as UTF-8 TOML") from None
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise BindingError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    bindings = parse_bindings(data, str(path))
    if not bindings.bindings:
        raise BindingError(f"{path}: binds no factor; add entries such as [[hair_color]] (docs/bindings.md)")
    return bindings


def parse_bindings(data: Mapping[str, Any], source: str) -> Bindings:
    """Bindings from an already-parsed TOML document; ``source`` names it in messages. Every problem of the file is
    reported in one BindingError."""
    meta = data.get("binding", {})
    if not isinstance(meta, Mapping):
        raise BindingError(f"{source}: [binding] must be a table with name and format")
    unknown_meta = [k for k in meta if k not in ("name", "format")]
    if unknown_meta:
        raise BindingError(f"{source}: [binding] has unknown key(s) {', '.join(unknown_meta)}; it takes name and "
                           f"format")
    version = meta.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise BindingError(f"{source}: [binding] format = {version!r} is not supported; use format = {FORMAT_VERSION}")
    problems: list[str] = []
    bindings: list[Binding] = []
    for key, entries in data.items():
        if key == "binding":
            continue
        if key not in FACTOR_BY_NAME:
            problems.append(f"{source}: [[{key}]] is not a factor{did_you_mean(key, list(FACTOR_BY_NAME))}; valid "
                            f"factors are: {', '.join(FACTOR_BY_NAME)}")
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
    try:
        bindings = _complete_orbits(bindings)
    except BindingError as exc:
        problems.append(str(exc))
    if problems:
        raise BindingError("\n".join(problems))
    return Bindings(source, str(meta.get("name", Path(source).stem)), tuple(bindings))


def _parse_entry(factor: Factor, entry: Mapping[str, Any], where: str) -> Binding:
    unknown = [k for k in entry if k not in _ALL_KEYS]
    if unknown:
        hints = "".join(did_you_mean(k, _ALL_KEYS) for k in unknown)
        raise BindingError(f"{where}: unknown key(s) {', '.join(unknown)}{hints}; allowed: "
                           f"{', '.join(k for k in _ALL_KEYS if k not in _ORBIT_KEYS)} (camera_orbit adds "
                           f"{', '.join(_ORBIT_KEYS)})")
    if ORBIT_KEY in entry:
        return _parse_orbit(factor, entry, where)
    stray = [k for k in entry if k in _ORBIT_KEYS]
    if stray:
        raise BindingError(f"{where}: {', '.join(stray)} belong(s) to a camera_orbit entry; add camera_orbit = "
                           f"\"Camera object\" or remove them")
    id_keys = [k for k in entry if k in _ID_KEYS]
    what_keys = [k for k in entry if k in _WHAT_KEYS]
    if len(id_keys) != 1:
        raise BindingError(f"{where}: give exactly one of {', '.join(_ID_KEYS)} (found {', '.join(id_keys) or 'none'})")
    if len(what_keys) != 1:
        found = ", ".join(what_keys) or "none"
        raise BindingError(f"{where}: give exactly one of {', '.join(_WHAT_KEYS)} (found {found})")
    id_kind = IdKind(id_keys[0])
    names = entry[id_keys[0]]
    if id_kind is IdKind.SCENE:
        if names is not True:
            raise BindingError(f"{where}: write scene = true (the scene being driven), not scene = {names!r}")
        names = [""]
    else:
        if isinstance(names, str):
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
    if id_kind is IdKind.SCENE and kind is not TargetKind.PATH:
        raise BindingError(f"{where}: scene = true takes a path (e.g. path = \"view_settings.exposure\")")
    socket = entry.get("input", "")
    index = entry.get("index")
    if not isinstance(socket, str) or (socket and kind is not TargetKind.NODE):
        raise BindingError(f"{where}: input names a node input and goes with node = \"...\"")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise BindingError(f"{where}: index must be a whole number >= 0")
    if kind is TargetKind.PATH:
        indexed = _INDEXED_PATH.match(label)
        if indexed:
            if index is not None:
                raise BindingError(f"{where}: give the element once: path = \"{indexed[1]}\" with index = N, or "
                                   f"path = \"{label}\"")
            label, index = indexed[1], int(indexed[2])
    if index is not None and kind in (TargetKind.SHAPE_KEY, TargetKind.VISIBLE):
        raise BindingError(f"{where}: index picks an element of a vector or colour; {kind.value} targets have none")
    targets = tuple(Target(id_kind, name, kind, label, socket, index) for name in names)
    rule = _parse_rule(factor, entry, where, visibility=kind is TargetKind.VISIBLE)
    if index is not None and any(isinstance(v, tuple) for v in rule.outputs()):
        raise BindingError(f"{where}: index = {index} sets one number, but the values are lists or rgb; give numbers")
    return Binding(factor.name, targets, rule, where)


def _number(raw: Any, where: str, key: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise BindingError(f"{where}: {key} = {raw!r} is not a number")
    if not math.isfinite(raw):
        raise BindingError(f"{where}: {key} = {raw!r} is not a finite number; give a real value")
    return float(raw)


def _parse_orbit(factor: Factor, entry: Mapping[str, Any], where: str) -> Binding:
    """A camera_orbit entry; keys it leaves out are filled from another orbit entry of the same camera."""
    if factor.name not in ORBIT_FACTORS:
        raise BindingError(f"{where}: camera_orbit drives camera_angle and focal_length only, not {factor.name}")
    others = [k for k in entry if k in (*_ID_KEYS, *_WHAT_KEYS, *_RULE_KEYS, *_OPTION_KEYS)]
    if others:
        raise BindingError(f"{where}: camera_orbit takes the factor's own value (degrees / mm); remove "
                           f"{', '.join(others)}")
    camera = entry[ORBIT_KEY]
    if not isinstance(camera, str) or not camera:
        raise BindingError(f"{where}: camera_orbit must name the camera object, e.g. camera_orbit = \"Camera\"")
    spec: dict[str, Any] = {}
    if "pivot" in entry:
        pivot = entry["pivot"]
        if isinstance(pivot, list) and len(pivot) == 3:
            spec["pivot"] = tuple(_number(c, where, "pivot") for c in pivot)
        elif isinstance(pivot, str) and pivot:
            spec["pivot"] = pivot
        else:
            raise BindingError(f"{where}: pivot must be an object name or a point [x, y, z]")
    if "distance" in entry:
        spec["distance"] = _number(entry["distance"], where, "distance")
        if spec["distance"] <= 0:
            raise BindingError(f"{where}: distance must be more than 0 metres")
    if "framing" in entry:
        try:
            spec["framing"] = Framing(entry["framing"])
        except ValueError:
            raise BindingError(f"{where}: framing = {entry['framing']!r} is not a framing rule; use "
                               f"{' or '.join(repr(f.value) for f in Framing)}") from None
    for key in ("reference_lens", "elevation", "heading"):
        if key in entry:
            spec[key] = _number(entry[key], where, key)
    if spec.get("reference_lens", 1.0) <= 0:
        raise BindingError(f"{where}: reference_lens must be more than 0 mm")
    orbit = _PartialOrbit(camera, ORBIT_FACTORS[factor.name], tuple(sorted(spec.items())), where)
    return Binding(factor.name, (orbit,), IDENTITY, where)  # the orbit is completed by _complete_orbits


@dataclass(frozen=True)
class _PartialOrbit:
    """A camera_orbit entry as written, before the orbit entries of one camera are merged."""

    camera: str
    drive: OrbitDrive
    spec: tuple[tuple[str, Any], ...]
    where: str


def _complete_orbits(bindings: list[Binding]) -> list[Binding]:
    """Merge the camera_orbit entries of each camera (camera_angle's and focal_length's) into complete orbits."""
    partial = [b for b in bindings if b.targets and isinstance(b.targets[0], _PartialOrbit)]
    merged: dict[str, dict[str, Any]] = {}
    problems = []
    for binding in partial:
        orbit = binding.targets[0]
        known = merged.setdefault(orbit.camera, {})
        for key, value in orbit.spec:
            if key in known and known[key][0] != value:
                problems.append(f"{orbit.where}: {key} = {value!r} differs from {known[key][1]}'s {known[key][0]!r}; "
                                f"the orbit entries of camera \"{orbit.camera}\" must agree (or leave it out)")
            known.setdefault(key, (value, orbit.where))
    for camera, known in merged.items():
        lacking = [k for k in ("pivot", "distance") if k not in known]
        if lacking:
            first = next(b.where for b in partial if b.targets[0].camera == camera)
            problems.append(f"{first}: camera_orbit \"{camera}\" needs {' and '.join(lacking)} (in this entry or the "
                            f"other orbit entry of the same camera), e.g. pivot = \"Head\", distance = 2.5")
    if problems:
        raise BindingError("\n".join(problems))
    out = []
    for binding in bindings:
        orbit = binding.targets[0] if binding.targets else None
        if isinstance(orbit, _PartialOrbit):
            spec = {k: v for k, (v, _) in merged[orbit.camera].items()}
            binding = replace(binding, targets=(CameraOrbit(orbit.camera, drive=orbit.drive, **spec),))
        out.append(binding)
    return out


def _target_value(raw: Any, where: str, key: str, *, visibility: bool) -> TargetValue:
    if visibility:
        if not isinstance(raw, bool):
            raise BindingError(f"{where}: values.{key} must be true or false for a visibility target")
        return raw
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, (int, float)):
        return _number(raw, where, f"values.{key}")
    if isinstance(raw, list) and raw and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in raw):
        return tuple(_number(c, where, f"values.{key}") for c in raw)
    raise BindingError(f"{where}: values.{key} = {raw!r} is not a number, a list of numbers or true/false")


def _parse_rule(factor: Factor, entry: Mapping[str, Any], where: str, *, visibility: bool) -> ValueRule:
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
            hint = "" if factor.is_numeric else did_you_mean(key.lower(), [str(v) for v in factor.values])
            raise BindingError(f"{where}: values.{key}: {exc}{hint}") from None
    given = [*table.values(), *([default] if default is not None else [])]
    shapes = {len(v) if isinstance(v, tuple) else 1 for v in given}
    if rgb:
        shapes.add(3)
    if len(shapes) > 1 and not visibility:
        raise BindingError(f"{where}: values mix numbers and lists of different lengths; one target takes one kind "
                           f"of value (all numbers, or all [r, g, b] colours)")
    points = entry.get("points", [])
    if not isinstance(points, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(c, (int, float)) and not isinstance(c, bool)
                                                        for c in p) for p in points):
        raise BindingError(f"{where}: points must be a list of [factor value, target value] pairs")
    if points and not factor.is_numeric:
        raise BindingError(f"{where}: points need a numeric factor; {factor.name} is {factor.kind.value}")
    points_t = tuple(sorted((_number(a, where, "points"), _number(b, where, "points")) for a, b in points))
    xs = [x for x, _ in points_t]
    repeated = sorted({x for x in xs if xs.count(x) > 1})
    if repeated:
        raise BindingError(f"{where}: points give x = {', '.join(f'{x:g}' for x in repeated)} more than once; give "
                           f"each factor value one target value")
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
    return ValueRule(table, default, bool(rgb), points_t, bool(extrapolate))

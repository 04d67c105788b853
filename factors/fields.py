"""Typed fields of settings tables: each checks one value and raises PresetError naming the file, the key and the fix.

A table of these per section (render, output, diffusion) is the single description of what a preset may hold: the
reader applies it, the writer follows it, the diffusion worker checks its requests with it and the sidebar builds its
properties and layout from it, so a new setting is one line in a table. Pure Python: no bpy, no torch.
"""

from __future__ import annotations

import difflib
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from .errors import PresetError


@dataclass(frozen=True)
class Where:
    """The file and dotted key a value came from, for error messages."""

    source: str
    key: str

    def child(self, key: str | int) -> Where:
        if isinstance(key, int):
            return Where(self.source, f"{self.key}[{key}]")
        return Where(self.source, f"{self.key}.{key}" if self.key else key)

    def error(self, problem: str, fix: str = "") -> PresetError:
        return PresetError(self.source, self.key, problem, fix)


def type_name(value: Any) -> str:
    """A TOML-ish name for a Python value's type, as users see it in their file."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def suggest(name: str, valid: Iterable[str], what: str = "keys") -> str:
    """A fix line: the closest valid name if there is one, then every valid name."""
    valid = sorted(str(v) for v in valid)
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid {what} are: {', '.join(valid)}"


def check_keys(table: Mapping[str, Any], valid: Iterable[str], where: Where) -> None:
    """Reject keys a section does not know (typos would otherwise be silently ignored)."""
    valid = tuple(valid)
    for key in table:
        if key not in valid:
            raise where.child(key).error(f"unknown key {key!r}", suggest(str(key), valid))


def as_table(value: Any, where: Where) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise where.error(f"expected a table, found {type_name(value)}", f"write it as [{where.key}] with keys below")
    return value


def as_int(value: Any, where: Where, lo: int, hi: int) -> int:
    """A whole number in lo..hi; integral floats (JSON's 16.0) are accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(f"expected a whole number, found {type_name(value)} {value!r}", f"use a number in {lo}..{hi}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise where.error(f"expected a whole number, found {value!r}", f"use a whole number in {lo}..{hi}")
    number = int(value)
    if not lo <= number <= hi:
        raise where.error(f"{number} is out of range", f"use a number in {lo}..{hi}")
    return number


def as_str(value: Any, where: Where) -> str:
    if not isinstance(value, str):
        raise where.error(f"expected a string, found {type_name(value)} {value!r}", 'put the text in quotes: "..."')
    return value


def as_list(value: Any, where: Where) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise where.error(f"expected a list, found {type_name(value)} {value!r}", "write a list such as [a, b]")
    return list(value)


class Field(ABC):
    """How one preset key is checked and converted into a settings dataclass field. ``doc`` is the tooltip and
    ``label`` the sidebar name (default: the key in words); ``group`` files it under a heading in the sidebar."""

    doc: str = ""
    label: str = ""
    group: str = ""

    @abstractmethod
    def parse(self, value: Any, where: Where) -> Any:
        """The checked, converted value; raises PresetError naming the key and the fix."""

    def dump(self, value: Any) -> Any:
        """The value as plain TOML data (the inverse of ``parse``)."""
        return value


@dataclass(frozen=True)
class IntField(Field):
    lo: int
    hi: int
    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> int:
        return as_int(value, where, self.lo, self.hi)


@dataclass(frozen=True)
class BoolField(Field):
    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> bool:
        if not isinstance(value, bool):
            raise where.error(f"expected true or false, found {type_name(value)} {value!r}", "write true or false")
        return value


@dataclass(frozen=True)
class ChoiceField(Field):
    """One member of an Enum, written as its value (e.g. device = "CPU")."""

    enum: type[Enum]
    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> Enum:
        names = [str(m.value) for m in self.enum]
        if isinstance(value, Enum):
            value = value.value
        if isinstance(value, str):
            for member in self.enum:
                if value.strip().upper() == str(member.value).upper():
                    return member
        raise where.error(f"unknown value {value!r}", suggest(str(value), names, "values"))

    def dump(self, value: Any) -> Any:
        return value.value


@dataclass(frozen=True)
class SizeField(Field):
    """A (width, height) pair of whole numbers, each in lo..hi and a multiple of ``multiple``."""

    lo: int
    hi: int
    doc: str = ""
    label: str = ""
    group: str = ""
    multiple: int = 1
    square_from_int: bool = False  # a single number means a square

    def parse(self, value: Any, where: Where) -> tuple[int, int]:
        if self.square_from_int and isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        if not isinstance(value, (list, tuple)):
            raise where.error(f"expected [width, height], found {type_name(value)} {value!r}", "write e.g. [512, 512]")
        if len(value) != 2:
            raise where.error(f"expected [width, height], found {len(value)} number(s)", "write e.g. [512, 512]")
        size = as_int(value[0], where.child(0), self.lo, self.hi), as_int(value[1], where.child(1), self.lo, self.hi)
        if any(side % self.multiple for side in size):
            raise where.error(f"{list(size)} is not a usable size",
                              f"use multiples of {self.multiple} from {self.lo} to {self.hi}")
        return size

    def dump(self, value: Any) -> Any:
        return list(value)


@dataclass(frozen=True)
class RelativePathField(Field):
    """A folder inside the output folder: relative, '/'-separated, no '..', never absolute."""

    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> str:
        text = as_str(value, where).strip()
        fix = "use a relative path inside the output folder, e.g. \"faces/run1\" (or \"\" for the folder itself)"
        if "\\" in text:
            raise where.error(f"path {text!r} uses backslashes", fix + " with / separators")
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise where.error(f"path {text!r} holds a control character (NUL, newline...)", fix)
        if text.startswith(("/", "~")) or PureWindowsPath(text).drive or PurePosixPath(text).is_absolute():
            raise where.error(f"path {text!r} is absolute and would escape the output folder", fix)
        parts = PurePosixPath(text).parts
        if ".." in parts:
            raise where.error(f"path {text!r} contains '..' and would escape the output folder", fix)
        return "/".join(p for p in parts if p != ".")


@dataclass(frozen=True)
class FloatField(Field):
    """A number in lo..hi (integers are accepted and stored as floats)."""

    lo: float
    hi: float
    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise where.error(f"expected a number, found {type_name(value)} {value!r}",
                              f"write a number from {self.lo} to {self.hi}")
        if not self.lo <= float(value) <= self.hi:
            raise where.error(f"{value} is out of range", f"use a value from {self.lo} to {self.hi}")
        return float(value)


@dataclass(frozen=True)
class TextField(Field):
    """Text of at most ``max_length`` characters; with ``optional``, "" or a missing value means None."""

    max_length: int = 1000
    optional: bool = False
    empty_fix: str = "write a quoted string"
    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> str | None:
        if self.optional and (value is None or value == ""):
            return None
        if not isinstance(value, str):
            raise where.error(f"expected text, found {type_name(value)} {value!r}", 'put the text in quotes: "..."')
        if not self.optional and not value.strip():
            raise where.error(f"expected {self.label or 'text'}, found an empty string", self.empty_fix)
        if len(value) > self.max_length:
            raise where.error(f"text of {len(value)} characters is too long", f"use at most {self.max_length}")
        return value if self.optional else value.strip()


@dataclass(frozen=True)
class SeedField(Field):
    """A fixed seed in 0..2**32-1, or None (written "sample" or left out): each sample's own seed."""

    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> int | None:
        if value is None or value == "sample":
            return None
        return as_int(value, where, 0, 2**32 - 1)

    def dump(self, value: Any) -> Any:
        return "sample" if value is None else value


def parse_section(table: Any, fields: Mapping[str, Field], where: Where) -> dict[str, Any]:
    """Check a section's keys and values against its field table; returns only the keys present."""
    table = as_table(table, where)
    check_keys(table, fields, where)
    return {key: fields[key].parse(value, where.child(key)) for key, value in table.items()}


def dump_section(settings: Any, fields: Mapping[str, Field]) -> dict[str, Any]:
    """A settings dataclass as the plain table a preset file holds (every key of the field table)."""
    return {key: field.dump(getattr(settings, key)) for key, field in fields.items()}

"""Typed checks for the values of a preset file: each raises PresetError naming the file, the key and the fix.

A table of these per section (render, output) is the single description of what a preset may hold; the reader
applies it and the writer follows it, so a new setting is one line in a table.
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

from ..factors.errors import PresetError


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


def suggest(name: str, valid: Iterable[str]) -> str:
    """A fix line: the closest valid name if there is one, then every valid name."""
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid keys are: {', '.join(valid)}"


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
    """How one preset key is checked and converted into a settings dataclass field."""

    doc: str = ""

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

    def parse(self, value: Any, where: Where) -> int:
        return as_int(value, where, self.lo, self.hi)


@dataclass(frozen=True)
class BoolField(Field):
    doc: str = ""

    def parse(self, value: Any, where: Where) -> bool:
        if not isinstance(value, bool):
            raise where.error(f"expected true or false, found {type_name(value)} {value!r}", "write true or false")
        return value


@dataclass(frozen=True)
class ChoiceField(Field):
    """One member of an Enum, written as its value (e.g. device = "CPU")."""

    enum: type[Enum]
    doc: str = ""

    def parse(self, value: Any, where: Where) -> Enum:
        names = [m.value for m in self.enum]
        if isinstance(value, str):
            for member in self.enum:
                if value.strip().upper() == str(member.value).upper():
                    return member
        raise where.error(f"unknown value {value!r}", f"use one of: {', '.join(map(str, names))}")

    def dump(self, value: Any) -> Any:
        return value.value


@dataclass(frozen=True)
class SizeField(Field):
    """A (width, height) pair of whole numbers, each in lo..hi."""

    lo: int
    hi: int
    doc: str = ""

    def parse(self, value: Any, where: Where) -> tuple[int, int]:
        items = as_list(value, where)
        if len(items) != 2:
            raise where.error(f"expected [width, height], found {len(items)} number(s)", "write e.g. [128, 128]")
        return as_int(items[0], where.child(0), self.lo, self.hi), as_int(items[1], where.child(1), self.lo, self.hi)

    def dump(self, value: Any) -> Any:
        return list(value)


@dataclass(frozen=True)
class RelativePathField(Field):
    """A folder inside the output folder: relative, '/'-separated, no '..', never absolute."""

    doc: str = ""

    def parse(self, value: Any, where: Where) -> str:
        text = as_str(value, where).strip()
        fix = "use a relative path inside the output folder, e.g. \"faces/run1\" (or \"\" for the folder itself)"
        if "\\" in text:
            raise where.error(f"path {text!r} uses backslashes", fix + " with / separators")
        if text.startswith(("/", "~")) or PureWindowsPath(text).drive or PurePosixPath(text).is_absolute():
            raise where.error(f"path {text!r} is absolute and would escape the output folder", fix)
        parts = PurePosixPath(text).parts
        if ".." in parts:
            raise where.error(f"path {text!r} contains '..' and would escape the output folder", fix)
        return "/".join(p for p in parts if p != ".")


def parse_section(table: Any, fields: Mapping[str, Field], where: Where) -> dict[str, Any]:
    """Check a section's keys and values against its field table; returns only the keys present."""
    table = as_table(table, where)
    check_keys(table, fields, where)
    return {key: fields[key].parse(value, where.child(key)) for key, value in table.items()}


def dump_section(settings: Any, fields: Mapping[str, Field]) -> dict[str, Any]:
    """A settings dataclass as the plain table a preset file holds (every key of the field table)."""
    return {key: field.dump(getattr(settings, key)) for key, field in fields.items()}

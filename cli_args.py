"""What the command lines share (batch.py, python -m blurd.distributed, blurd.benchmark, blurd.learn): argument
types that reject bad input with a message argparse prints before any work, and the run of a subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .factors.errors import BlurdError


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive; give 1 or more")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def folder_argument(text: str) -> Path:
    """--out: a folder path, never empty (an empty one would write into the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give the dataset folder, e.g. --out out/quick")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("holds a NUL character")
    return Path(text)


def run_subcommand(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the chosen subcommand (``func`` of its arguments); a BlurdError is one line on stderr
    and exit status 2."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BlurdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

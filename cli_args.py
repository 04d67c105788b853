"""Argument types shared by the command lines (batch.py, python -m blurd.distributed): each rejects bad input with
a message argparse prints before any work."""

from __future__ import annotations

import argparse
from pathlib import Path


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

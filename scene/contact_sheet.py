"""The contact sheet: rgb thumbnails of a dataset's samples, each labelled with the factors that vary on the sheet.

A label lists first the factors in which its sample differs from the value most of the sheet shares (the factor a
one-factor change changed), then the other factors that vary across the sheet (swept ones in sweep order; a full
grid, where no value has a majority, keeps that order on every thumbnail), so the factor that tells two thumbnails
apart is never hidden behind "(+N more)". Pure Pillow (no bpy), so it can be rebuilt for any dataset folder.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..dataset import layout
from ..dataset.files import write_atomic
from ..factors.grid import Sample

LINE_HEIGHT = 12
MAX_LABEL_LINES = 6
PADDING = 4
BACKGROUND = (24, 24, 24)
TEXT = (230, 230, 230)


def varying_factors(samples: Sequence[Sample], swept: Sequence[str] = ()) -> list[str]:
    """The factors whose value is not the same on every sample of ``samples``: swept ones first, in sweep order."""
    names = list(dict.fromkeys([*swept, *(name for s in samples for name in s.factors)]))
    return [n for n in names if len({repr(s.factors.get(n)) for s in samples}) > 1]


def label_lines(sample: Sample, swept: Sequence[str], sheet: Sequence[Sample] = ()) -> list[str]:
    """``factor=value`` lines for one thumbnail, at most MAX_LABEL_LINES: first the factors in which ``sample``
    differs from the value most of the sheet shares, then the rest of the factors that vary across ``sheet`` (every
    swept factor when no sheet is given); the sample id when nothing varies."""
    sheet = list(sheet) or [sample]
    varying = varying_factors(sheet, swept) if len(sheet) > 1 else list(swept)
    majority = {}  # factor -> the value most of the sheet shares (none in a full grid: the sweep order stays)
    for name in varying:
        value, count = Counter(repr(s.factors.get(name)) for s in sheet).most_common(1)[0]
        if count * 2 > len(sheet):
            majority[name] = value
    distinct = [n for n in varying if n in majority and repr(sample.factors.get(n)) != majority[n]]
    ordered = distinct + [n for n in varying if n not in distinct]
    lines = [f"{name}={sample.factors[name]}" for name in ordered if name in sample.factors] or [sample.id]
    if len(lines) > MAX_LABEL_LINES:
        lines = lines[: MAX_LABEL_LINES - 1] + [f"(+{len(lines) - MAX_LABEL_LINES + 1} more)"]
    return lines


def fit_text(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` pixels, so labels never run into a neighbour."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def render_contact_sheet(out: Path, samples: Sequence[Sample], *, swept: Sequence[str], thumbnail: int,
                         limit: int) -> Image.Image:
    """The sheet image: up to ``limit`` samples in a near-square grid of ``thumbnail``-pixel cells."""
    shown = list(samples)[:limit]
    lines = max(len(label_lines(s, swept, shown)) for s in shown)
    columns = math.ceil(math.sqrt(len(shown)))
    rows = math.ceil(len(shown) / columns)
    cell_w, cell_h = thumbnail + PADDING, thumbnail + PADDING + lines * LINE_HEIGHT
    sheet = Image.new("RGB", (columns * cell_w + PADDING, rows * cell_h + PADDING), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for n, sample in enumerate(shown):
        x = PADDING + (n % columns) * cell_w
        y = PADDING + (n // columns) * cell_h
        with Image.open(layout.sample_dir(out, sample.id) / layout.RGB) as image:
            thumb = image.convert("RGB")
            thumb.thumbnail((thumbnail, thumbnail))
        sheet.paste(thumb, (x + (thumbnail - thumb.width) // 2, y + (thumbnail - thumb.height) // 2))
        for k, line in enumerate(label_lines(sample, swept, shown)):
            draw.text((x, y + thumbnail + k * LINE_HEIGHT), fit_text(draw, line, font, thumbnail), fill=TEXT,
                      font=font)
    return sheet


def write_contact_sheet(out: Path, samples: Sequence[Sample], *, swept: Sequence[str], thumbnail: int = 160,
                        limit: int = 64) -> Path:
    """Write OUT/contact_sheet.png atomically and return its path."""
    final = Path(out) / layout.CONTACT_SHEET
    sheet = render_contact_sheet(Path(out), samples, swept=swept, thumbnail=thumbnail, limit=limit)
    write_atomic(final, lambda tmp: sheet.save(tmp, format="PNG"))
    return final

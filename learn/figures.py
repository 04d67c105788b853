"""A figure like the paper's Figure 7: example images with their masks (BLURD 3D, BLURD SD, the test set) above the
mIoU of every (source, regime) run. matplotlib without a display; written atomically."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..dataset.files import atomic_path
from .augment import PAPER_NAMES, Regime
from .classes import CLASS_COLOURS, CLASS_NAMES, IGNORE_COLOUR
from .report import source_label

FIGURE_FILE = "figure7.png"
SOURCE_COLOURS = {"rgb": "#7f7f7f", "sd_harbinger": "#d62728"}
FALLBACK_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b")
DPI = 120


@dataclass(frozen=True)
class Example:
    """One image and its BLURD label map, shown in the top row."""

    title: str
    image: Path
    label: np.ndarray


def colour_label(label: np.ndarray) -> np.ndarray:
    """An RGB picture of a label map in the class colours (ignored pixels white)."""
    lut = np.array([CLASS_COLOURS.get(i, IGNORE_COLOUR) for i in range(256)], dtype=np.uint8)
    return lut[label]


def _colour(source: str, k: int) -> str:
    return SOURCE_COLOURS.get(source, FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)])


def figure7(docs: Sequence[dict], examples: Sequence[Example], path: Path, title: str = "") -> Path:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from PIL import Image

    fig = Figure(figsize=(max(8.0, 2.0 * max(1, len(examples)) * 1.4), 7.0), dpi=DPI, layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.3])
    if examples:
        axes = top.subplots(1, 2 * len(examples), squeeze=False)[0]
        for k, ex in enumerate(examples):
            with Image.open(ex.image) as im:
                axes[2 * k].imshow(np.asarray(im.convert("RGB")))
            axes[2 * k + 1].imshow(colour_label(ex.label), interpolation="nearest")
            axes[2 * k].set_title(ex.title, fontsize=9)
            axes[2 * k + 1].set_title("mask", fontsize=9)
        for ax in axes:
            ax.set_axis_off()
        top.legend(handles=[Patch(color=np.array(CLASS_COLOURS[i]) / 255, label=n) for i, n in enumerate(CLASS_NAMES)],
                   loc="lower center", ncol=len(CLASS_NAMES), fontsize=8, frameon=False)
    ax = bottom.subplots()
    regimes = [r for r in Regime if any(d["regime"] == r.value for d in docs)]
    sources = list(dict.fromkeys(d["source"] for d in docs))
    by = {(d["source"], d["regime"]): d["scores"]["miou"] for d in docs}
    width = 0.8 / max(1, len(sources))
    x = np.arange(len(regimes))
    for k, source in enumerate(sources):
        ys = [by.get((source, r.value)) for r in regimes]
        pos = x - 0.4 + width * (k + 0.5)
        bars = ax.bar(pos, [np.nan if y is None else y for y in ys], width, label=source_label(source),
                      color=_colour(source, k))
        ax.bar_label(bars, labels=["" if y is None else f"{y:.3f}" for y in ys], fontsize=8, padding=2)
    ax.set_xticks(x, [PAPER_NAMES[r] for r in regimes])
    ax.set_ylabel("mIoU on the test set")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(title or "Zero-shot domain adaptation: U-Net trained on BLURD, scored on the test set", fontsize=10)
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)

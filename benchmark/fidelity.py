"""Control fidelity of a dataset: for every pair of samples that differ in exactly one factor, how much of the change
lies where that factor acts (its part's mask, dilated by ``DILATION`` pixels).

Two shares per pair and image source (the render, each ``sd_<mode>``):

- **pixel share**: of the pixels that changed by more than ``CHANGE_THRESHOLD``/255 in any channel, the share inside
  the dilated part mask (every pixel the part touches, grown by ``DILATION``; the isolation bar is ``ISOLATION_BAR``,
  99 %);
- **energy share**: of the summed absolute change (all pixels, all channels), the share inside the mask. Bounce
  light that tints pixels outside a part weakly shows as a pixel share below the bar beside an energy share near 1.

Pure numpy and Pillow (no torch, no bpy): the scene tests, ``benchmarks/fidelity_sweep.py`` and
``python -m blurd.benchmark fidelity DATASET`` all measure with these functions.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..dataset import layout
from ..dataset.files import atomic_path, write_text
from ._core import FACTOR_BY_NAME, FACTOR_NAMES
from .dataset import DatasetFolder, SampleRecord, source_sort_key

CHANGE_THRESHOLD = 2  # a pixel changed when a channel moved by more than this many 8-bit levels
DILATION = 2  # pixels: the part mask is grown by a disc of this radius (edge pixels the part partly covers)
ISOLATION_BAR = 0.99  # the control-fidelity bar on the pixel share
SCHEMA = "blurd-fidelity/1"
JSON_NAME, CSV_NAME, FIGURE_NAME = "fidelity.json", "fidelity.csv", "fidelity.png"
CSV_COLUMNS = ("factor", "part", "source", "pairs", "pixel_share_mean", "pixel_share_min", "energy_share_mean",
               "energy_share_min", "pairs_meeting_bar", "changed_pixels_mean")


def dilate(mask: np.ndarray, radius: int = DILATION) -> np.ndarray:
    """Binary dilation of a boolean mask by a disc of ``radius`` pixels (pixels beyond the border count as off)."""
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if (dx or dy) and dx * dx + dy * dy <= radius * radius:
                out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] |= \
                    mask[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


@dataclass(frozen=True)
class Isolation:
    """How much of the change between two images lies inside a region."""

    changed: int  # pixels changed by more than CHANGE_THRESHOLD in some channel
    inside: int  # of those, the pixels inside the region
    pixel_share: float  # inside / changed (1.0 when nothing changed)
    energy_share: float  # summed |difference| inside / summed everywhere (1.0 when nothing changed)

    @property
    def meets_bar(self) -> bool:
        return self.pixel_share >= ISOLATION_BAR


def isolation(a: np.ndarray, b: np.ndarray, region: np.ndarray, threshold: int = CHANGE_THRESHOLD) -> Isolation:
    """The isolation of the change from image ``a`` to ``b`` (HxWxC uint8) inside boolean ``region`` (HxW)."""
    if a.shape != b.shape or a.shape[:2] != region.shape:
        raise ValueError(f"images {a.shape} and {b.shape} and region {region.shape} differ in size")
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    changed = diff.max(axis=-1) > threshold
    energy = diff.sum(axis=-1, dtype=np.int64)
    total = int(energy.sum())
    n_changed, n_inside = int(changed.sum()), int((changed & region).sum())
    return Isolation(n_changed, n_inside, n_inside / n_changed if n_changed else 1.0,
                     int(energy[region].sum()) / total if total else 1.0)


# ------------------------------------------------------------------------------------------------------ the pairs


@dataclass(frozen=True)
class Pair:
    """Two samples whose factors differ in ``factor`` only."""

    factor: str
    a: SampleRecord
    b: SampleRecord


def one_factor_pairs(samples: Sequence[SampleRecord], max_per_factor: int | None = None) -> list[Pair]:
    """Every pair of samples differing in exactly one factor, by factor in schema order, then by sample ids."""
    pairs: list[Pair] = []
    for name in FACTOR_NAMES:
        groups: dict[str, list[SampleRecord]] = defaultdict(list)
        for s in samples:
            rest = {k: v for k, v in s.factors.items() if k != name}
            groups[json.dumps(rest, sort_keys=True)].append(s)
        found = []
        for key in sorted(groups):
            group = sorted(groups[key], key=lambda s: s.id)
            found += [Pair(name, x, y) for i, x in enumerate(group) for y in group[i + 1:]
                      if x.factors[name] != y.factors[name]]
        pairs += found[:max_per_factor] if max_per_factor is not None else found
    return pairs


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def part_region(sample: SampleRecord, part: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """The pixels a sample's part touches (mask > 0: any coverage, strands thinner than half a pixel included), as
    booleans, resized (nearest) to ``size`` = (width, height) when given."""
    with Image.open(sample.dir / layout.mask_filename(part)) as image:
        mask = image.convert("L")
        if size is not None and mask.size != size:
            mask = mask.resize(size, Image.Resampling.NEAREST)
        return np.asarray(mask) > 0


@dataclass(frozen=True)
class PairResult:
    """One pair's isolation in one image source."""

    factor: str
    part: str
    source: str
    a: str
    b: str
    value_a: object
    value_b: object
    changed: int
    pixel_share: float
    energy_share: float


def measure_pair(pair: Pair, source: str) -> PairResult | None:
    """The pair's isolation in ``source`` (None when either sample lacks that image or the factor has no part).

    The region is the union of both samples' part masks (a colour never moves geometry, so they agree; for other
    factors the union is where either image shows the part), dilated by ``DILATION`` pixels.
    """
    part = FACTOR_BY_NAME[pair.factor].part
    if part is None or not (pair.a.has_source(source) and pair.b.has_source(source)):
        return None
    a, b = _rgb(pair.a.image_path(source)), _rgb(pair.b.image_path(source))
    size = (a.shape[1], a.shape[0])
    region = dilate(part_region(pair.a, part, size) | part_region(pair.b, part, size))
    result = isolation(a, b, region)
    return PairResult(pair.factor, part, source, pair.a.id, pair.b.id, pair.a.factors[pair.factor],
                      pair.b.factors[pair.factor], result.changed, result.pixel_share, result.energy_share)


@dataclass(frozen=True)
class FactorSummary:
    """The pairs of one factor in one source, summarised."""

    factor: str
    part: str
    source: str
    pairs: int
    pixel_share_mean: float
    pixel_share_min: float
    energy_share_mean: float
    energy_share_min: float
    pairs_meeting_bar: int
    changed_pixels_mean: float


def summarise(results: Iterable[PairResult]) -> list[FactorSummary]:
    """One summary per (factor, source), factors in schema order and sources in display order."""
    groups: dict[tuple[str, str], list[PairResult]] = defaultdict(list)
    for r in results:
        groups[(r.factor, r.source)].append(r)
    out = []
    for (factor, source), rows in sorted(groups.items(), key=lambda kv: (FACTOR_NAMES.index(kv[0][0]),
                                                                          source_sort_key(kv[0][1]))):
        pix = [r.pixel_share for r in rows]
        energy = [r.energy_share for r in rows]
        out.append(FactorSummary(factor, rows[0].part, source, len(rows), float(np.mean(pix)), min(pix),
                                 float(np.mean(energy)), min(energy), sum(p >= ISOLATION_BAR for p in pix),
                                 float(np.mean([r.changed for r in rows]))))
    return out


@dataclass(frozen=True)
class FidelityReport:
    """Every measured pair and the per-(factor, source) summaries of one dataset."""

    dataset: str
    sources: tuple[str, ...]
    pairs: tuple[PairResult, ...]
    summaries: tuple[FactorSummary, ...]
    skipped_factors: Mapping[str, int]  # factor without a part -> number of its pairs (not measured)

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "dataset": self.dataset, "sources": list(self.sources),
                "change_threshold": CHANGE_THRESHOLD, "dilation_px": DILATION, "isolation_bar": ISOLATION_BAR,
                "summary": [asdict(s) for s in self.summaries], "pairs": [asdict(p) for p in self.pairs],
                "factors_without_part": dict(self.skipped_factors)}

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for s in self.summaries:
            writer.writerow({k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(s).items()})
        return buffer.getvalue()


def fidelity_report(dataset: DatasetFolder, sources: Sequence[str] | None = None,
                    max_pairs_per_factor: int | None = None) -> FidelityReport:
    """Measure every one-factor pair of ``dataset`` in each source (all the dataset has when None)."""
    sources = tuple(sources or dataset.sources())
    pairs = one_factor_pairs(dataset.samples, max_pairs_per_factor)
    skipped: dict[str, int] = defaultdict(int)
    results = []
    for pair in pairs:
        if FACTOR_BY_NAME[pair.factor].part is None:
            skipped[pair.factor] += 1
            continue
        results += [r for source in sources if (r := measure_pair(pair, source)) is not None]
    return FidelityReport(dataset.name, sources, tuple(results), tuple(summarise(results)), dict(skipped))


def write_report(report: FidelityReport, folder: Path) -> dict[str, Path]:
    """fidelity.json, fidelity.csv and fidelity.png in ``folder``, each written atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / JSON_NAME, "csv": folder / CSV_NAME, "figure": folder / FIGURE_NAME}
    write_text(paths["json"], json.dumps(report.to_json(), indent=2, default=str) + "\n")
    write_text(paths["csv"], report.csv_text())
    write_figure(report, paths["figure"])
    return paths


def write_figure(report: FidelityReport, path: Path) -> Path:
    """Pixel share (solid) and energy share (hatched) per factor, one bar colour per source, the bar as a line."""
    from matplotlib.figure import Figure

    from .figures import DPI, _colour

    factors = list(dict.fromkeys(s.factor for s in report.summaries))
    sources = list(report.sources)
    fig = Figure(figsize=(max(6.0, 1.1 * len(factors) + 2), 4.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(1, 2 * len(sources))
    by_key = {(s.factor, s.source): s for s in report.summaries}
    for k, source in enumerate(sources):
        for j, (metric, hatch) in enumerate((("pixel_share_mean", ""), ("energy_share_mean", "//"))):
            xs = [i - 0.4 + width * (2 * k + j + 0.5) for i in range(len(factors))]
            ys = [getattr(by_key[(f, source)], metric) if (f, source) in by_key else math.nan for f in factors]
            ax.bar(xs, ys, width, color=_colour(source, k), hatch=hatch, edgecolor="white",
                   label=f"{source} {'pixels' if not j else 'energy'}")
    ax.axhline(ISOLATION_BAR, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(factors)), [f.replace("_", " ") for f in factors], rotation=30, ha="right")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("share of the change inside the part mask")
    ax.set_title(f"{report.dataset}: control fidelity of one-factor pairs")
    ax.legend(fontsize="small", ncols=max(1, len(sources)), loc="lower left")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


# ------------------------------------------------------------------------------------------ controlled colour pairs

# Every colour factor with two clearly different values; make-up starts from a colour, so both renders paint it.
COLOUR_PAIRS: Mapping[str, tuple[str, str]] = {
    "hair_color": ("black", "yellow"), "beard_color": ("black", "white"), "eye_color": ("brown", "blue"),
    "eyebrow_color": ("black", "blonde"), "shirt_color": ("white", "red"), "tie_color": ("blue", "yellow"),
    "eyeshadow_color": ("violet", "green"), "eyeliner_color": ("black", "white"), "lipstick_color": ("red", "blue"),
}
# The person every pair starts from: a beard to colour and make-up on, so every colour factor has something to paint
# and the pairs of all factors under one set of conditions share one base render.
PAIR_BASE: Mapping[str, object] = {"beard_style": "full_beard", **{f: v[0] for f, v in COLOUR_PAIRS.items()}}


def pair_preset(factor: str, conditions: Mapping[str, object], render: Mapping[str, object],
                name: str = "fidelity pair") -> dict:
    """The data of a preset that sweeps ``factor`` over its two ``COLOUR_PAIRS`` values under fixed ``conditions``
    (camera, world, lens ...): the controlled pair a user gets from ``batch.py``, with the default seed policy."""
    fixed = {**PAIR_BASE, **conditions}
    fixed.pop(factor, None)
    return {"format": 1, "name": name, "factors": fixed, "grid": {"sweep": {factor: list(COLOUR_PAIRS[factor])}},
            "render": dict(render), "output": {"contact_sheet": False}}

"""Figures from result JSONs (matplotlib, no display needed): accuracy by source, confusion matrices, equivariance.

Each function takes the result documents of ONE (dataset, model), one per source, and writes a PNG.
``write_figures`` groups a results folder and writes them all.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from ..dataset.files import atomic_path
from .dataset import source_sort_key
from .report import load_results

SOURCE_COLOURS = {"render": "#7f7f7f", "unleashed": "#1f77b4", "tempered": "#2ca02c", "harbinger": "#d62728"}
FALLBACK_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
DPI = 120


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _colour(source: str, k: int) -> str:
    return SOURCE_COLOURS.get(source, FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)])


def _sorted(docs: list[dict]) -> list[dict]:
    return sorted(docs, key=lambda d: source_sort_key(d["source"]))


def _title(docs: list[dict], what: str) -> str:
    return f"{what}\n{docs[0]['model']} on {docs[0]['dataset']}"


def _factors_with(docs: list[dict], metric: str, value_key: str) -> list[str]:
    """Factors (schema order, as stored) with a value for at least one source."""
    names = list(docs[0]["metrics"][metric])
    return [f for f in names if any(d["metrics"][metric][f].get(value_key) is not None for d in docs)]


def _grouped_bars(ax, groups: list[str], docs: list[dict], values, baselines=None) -> None:
    """Bars per group (x) and source (colour); ``values(doc, group)`` -> float|None; a baseline is a black tick."""
    width = 0.8 / max(1, len(docs))
    x = np.arange(len(groups))
    for k, d in enumerate(docs):
        ys = [values(d, g) for g in groups]
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, [np.nan if y is None else y for y in ys], width, label=d["source"], color=_colour(d["source"], k))
        for p, y in zip(pos, ys):
            label = "n/a" if y is None else f"{0.0 if abs(y) < 0.005 else y:.2f}"
            ax.text(p, 0 if y is None else y, label, ha="center", va="bottom" if (y or 0) >= 0 else "top",
                    fontsize=6, color="#333333")
        if baselines is not None:
            bs = [baselines(d, g) for g in groups]
            ax.scatter(pos, [np.nan if b is None else b for b in bs], marker="_", s=120, color="black", zorder=3,
                       label="shuffled-pair baseline" if k == 0 else None)
    ax.set_xticks(x, [g.replace("_", " ") for g in groups], rotation=30, ha="right")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(axis="y", alpha=0.3)


def accuracy_figure(docs: list[dict], path: Path) -> Path:
    """Single-factor zero-shot accuracy per factor and source, the multi-factor accuracy, and chance levels."""
    docs = _sorted(docs)
    factors = _factors_with(docs, "single_factor", "acc1")
    groups = factors + ["multi_factor"]
    fig = _figure(max(5.0, 1.1 * len(groups) + 2), 4.2)
    ax = fig.add_subplot()

    def acc(d, g):
        mt = d["metrics"]
        return mt["multi_factor"]["acc1"] if g == "multi_factor" else mt["single_factor"][g]["acc1"]

    def chance(d, g):
        mt = d["metrics"]
        n = mt["multi_factor"]["n_classes"] if g == "multi_factor" else len(mt["single_factor"][g]["classes"])
        return 1.0 / n if n else None

    _grouped_bars(ax, groups, docs, acc)
    x = np.arange(len(groups))
    ax.scatter(x, [chance(docs[0], g) for g in groups], marker="x", color="black", zorder=4, label="chance (1/classes)")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("top-1 accuracy")
    ax.set_title(_title(docs, "Zero-shot accuracy by factor and image source"), fontsize=10)
    ax.legend(fontsize=7, ncols=2, loc="upper right")
    return _save(fig, path)


def confusion_figure(docs: list[dict], factor: str, path: Path) -> Path:
    """One confusion matrix per source for ``factor`` (rows: true value, columns: predicted; colour: row share)."""
    docs = [d for d in _sorted(docs) if "confusion_matrix" in d["metrics"]["single_factor"][factor]]
    classes = docs[0]["metrics"]["single_factor"][factor]["classes"]
    k = len(classes)
    side = max(2.6, 0.45 * k + 1.4)
    ncols = len(docs) if len(docs) <= 2 or k <= 4 else 2  # many large matrices wrap into rows of two
    nrows = (len(docs) + ncols - 1) // ncols
    fig = _figure(side * ncols + 0.8, (side + 0.3) * nrows + 0.6)
    grid = fig.subplots(nrows, ncols, squeeze=False)
    axes = list(grid.flat)
    for spare in axes[len(docs):]:
        spare.set_visible(False)
    axes = axes[:len(docs)]
    image = None
    for ax, d in zip(axes, docs):
        entry = d["metrics"]["single_factor"][factor]
        cm = np.array(entry["confusion_matrix"], dtype=float)
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        image = ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        for i in range(len(cm)):
            for j in range(len(cm)):
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.6 else "black")
        labels = [str(c) for c in entry["classes"]]
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_title(f"{d['source']}  (acc {entry['acc1']:.2f})", fontsize=9)
    for row in grid:
        row[0].set_ylabel("true")
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="share of true class")
    fig.suptitle(_title(docs, f"Confusion: {factor.replace('_', ' ')}"), fontsize=10)
    return _save(fig, path)


def equivariance_figure(docs: list[dict], path: Path) -> Path:
    """Image and text equivariance per factor and source, and 3D-to-photo-real equivariance, each with the
    shuffled-pair baseline as a black tick."""
    docs = _sorted(docs)
    image_f = _factors_with(docs, "image_equivariance", "mean_cosine")
    text_f = _factors_with(docs, "text_equivariance", "mean_cosine")
    panels = [("image_equivariance", image_f, docs), ("text_equivariance", text_f, docs)]
    fig = _figure(max(6.0, 1.0 * max(len(image_f), len(text_f), 1) + 3), 3.2 * (len(panels) + 1))
    axes = fig.subplots(len(panels) + 1, 1)
    for ax, (metric, factors, ds) in zip(axes, panels):
        if factors:
            _grouped_bars(ax, factors, ds, lambda d, g, mt=metric: d["metrics"][mt][g]["mean_cosine"],
                          lambda d, g, mt=metric: d["metrics"][mt][g].get("shuffled", {}).get("mean_cosine"))
            ax.legend(fontsize=7, ncols=3, loc="lower right")
        else:
            ax.text(0.5, 0.5, "no factor has pairs differing in it alone", ha="center", transform=ax.transAxes)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("mean cosine")
        ax.set_title(metric.replace("_", " "), fontsize=9)
    ax = axes[-1]
    changes = [(d["source"], k, e) for d in docs for k, e in d["metrics"]["domain_equivariance"].items()
               if e["mean_cosine"] is not None]
    if changes:
        x = np.arange(len(changes))
        ax.bar(x, [e["mean_cosine"] for _, _, e in changes], 0.6,
               color=[_colour(s, i) for i, (s, _, _) in enumerate(changes)])
        ax.scatter(x, [e.get("shuffled", {}).get("mean_cosine", np.nan) or np.nan for _, _, e in changes],
                   marker="_", s=300, color="black", zorder=3, label="shuffled-pair baseline")
        ax.set_xticks(x, [k for _, k, _ in changes])
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no render + photo-real pairs (run diffusion to get sd_<mode>.png)", ha="center",
                transform=ax.transAxes)
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("mean cosine")
    ax.set_title("3D-to-photo-real equivariance (render -> diffusion mode, same sample)", fontsize=9)
    fig.suptitle(_title(docs, "Equivariance"), fontsize=10)
    return _save(fig, path)


OVERVIEW = (
    ("mean_single_factor_acc1", "mean single-factor accuracy"),
    ("multi_factor_acc1", "multi-factor accuracy"),
    ("mean_image_equivariance", "mean image equivariance"),
    ("mean_text_equivariance", "mean text equivariance"),
)


def overview_figure(docs: list[dict], path: Path) -> Path:
    """Tables of the mean metrics, one row per model and one column per source (like the paper's Figure 6)."""
    models = list(dict.fromkeys(d["model"] for d in docs))
    sources = sorted({d["source"] for d in docs}, key=source_sort_key)
    fig = _figure(max(6.0, 1.2 * len(sources) * 2 + 3), 1.0 + 0.45 * len(models) * 2 + 1.2)
    axes = fig.subplots(2, 2, squeeze=False).flat
    for ax, (key, label) in zip(axes, OVERVIEW):
        table = np.full((len(models), len(sources)), np.nan)
        for d in docs:
            value = d["metrics"].get(key)
            if value is not None:
                table[models.index(d["model"]), sources.index(d["source"])] = value
        low = -1.0 if "equivariance" in key else 0.0  # fixed scales: colours compare across figures
        ax.imshow(table, cmap="viridis", vmin=low, vmax=1.0, aspect="auto")
        for i in range(len(models)):
            for j in range(len(sources)):
                text = "n/a" if np.isnan(table[i, j]) else f"{table[i, j]:.2f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white",
                        bbox={"facecolor": "black", "alpha": 0.35, "linewidth": 0, "pad": 1})
        ax.set_xticks(range(len(sources)), sources, fontsize=8)
        ax.set_yticks(range(len(models)), [m if len(m) <= 28 else "..." + m[-25:] for m in models], fontsize=7)
        ax.set_title(label, fontsize=9)
    fig.suptitle(f"Overview: {docs[0]['dataset']}", fontsize=10)
    return _save(fig, path)


def write_figures(results_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """All figures for every (dataset, model) in ``results_dir`` (default output: ``results_dir/figures``)."""
    out_dir = Path(out_dir) if out_dir else Path(results_dir) / "figures"
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    datasets: dict[str, list[dict]] = defaultdict(list)
    for doc in load_results(results_dir):
        groups[(doc["dataset"], doc["model_key"])].append(doc)
        datasets[doc["dataset"]].append(doc)
    written = [overview_figure(docs, out_dir / f"{name}__overview.png") for name, docs in sorted(datasets.items())]
    for (dataset, key), docs in sorted(groups.items()):
        stem = f"{dataset}__{key}"
        written.append(accuracy_figure(docs, out_dir / f"{stem}__accuracy.png"))
        written.append(equivariance_figure(docs, out_dir / f"{stem}__equivariance.png"))
        for factor in _factors_with(docs, "single_factor", "acc1"):
            written.append(confusion_figure(docs, factor, out_dir / f"{stem}__confusion_{factor}.png"))
    return written

"""Results on disk: one JSON per (model, dataset, source) in a CLIP_benchmark-like schema, and a CSV summary.

CLIP_benchmark writes ``{"dataset", "model", "pretrained", "task", "metrics": {...}, "language"}``; we keep those
keys and add the source, the options and per-factor metrics, each with a ``status`` (and ``reason`` when it has
no value). The CSV is long-form: one row per (dataset, model, source, metric, factor).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..dataset.files import write_text
from . import metrics as m
from .dataset import source_sort_key
from .evaluate import SourceEvaluation

SCHEMA = "blurd-benchmark/1"
TASK = "blurd_factors"
SUMMARY_CSV = "summary.csv"
CSV_COLUMNS = ("dataset", "model", "model_key", "source", "metric", "factor", "value", "shuffled_baseline",
               "status", "n")


def _plain(x):
    """JSON-safe scalars: numpy numbers to Python, NaN never written (None instead)."""
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def zero_shot_dict(z: m.ZeroShot, phrases: list[str] | None = None) -> dict:
    out = {"status": z.status.value, "acc1": _plain(z.acc1), "balanced_accuracy": _plain(z.balanced_accuracy),
           "n": z.n, "classes": [_plain(c) for c in z.classes]}
    if phrases is not None:
        out["class_phrases"] = phrases
    if z.confusion is not None:
        out["confusion_matrix"] = z.confusion.tolist()
    if z.reason:
        out["reason"] = z.reason
    return out


def equivariance_dict(e: m.Equivariance, shuffled: m.Equivariance | None = None) -> dict:
    out = {"status": e.status.value, "mean_cosine": _plain(e.mean_cosine), "n_pairs": e.n_pairs,
           "n_cosines": e.n_cosines, "n_degenerate": e.n_degenerate}
    if e.reason:
        out["reason"] = e.reason
    if e.changes:
        out["changes"] = {k: {kk: _plain(vv) for kk, vv in v.items()} for k, v in e.changes.items()}
    if shuffled is not None:
        out["shuffled"] = equivariance_dict(shuffled)
    return out


def _mean_ok(values: Iterable[tuple[str, float | None]]) -> float | None:
    ok = [v for s, v in values if s == m.Status.OK.value and v is not None]
    return float(np.mean(ok)) if ok else None


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for pkg in ("torch", "transformers", "open_clip_torch", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def evaluation_to_dict(ev: SourceEvaluation) -> dict:
    """The JSON document of one (model, dataset, source)."""
    mt = ev.metrics
    single = {f: zero_shot_dict(z, mt.class_phrases[f]) for f, z in mt.single_factor.items()}
    image = {f: equivariance_dict(*pair) for f, pair in mt.image_equivariance.items()}
    text = {f: equivariance_dict(*pair) for f, pair in mt.text_equivariance.items()}
    domain = {k: equivariance_dict(*pair) for k, pair in mt.domain_equivariance.items()}
    multi = zero_shot_dict(mt.multi_factor)
    multi["n_classes"] = len(mt.multi_factor.classes)
    multi.pop("classes")
    metrics = {
        "mean_single_factor_acc1": _mean_ok((d["status"], d["acc1"]) for d in single.values()),
        "mean_single_factor_balanced_accuracy": _mean_ok(
            (d["status"], d["balanced_accuracy"]) for d in single.values()),
        "multi_factor_acc1": multi["acc1"],
        "mean_image_equivariance": _mean_ok((d["status"], d["mean_cosine"]) for d in image.values()),
        "mean_text_equivariance": _mean_ok((d["status"], d["mean_cosine"]) for d in text.values()),
        "mean_image_equivariance_shuffled": _mean_ok((d["shuffled"]["status"], d["shuffled"]["mean_cosine"])
                                                     for d in image.values() if d["status"] == "ok"),
        "mean_text_equivariance_shuffled": _mean_ok((d["shuffled"]["status"], d["shuffled"]["mean_cosine"])
                                                    for d in text.values() if d["status"] == "ok"),
        "varying_factors": mt.varying,
        "single_factor": single,
        "multi_factor": multi,
        "image_equivariance": image,
        "text_equivariance": text,
        "domain_equivariance": domain,
    }
    return {
        "schema": SCHEMA,
        "dataset": ev.dataset.name,
        "dataset_path": str(ev.dataset.root),
        "model": ev.model.name,
        "pretrained": ev.model.pretrained,
        "backend": ev.model.backend.value,
        "model_key": ev.model_key,
        "task": TASK,
        "source": ev.source,
        "language": "en",
        "n_samples": mt.n_samples,
        "n_skipped_sample_folders": len(ev.dataset.skipped),
        "n_truncated_captions": ev.n_truncated_captions,
        "options": {"templates": list(ev.options.templates), "caption_factors": ev.options.caption_factors.value,
                    "seed": ev.options.seed},
        "metrics": metrics,
        "versions": _versions(),
    }


def result_filename(doc: dict) -> str:
    return f"{doc['dataset']}__{doc['model_key']}__{doc['source']}.json"


def write_result(results_dir: Path, ev: SourceEvaluation) -> Path:
    doc = evaluation_to_dict(ev)
    path = Path(results_dir) / result_filename(doc)
    write_text(path, json.dumps(doc, indent=1, allow_nan=False) + "\n")
    return path


def load_results(results_dir: Path) -> list[dict]:
    """Every result JSON in ``results_dir`` (files of other schemas are ignored)."""
    docs = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("schema") == SCHEMA:
            docs.append(doc)
    return sorted(docs, key=lambda d: (d["dataset"], d["model_key"], source_sort_key(d["source"])))


def summary_rows(docs: Iterable[dict]) -> list[dict]:
    """Long-form rows: per factor single-factor acc1 / balanced accuracy, image and text equivariance (with the
    shuffled baseline), the multi-factor accuracy and each 3D-to-photo-real equivariance."""
    rows = []
    for d in docs:
        base = {"dataset": d["dataset"], "model": d["model"], "model_key": d["model_key"], "source": d["source"]}
        mt = d["metrics"]

        def add(metric, factor, value, status, n, shuffled=None, base=base):
            rows.append({**base, "metric": metric, "factor": factor, "value": value, "shuffled_baseline": shuffled,
                         "status": status, "n": n})

        for f, z in mt["single_factor"].items():
            add("zero_shot_acc1", f, z["acc1"], z["status"], z["n"])
            add("zero_shot_balanced_accuracy", f, z["balanced_accuracy"], z["status"], z["n"])
        z = mt["multi_factor"]
        add("multi_factor_acc1", "all", z["acc1"], z["status"], z["n"])
        means = (("zero_shot_acc1", "mean_single_factor_acc1", None),
                 ("zero_shot_balanced_accuracy", "mean_single_factor_balanced_accuracy", None),
                 ("image_equivariance", "mean_image_equivariance", "mean_image_equivariance_shuffled"),
                 ("text_equivariance", "mean_text_equivariance", "mean_text_equivariance_shuffled"))
        for metric, key, shuffled in means:  # factor "mean": the average over the factors with a value
            value = mt.get(key)
            add(metric, "mean", value, "ok" if value is not None else "no_value", d["n_samples"],
                mt.get(shuffled) if shuffled else None)
        for metric in ("image_equivariance", "text_equivariance", "domain_equivariance"):
            for f, e in mt[metric].items():
                add(metric, f, e["mean_cosine"], e["status"], e["n_pairs"], e.get("shuffled", {}).get("mean_cosine"))
    return rows


def write_summary(results_dir: Path, csv_path: Path | None = None) -> Path:
    """Collect every result JSON of ``results_dir`` into one CSV (default ``results_dir/summary.csv``)."""
    rows = summary_rows(load_results(results_dir))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    target = Path(csv_path) if csv_path else Path(results_dir) / SUMMARY_CSV
    write_text(target, buf.getvalue())
    return target

"""Result documents of the experiment: eval.json per run, and the comparison table (source x regime) as JSON, CSV
and Markdown. Everything is written atomically."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from ..dataset.files import write_json as _write_json
from ..dataset.files import write_text
from .augment import PAPER_NAMES, Regime
from .classes import CLASS_NAMES
from .errors import LearnError
from .pairs import RGB_SOURCE

EVAL_FILE = "eval.json"
RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
TABLE_MD = "table.md"
PHOTOREAL_SOURCE = "sd_harbinger"  # the full BLURD method: "BLURD SD" in the paper


def source_label(source: str) -> str:
    """The paper's name of a training source."""
    if source == RGB_SOURCE:
        return "BLURD 3D"
    if source == PHOTOREAL_SOURCE:
        return "BLURD SD"
    return f"BLURD SD: {source.removeprefix('sd_')}"


def regime_label(regime: str) -> str:
    return f"{PAPER_NAMES[Regime(regime)]} ({regime})"


def write_json(path: Path, doc: dict) -> Path:
    _write_json(path, doc)
    return path


def read_eval(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LearnError(f"{path} is not a readable result file ({exc}); re-run the evaluation") from exc


CSV_COLUMNS = ("source", "source_name", "regime", "regime_name", "miou", "pixel_accuracy",
               *(f"iou_{c}" for c in CLASS_NAMES), "test_set", "test_images", "steps", "final_loss")


def _row(doc: dict) -> dict:
    s = doc["scores"]
    row = {"source": doc["source"], "source_name": source_label(doc["source"]), "regime": doc["regime"],
           "regime_name": PAPER_NAMES[Regime(doc["regime"])], "miou": s["miou"], "pixel_accuracy": s["pixel_accuracy"],
           "test_set": doc["test_set"]["name"], "test_images": doc["test_set"]["images"], "steps": doc["steps"],
           "final_loss": doc["final_loss"]}
    row.update({f"iou_{c}": s["iou"].get(c) for c in CLASS_NAMES})
    return row


def _fmt(value) -> str:
    return "" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def comparison_markdown(docs: Sequence[dict]) -> str:
    """mIoU by source (rows) and regime (columns), as in the paper's Figure 7."""
    regimes = [r for r in Regime if any(d["regime"] == r.value for d in docs)]
    sources = list(dict.fromkeys(d["source"] for d in docs))
    by = {(d["source"], d["regime"]): d["scores"]["miou"] for d in docs}
    lines = ["| mIoU | " + " | ".join(regime_label(r.value) for r in regimes) + " |",
             "|---|" + "---|" * len(regimes)]
    for s in sources:
        cells = [_fmt(by.get((s, r.value))) or "-" for r in regimes]
        lines.append(f"| {source_label(s)} (`{s}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(out: Path, docs: Sequence[dict], meta: dict) -> dict[str, Path]:
    """results.json (every run's full document), results.csv (one row per run) and table.md in ``out``."""
    out = Path(out)
    rows = [_row(d) for d in docs]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(v) for k, v in row.items()})
    write_text(out / RESULTS_CSV, buffer.getvalue())
    write_json(out / RESULTS_JSON, {**meta, "classes": list(CLASS_NAMES), "runs": list(docs)})
    write_text(out / TABLE_MD, comparison_markdown(docs))
    return {"json": out / RESULTS_JSON, "csv": out / RESULTS_CSV, "table": out / TABLE_MD}

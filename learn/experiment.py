"""One run (train, then score on the test set) and the paper's grid of runs (sources x regimes) with its report.

Folder of an experiment (default DATASET/learn)::

    runs/<source>-<regime>/checkpoint.safetensors   latest training state (while training; resumed from)
    runs/<source>-<regime>/model.safetensors        trained weights + settings + loss history
    runs/<source>-<regime>/eval.json                per-class IoU, mIoU, confusion matrix on the test set
    results.json, results.csv, table.md             the comparison table (source x regime)
    figure7.png                                     examples + mIoU bars, like the paper's Figure 7

Re-running the same command skips finished runs and resumes a killed one from its checkpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from . import report
from .augment import Regime
from .errors import LearnError
from .evaluate import evaluate
from .figures import FIGURE_FILE, Example, figure7
from .model import check_spec
from .pairs import EvalSet, LabelledImage, blurd_pairs, check_source, load_blurd_dataset
from .train import RunOptions, TrainConfig, check_config, train, with_samples

RUNS_DIR = "runs"
DEFAULT_OUT = "learn"  # inside the dataset folder
PAPER_SOURCES = ("rgb", report.PHOTOREAL_SOURCE)


def run_dir(out: Path, source: str, regime: Regime | str) -> Path:
    return Path(out) / RUNS_DIR / f"{source}-{Regime(regime).value}"


def evalset_identity(evalset: EvalSet) -> dict:
    names = "\n".join(item.name for item in evalset.items)
    return {"name": evalset.name, "root": str(evalset.root), "format": evalset.format.value,
            "images": len(evalset.items), "digest": hashlib.sha256(names.encode()).hexdigest()[:16]}


def preflight(configs: Sequence[TrainConfig], allow_download: bool) -> None:
    """Every setting checked before any training starts."""
    for config in configs:
        check_source(config.source)
        check_config(config)
        check_spec(config.model, allow_download)


def run_one(config: TrainConfig, pairs: Sequence[LabelledImage], out: Path, options: RunOptions,
            evalset: EvalSet | None = None, progress: Callable[..., object] | None = None,
            eval_batch_size: int = 8) -> tuple[dict | None, object]:
    """Train (resuming or skipping what is done), then score on ``evalset``; returns (eval document or None, the
    train result). A finished run's eval.json is reused when it scored the same test set."""
    config = with_samples(config, pairs)
    result = train(config, pairs, out, options, progress)
    if not result.complete or evalset is None:
        return None, result
    identity = evalset_identity(evalset)
    path = Path(out) / report.EVAL_FILE
    if path.is_file():
        old = report.read_eval(path)
        if old.get("test_set") == identity and old.get("config") == config.to_dict():
            return old, result
    scored, confusion = evaluate(result.model, evalset, config.size, options.device, eval_batch_size, progress)
    doc = {"source": config.source, "regime": config.regime.value, "test_set": identity, "scores": scored.to_dict(),
           "confusion": confusion.tolist(), "steps": result.steps_done,
           "final_loss": result.losses[-1] if result.losses else None, "config": config.to_dict()}
    report.write_json(path, doc)
    return doc, result


def common_pairs(dataset: Path, sources: Sequence[str]) -> dict[str, list[LabelledImage]]:
    """Each source's pairs, restricted to the samples every source has, so all runs train on the same scenes."""
    ds = load_blurd_dataset(dataset)
    by_source = {s: blurd_pairs(ds, s) for s in sources}
    shared = set.intersection(*({p.name for p in pairs} for pairs in by_source.values()))
    if not shared:
        raise LearnError(f"no sample of {ds.root} has all of {', '.join(sources)}; finish the diffusion outputs first")
    return {s: [p for p in pairs if p.name in shared] for s, pairs in by_source.items()}


def examples(pairs: dict[str, list[LabelledImage]], evalset: EvalSet) -> list[Example]:
    shown = [Example(report.source_label(s), p[0].image, p[0].label()) for s, p in pairs.items() if p]
    if evalset.items:
        shown.append(Example(evalset.name, evalset.items[0].image, evalset.items[0].label()))
    return shown


def run_experiment(dataset: Path, evalset: EvalSet, out: Path, base: TrainConfig, options: RunOptions,
                   sources: Sequence[str] = PAPER_SOURCES, regimes: Sequence[Regime] = tuple(Regime),
                   progress: Callable[..., object] | None = None, eval_batch_size: int = 8,
                   figure: bool = True, log: Callable[[str], None] = print) -> dict[str, Path]:
    """The grid: one run per (source, regime), then results.json/.csv, table.md and figure7.png in ``out``."""
    configs = [replace(base, source=s, regime=Regime(r)) for s in sources for r in regimes]
    preflight(configs, options.allow_download)
    pairs = common_pairs(dataset, sources)
    if not evalset.items:
        raise LearnError(f"test set {evalset.root} has no image")
    docs = []
    for config in configs:
        folder = run_dir(out, config.source, config.regime)
        doc, result = run_one(config, pairs[config.source], folder, options, evalset, progress, eval_batch_size)
        assert doc is not None  # the experiment runs every training to its end
        docs.append(doc)
        miou = doc["scores"]["miou"]
        log(f"{config.source:>14} | {config.regime.value:>9} | {result.steps_done} steps | final loss "
            f"{doc['final_loss']:.4f} | mIoU {'n/a' if miou is None else f'{miou:.4f}'} -> {folder}")
    meta = {"dataset": str(Path(dataset).resolve()), "test_set": evalset_identity(evalset),
            "samples_per_source": len(next(iter(pairs.values())))}
    written = report.write_results(out, docs, meta)
    if figure:
        written["figure"] = figure7(docs, examples(pairs, evalset), Path(out) / FIGURE_FILE)
    return written

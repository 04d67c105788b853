"""The console command: ``python -m blurd.benchmark {info,evaluate,summary,figures,export,fidelity,tiny-model} ...``.

Every check (dataset folder, sources, templates, device, models) runs before any embedding is computed; a
BenchmarkError is printed as one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..cli_args import run_subcommand
from .dataset import RENDER, load_dataset
from .errors import BenchmarkError
from .evaluate import DEFAULT_TEMPLATES, CaptionFactors, EvalOptions, check_templates

RESULTS_DIR = "benchmark"  # default results folder inside the dataset folder


def _quiet_libraries() -> None:
    """Hide the weight-loading bars of transformers and huggingface_hub (--quiet)."""
    try:
        from huggingface_hub.utils import disable_progress_bars
        from transformers.utils import logging

        disable_progress_bars()
        logging.disable_progress_bar()
    except ImportError:
        pass


def _progress_factory(quiet: bool):
    from tqdm.auto import tqdm

    def make(total: int, desc: str):
        return tqdm(total=total, desc=desc, unit="img", disable=quiet, leave=False)

    return make


def _templates(args: argparse.Namespace) -> tuple[str, ...]:
    templates = list(args.template or [])
    if args.templates_file:
        path = Path(args.templates_file)
        if not path.is_file():
            raise BenchmarkError(f"templates file {path} does not exist; give one template per line, with {{}}")
        templates += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return check_templates(templates or DEFAULT_TEMPLATES)


def cmd_info(args: argparse.Namespace) -> int:
    from .metrics import ordered_values, varying_factors

    ds = load_dataset(args.dataset)
    print(f"dataset {ds.root}: {len(ds.samples)} complete samples, {len(ds.skipped)} skipped")
    for s in ds.skipped[:10]:
        print(f"  skipped {s.dir.name}: {s.reason}")
    for source in ds.sources():
        print(f"  source {source}: {len(ds.with_source(source))} images")
    rows = [s.factors for s in ds.samples]
    for name in varying_factors(rows):
        print(f"  varies {name}: {', '.join(str(v) for v in ordered_values(name, [r[name] for r in rows]))}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import torch

    from ..factors.devices import resolve_device
    from .encoders import make_encoder, parse_model_spec
    from .evaluate import evaluate_model
    from .figures import write_figures
    from .report import write_result, write_summary

    ds = load_dataset(args.dataset)
    options = EvalOptions(templates=_templates(args), caption_factors=CaptionFactors(args.caption_factors),
                          seed=args.seed, sources=tuple(args.source) if args.source else None)
    present = ds.sources()
    missing = [s for s in options.sources or () if s not in present]
    if missing:
        raise BenchmarkError(f"source(s) {missing} not in {ds.root}; it has: {', '.join(present)}")
    device = resolve_device(args.device, torch)
    encoders = [make_encoder(parse_model_spec(m), device=device, batch_size=args.batch_size,
                             allow_download=args.allow_download) for m in args.model]
    for enc in encoders:
        enc.preflight()
    results_dir = Path(args.out) if args.out else ds.root / RESULTS_DIR
    if ds.skipped:
        print(f"note: {len(ds.skipped)} incomplete or invalid sample folder(s) skipped (see `info`)", file=sys.stderr)
    progress = _progress_factory(args.quiet)
    if args.quiet:
        _quiet_libraries()
    for enc in encoders:
        results = evaluate_model(ds, enc, options, progress)
        for r in results:
            path = write_result(results_dir, r)
            mt = r.metrics
            ok = [z.acc1 for z in mt.single_factor.values() if z.acc1 is not None]
            mean = f"{sum(ok) / len(ok):.3f}" if ok else "n/a"
            multi = f"{mt.multi_factor.acc1:.3f}" if mt.multi_factor.acc1 is not None else "n/a"
            print(f"{enc.spec.name} | {r.source:>10} | {mt.n_samples} samples | mean single-factor acc {mean} | "
                  f"multi-factor acc {multi} -> {path}")
        stats = results[0].cache if results else None
        if stats is not None and not args.quiet:
            print(f"  image embeddings: {stats.computed} computed, {stats.reused} from cache; captions: "
                  f"{stats.texts_computed} computed" + ("" if enc.loaded else " (model not loaded)"))
        truncated = max((r.n_truncated_captions for r in results), default=0)
        if truncated:
            print(f"warning: {truncated} caption(s) were longer than the text model's context and were cut; "
                  "use --caption-factors varying or shorter templates", file=sys.stderr)
    print(f"summary: {write_summary(results_dir)}")
    if not args.no_figures:
        figures = write_figures(results_dir)
        print(f"figures: {len(figures)} in {results_dir / 'figures'}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from .report import write_summary

    print(write_summary(Path(args.results), Path(args.csv) if args.csv else None))
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from .figures import write_figures

    for path in write_figures(Path(args.results), Path(args.out) if args.out else None):
        print(path)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .exports import export_imagefolder, export_parquet, export_webdataset

    ds = load_dataset(args.dataset)
    if args.format == "parquet":
        print(export_parquet(ds, args.out))
    elif args.format == "imagefolder":
        print(export_imagefolder(ds, args.out, sources=args.source or [RENDER]))
    else:
        print(export_webdataset(ds, args.factor, args.out, source=args.source or RENDER, templates=_templates(args),
                                split=args.split, shard_size=args.shard_size))
    return 0


def cmd_fidelity(args: argparse.Namespace) -> int:
    from .fidelity import fidelity_report, write_report

    ds = load_dataset(args.dataset)
    present = ds.sources()
    missing = [s for s in args.source or () if s not in present]
    if missing:
        raise BenchmarkError(f"source(s) {missing} not in {ds.root}; it has: {', '.join(present)}")
    report = fidelity_report(ds, args.source or None, args.max_pairs)
    if not report.pairs:
        raise BenchmarkError(f"{ds.root} holds no pair of samples that differ in exactly one colour factor; sweep a "
                             f"colour factor (e.g. [grid.sweep] hair_color = [\"red\", \"blue\"]) to measure control")
    paths = write_report(report, Path(args.out) if args.out else ds.root / RESULTS_DIR)
    print(f"{len(report.pairs)} pair measurements in {len(report.sources)} source(s) of {ds.root}")
    for s in report.summaries:
        print(f"  {s.factor:<16} {s.source:<10} {s.pairs:>4} pairs  pixel share {s.pixel_share_mean:.4f} "
              f"(min {s.pixel_share_min:.4f})  energy share {s.energy_share_mean:.4f} (min {s.energy_share_min:.4f})")
    for name, path in paths.items():
        print(f"  {name}: {path}")
    return 0


def cmd_tiny_model(args: argparse.Namespace) -> int:
    from .tiny import save_tiny_clip

    print(save_tiny_clip(args.folder, seed=args.seed))
    return 0


def _add_templates(p: argparse.ArgumentParser) -> None:
    p.add_argument("--template", action="append", metavar="TEXT",
                   help="caption template with {} for the class phrase (repeat for an ensemble); "
                        "default: 'A picture of {}.'")
    p.add_argument("--templates-file", metavar="FILE", help="more templates, one per line")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blurd.benchmark",
        description="Benchmark CLIP models on a BLURD dataset folder (zero-shot accuracy, equivariance) and export "
                    "the dataset for other tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="list a dataset folder's samples, sources and varying factors")
    p.add_argument("dataset", help="dataset folder (the --out of a batch sweep)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("evaluate", help="evaluate CLIP models on every image source of a dataset folder",
                       description="Writes one JSON per (model, dataset, source), summary.csv and figures. Image "
                                   "embeddings are cached in DATASET/.cache/embeddings, so re-runs are free.")
    p.add_argument("dataset", help="dataset folder (the --out of a batch sweep)")
    p.add_argument("--model", action="append", required=True, metavar="MODEL",
                   help="transformers CLIP hub id or folder (e.g. openai/clip-vit-base-patch32), or "
                        "open_clip:ARCH:PRETRAINED; repeat for several models")
    p.add_argument("--out", metavar="DIR", help=f"results folder (default: DATASET/{RESULTS_DIR})")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cuda, cuda:N, mps or cpu")
    p.add_argument("--source", action="append", metavar="SOURCE",
                   help="image source to evaluate: render or a diffusion mode (repeat); default: all present")
    _add_templates(p)
    p.add_argument("--caption-factors", choices=[c.value for c in CaptionFactors], default=CaptionFactors.VARYING.value,
                   help="factors the multi-factor captions describe (default: varying; all twenty exceed 77 tokens)")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffled-pair baselines (default 0)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--allow-download", action="store_true", help="let transformers fetch a model from the hub")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("summary", help="collect the result JSONs of a folder into summary.csv")
    p.add_argument("results", help="results folder")
    p.add_argument("--csv", metavar="FILE", help="output CSV (default: RESULTS/summary.csv)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("figures", help="draw the figures of a results folder")
    p.add_argument("results", help="results folder")
    p.add_argument("--out", metavar="DIR", help="figure folder (default: RESULTS/figures)")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("export", help="export a dataset folder: parquet, imagefolder or wds")
    esub = p.add_subparsers(dest="format", required=True, metavar="FORMAT")
    e = esub.add_parser("parquet", help="one row per sample: factors and the path of every pass and output")
    e.add_argument("dataset")
    e.add_argument("--out", metavar="FILE", help="default: DATASET/exports/samples.parquet")
    e.set_defaults(func=cmd_export)
    e = esub.add_parser("imagefolder", help="Hugging Face imagefolder with factor columns in metadata.jsonl")
    e.add_argument("dataset")
    e.add_argument("--out", required=True, metavar="DIR")
    e.add_argument("--source", action="append", metavar="SOURCE", help="image source(s) (default: render)")
    e.set_defaults(func=cmd_export)
    e = esub.add_parser("wds", help="CLIP_benchmark WebDataset shards classifying one factor")
    e.add_argument("dataset")
    e.add_argument("--factor", required=True, help="the factor whose values are the classes")
    e.add_argument("--out", required=True, metavar="DIR")
    e.add_argument("--source", metavar="SOURCE", help="image source (default: render)")
    _add_templates(e)
    e.add_argument("--split", default="test")
    e.add_argument("--shard-size", type=int, default=1000, help="samples per tar shard")
    e.set_defaults(func=cmd_export)

    p = sub.add_parser("fidelity", help="control fidelity: how much of each one-factor pair's change lies in its part",
                       description="For every pair of samples that differ in exactly one colour factor, the share of "
                                   "changed pixels (> 2/255) and of the change's energy inside the factor's part "
                                   "mask (dilated 2 px), per factor and image source. Writes fidelity.json, "
                                   "fidelity.csv and fidelity.png.")
    p.add_argument("dataset", help="dataset folder (the --out of a batch sweep)")
    p.add_argument("--source", action="append", metavar="SOURCE",
                   help="image source: render or a diffusion mode (repeat); default: all present")
    p.add_argument("--out", metavar="DIR", help=f"results folder (default: DATASET/{RESULTS_DIR})")
    p.add_argument("--max-pairs", type=int, metavar="N", help="measure at most N pairs per factor")
    p.set_defaults(func=cmd_fidelity)

    p = sub.add_parser("tiny-model", help="save a tiny random-weight CLIP to a folder (pipeline smoke tests)")
    p.add_argument("folder")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_tiny_model)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_subcommand(build_parser(), argv)

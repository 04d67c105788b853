"""The console command: ``python -m blurd.learn {segmentation,experiment} ...``.

Every input (dataset folder, source, test set layout, encoder and its weights, device, sizes) is checked before
the first training step; a problem is printed as one ``error:`` line and exits with status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ..cli_args import run_subcommand
from .augment import Regime
from .celeba import Split
from .errors import LearnError
from .model import NO_WEIGHTS, ModelSpec
from .pairs import EvalLayout
from .train import RunOptions, TrainConfig


def _progress_factory(quiet: bool):
    from tqdm.auto import tqdm

    def make(total: int, desc: str, initial: int = 0):
        return tqdm(total=total, initial=initial, desc=desc, unit="step" if desc.startswith("train") else "img",
                    disable=quiet, dynamic_ncols=True)

    return make


def _channels(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated channel counts, e.g. 256,128,64") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: channel counts must be positive")
    return values


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _config(args: argparse.Namespace, source: str, regime: str) -> TrainConfig:
    spec = ModelSpec(encoder=args.encoder, encoder_depth=args.encoder_depth,
                     decoder_channels=args.decoder_channels or ModelSpec().decoder_channels[:args.encoder_depth],
                     encoder_weights=args.encoder_weights)
    return TrainConfig(source=source, regime=Regime(regime), model=spec, size=args.size, epochs=args.epochs,
                       batch_size=args.batch_size, lr=args.lr, seed=args.seed)


def _options(args: argparse.Namespace) -> RunOptions:
    import torch

    from ..factors.devices import resolve_device

    return RunOptions(device=resolve_device(args.device, torch), workers=args.workers,
                      checkpoint_every=args.checkpoint_every, stop_after=getattr(args, "stop_after", None),
                      allow_download=args.allow_download)


def _evalset(args: argparse.Namespace):
    from .pairs import open_test_set

    if not args.test:
        return None
    return open_test_set(args.test, args.test_format, source=args.test_source, split=args.test_split,
                         partition_file=args.partition_file, limit=args.test_limit)


def _print_scores(doc: dict) -> None:
    s = doc["scores"]
    per_class = ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in s["iou"].items())
    miou = "n/a" if s["miou"] is None else f"{s['miou']:.4f}"
    print(f"mIoU {miou} on {doc['test_set']['name']} ({doc['test_set']['images']} images): {per_class}")


def cmd_segmentation(args: argparse.Namespace) -> int:
    from .experiment import DEFAULT_OUT, preflight, run_dir, run_one
    from .pairs import blurd_pairs, load_blurd_dataset

    config = _config(args, args.source, args.augment)
    options = _options(args)
    preflight([config], options.allow_download)
    ds = load_blurd_dataset(args.dataset)
    pairs = blurd_pairs(ds, config.source)
    evalset = _evalset(args)
    out = Path(args.out) if args.out else run_dir(ds.root / DEFAULT_OUT, config.source, config.regime)
    doc, result = run_one(config, pairs, out, options, evalset, _progress_factory(args.quiet), args.eval_batch_size)
    loss = f"{result.losses[-1]:.4f}" if result.losses else "n/a"
    if not result.complete:
        print(f"stopped after {result.steps_done} of {result.total_steps} steps (loss {loss}); the same command "
              f"resumes from {out}")
        return 0
    print(f"{config.source}/{config.regime.value}: {result.total_steps} steps on {len(pairs)} samples, final loss "
          f"{loss} -> {out}")
    if doc is not None:
        _print_scores(doc)
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from .experiment import DEFAULT_OUT, run_experiment
    from .pairs import load_blurd_dataset

    if not args.test:
        raise LearnError("experiment needs --test DIR: a CelebAMask-HQ folder, an images/ + labels/ folder or a BLURD "
                         "dataset folder to score every run on")
    sources, regimes = _names(args.sources), _names(args.regimes)
    bad = [r for r in regimes if r not in {x.value for x in Regime}]
    if bad or not regimes:
        raise LearnError(f"--regimes {args.regimes!r}: use names from {', '.join(r.value for r in Regime)}")
    base = _config(args, sources[0] if sources else "rgb", regimes[0])
    options = _options(args)
    ds = load_blurd_dataset(args.dataset)
    evalset = _evalset(args)
    out = Path(args.out) if args.out else ds.root / DEFAULT_OUT
    written = run_experiment(ds.root, evalset, out, base, options, sources, [Regime(r) for r in regimes],
                             _progress_factory(args.quiet), args.eval_batch_size, figure=not args.no_figure)
    print(written["table"].read_text(encoding="utf-8"), end="")
    for kind, path in written.items():
        print(f"{kind}: {path}")
    return 0


def _add_training(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model and training")
    g.add_argument("--encoder", default="resnet34", help="smp encoder name, or tu-<timm model> (default resnet34)")
    g.add_argument("--encoder-depth", type=int, default=5, choices=range(3, 6), metavar="3..5",
                   help="encoder stages used (default 5)")
    g.add_argument("--decoder-channels", type=_channels, metavar="C1,C2,...",
                   help="decoder widths, one per depth level (default 256,128,64,32,16 cut to the depth)")
    g.add_argument("--encoder-weights", default=NO_WEIGHTS, metavar="none|FILE|NAME",
                   help="starting encoder weights: none (random, default), a local .safetensors/.pth file, or a "
                        "named pretraining such as imagenet (downloads: needs --allow-download)")
    g.add_argument("--allow-download", action="store_true", help="let smp fetch named encoder weights from the hub")
    g.add_argument("--size", type=_positive, default=256, help="square input size in pixels (default 256)")
    g.add_argument("--epochs", type=_positive, default=20, help="passes over the training samples (default 20)")
    g.add_argument("--batch-size", type=_positive, default=8)
    g.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    g.add_argument("--seed", type=int, default=0, help="fixes initial weights, shuffling and augmentations")
    g = p.add_argument_group("execution")
    g.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cuda, cuda:N, mps or cpu")
    g.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (default 2; results do not "
                                                          "depend on it)")
    g.add_argument("--checkpoint-every", type=_positive, default=100, metavar="STEPS",
                   help="write the training state every STEPS steps (default 100)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    g = p.add_argument_group("test set")
    g.add_argument("--test", metavar="DIR", help="CelebAMask-HQ folder, images/ + labels/ folder, or BLURD dataset")
    g.add_argument("--test-format", choices=[f.value for f in EvalLayout], default=EvalLayout.AUTO.value,
                   help="layout of --test (default: detected)")
    g.add_argument("--test-split", choices=[s.value for s in Split], default=Split.ALL.value,
                   help="CelebAMask-HQ: CelebA's partition to score (default all; others need the mapping and "
                        "list_eval_partition.txt)")
    g.add_argument("--partition-file", type=Path, metavar="FILE", help="CelebA's list_eval_partition.txt")
    g.add_argument("--test-source", default="rgb", help="image source when --test is a BLURD dataset (default rgb)")
    g.add_argument("--test-limit", type=_positive, metavar="N", help="score only the first N test images")
    g.add_argument("--eval-batch-size", type=_positive, default=8)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blurd.learn",
        description="BLURD Mask: train U-Nets on rendered (BLURD 3D) or photo-real (BLURD SD) images with the rendered "
                    "label maps, and score them on real photographs (CelebAMask-HQ). See docs/learn.md.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("segmentation", help="train (or resume) one U-Net and score it on a test set",
                       description="Trains on SOURCE images of a dataset folder with its label.png maps. Re-running "
                                   "the same command resumes a killed run from its last checkpoint.")
    p.add_argument("dataset", help="dataset folder (the --out of a batch sweep)")
    p.add_argument("--source", default="rgb", help="rgb (the render, BLURD 3D) or sd_<mode> (default rgb)")
    p.add_argument("--augment", choices=[r.value for r in Regime], default=Regime.NONE.value,
                   help="none | geometric (random resize, crop, flip) | all (+ brightness and hue jitter)")
    p.add_argument("--out", metavar="DIR", help="run folder (default DATASET/learn/runs/SOURCE-AUGMENT)")
    p.add_argument("--stop-after", type=_positive, metavar="STEPS",
                   help="stop once STEPS steps are done (a checkpoint is written); run again to continue")
    _add_training(p)
    p.set_defaults(func=cmd_segmentation)

    p = sub.add_parser("experiment", help="the paper's grid: every source x augmentation regime, table and figure",
                       description="Trains one U-Net per (source, regime) on the samples every source has, scores "
                                   "each on --test, and writes results.json/.csv, table.md and figure7.png.")
    p.add_argument("dataset", help="dataset folder (the --out of a batch sweep, with sd_<mode> outputs)")
    p.add_argument("--sources", default="rgb,sd_harbinger", metavar="S1,S2",
                   help="training sources (default rgb,sd_harbinger: BLURD 3D and BLURD SD)")
    p.add_argument("--regimes", default=",".join(r.value for r in Regime), metavar="R1,R2",
                   help="augmentation regimes (default none,geometric,all)")
    p.add_argument("--out", metavar="DIR", help="experiment folder (default DATASET/learn)")
    p.add_argument("--no-figure", action="store_true", help="skip figure7.png")
    _add_training(p)
    p.set_defaults(func=cmd_experiment)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_subcommand(build_parser(), argv)

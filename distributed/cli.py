"""``python -m blurd.distributed``: sweep a preset on a Ray cluster into the same dataset the local sweep makes.

    python -m blurd.distributed --preset presets/quick.toml --out /shared/quick                 # a local Ray
    python -m blurd.distributed --preset P --out /shared/ds --address auto --diffuse harbinger   # on a cluster

Everything is checked (preset, modes, shard, output folder, the cluster's address and resources) before any
worker starts. Run again on the same folder, it resumes: complete samples and finished diffusion images are
skipped. Under ``sbatch --array`` the shard comes from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import presets
from ..cli_args import folder_argument, positive_float, positive_int
from ..dataset.destination import dataset_folder
from ..diffusion.modes import parse_modes
from ..factors.errors import BlurdError
from ..factors.slurm import requested_shard
from ..presets.settings import Device
from .cluster import Stage, TorchDevice, connect, plan_pools
from .errors import ClusterError
from .pipeline import DispatchHook, Pipeline, RunConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blurd.distributed",
        description="Sweep a BLURD preset on a Ray cluster: render, diffuse and embed in parallel into one dataset "
        "folder on a shared file system (the same dataset `batch.py` makes).")
    parser.add_argument("--preset", required=True, type=Path, help="preset file (.toml or .json)")
    parser.add_argument("--out", required=True, type=folder_argument,
                        help="dataset folder, on a file system every node mounts at the same path")
    parser.add_argument("--address", help="Ray cluster to join: 'auto' (on a cluster node), HOST:PORT or "
                        "ray://HOST:PORT; omitted: start a local Ray on this machine")
    parser.add_argument("--limit", type=positive_int, help="only the first N samples of the grid (or shard)")
    parser.add_argument("--shard", metavar="i/n", help="only shard i of n (default under sbatch --array: "
                        "$SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT)")
    parser.add_argument("--render-workers", type=positive_int, help="render workers (default: fill the CPUs, or "
                        "the GPUs when the preset renders on GPU, left by the other stages)")
    parser.add_argument("--cpus-per-render", type=positive_float,
                        help="CPUs each render worker reserves (default: the preset's render threads, or 1)")
    parser.add_argument("--diffuse", metavar="MODES", help="diffusion modes to run on each sample, e.g. "
                        "unleashed,tempered,harbinger")
    parser.add_argument("--diffusion-workers", type=positive_int,
                        help="diffusion workers, one pipeline each (default: one per GPU)")
    parser.add_argument("--embed", metavar="MODEL", help="also embed every image with this CLIP model (hub id or "
                        "folder) into the benchmark's embedding cache")
    parser.add_argument("--embed-workers", type=positive_int, help="embedding workers (default 1)")
    parser.add_argument("--torch-device", choices=[d.value for d in TorchDevice], default=TorchDevice.AUTO.value,
                        help="where diffusion and embedding run: auto (GPUs when the cluster has any), gpu, cpu")
    parser.add_argument("--allow-downloads", action="store_true",
                        help="let the workers download missing models from the Hugging Face Hub")
    parser.add_argument("--max-attempts", type=positive_int, default=3,
                        help="tries per sample when workers die under it (default 3)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs, CI)")
    return parser


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, RunConfig]:
    """Parsed arguments and the RunConfig they describe; every problem is a parser error before any work."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:
        preset = presets.load_preset(args.preset)
        shard = requested_shard(args.shard, os.environ)
        modes = tuple(mode.name for mode in parse_modes(args.diffuse)) if args.diffuse else ()
        embed_key = _model_key(args.embed) if args.embed else ""
    except BlurdError as exc:
        parser.error(str(exc))
    try:
        out = dataset_folder(args.out, preset.output.folder)
    except BlurdError as exc:
        parser.error(str(exc))
    diffusion = preset.diffusion
    config = RunConfig(
        out=out, grid=preset.grid, render=preset.render, output=preset.output, limit=args.limit, shard=shard,
        preset_path=args.preset, modes=modes, diffusion=diffusion.to_mapping() if modes else None,
        batch_size=int(getattr(diffusion, "batch_size", 1)) if modes else 1, allow_downloads=args.allow_downloads,
        embed_model=args.embed, embed_model_key=embed_key, progress_bar=not args.no_progress,
        max_attempts=args.max_attempts)
    return args, config


def _model_key(model: str) -> str:
    from ..benchmark.encoders import parse_model_spec  # no torch: the key names the weights' files

    return parse_model_spec(model).key


def main(argv: Sequence[str] | None = None, *, build_scene: Callable | None = None,
         apply_factors: Callable | None = None, on_dispatch: DispatchHook | None = None) -> int:
    """Run the preset on Ray; 0 when every sample and image is complete, 1 when some failed, 2 when the run could
    not start, 130 when interrupted. ``build_scene``/``apply_factors`` replace the built-in human (as in batch.py);
    ``on_dispatch`` sees every item handed to a worker (tests kill workers with it)."""
    args, config = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        resources = connect(args.address)
        pools = plan_pools(
            resources, render_workers=args.render_workers, render_on_gpu=config.render.device is Device.GPU,
            cpus_per_render=args.cpus_per_render or float(config.render.threads or 1), diffusion=bool(config.modes),
            diffusion_workers=args.diffusion_workers, embed=config.embed_model is not None,
            embed_workers=args.embed_workers, torch_device=TorchDevice(args.torch_device))
        if pools.get(Stage.EMBED) is not None:
            config = _with_embed_device(config, pools[Stage.EMBED].num_gpus > 0)
        print(f"blurd.distributed: {resources.text()}; " + "; ".join(p.text() for p in pools.values()),
              file=sys.stderr)
        summary = Pipeline(config, pools, build_scene=build_scene, apply_factors=apply_factors,
                           on_dispatch=on_dispatch).run()
    except ClusterError as exc:
        print(f"blurd.distributed: {exc}", file=sys.stderr)
        return 2
    except BlurdError as exc:
        print(f"blurd.distributed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nblurd.distributed: interrupted; run the same command again to resume into {config.out}",
              file=sys.stderr)
        return 130
    print(summary.text())
    return 1 if summary.failures else 0


def _with_embed_device(config: RunConfig, on_gpu: bool) -> RunConfig:
    from dataclasses import replace

    return replace(config, embed_device="cuda" if on_gpu else "cpu")

"""Headless dataset sweep, the same engine as the sidebar's Batch sweep operator.

    blender -b -P batch.py -- --preset presets/quick.toml --out out/quick [--limit N] [--shard i/n]
    python batch.py --preset presets/quick.toml --out out/quick            (with the bpy wheel installed)
    python batch.py --blend rig.blend --bindings rig.toml --preset my.toml --out out/rig     (your own character)
    blender -b rig.blend -P batch.py -- --preset my.toml --out out/rig    (the scene's own binding file)

Without a .blend the built-in human is built; a .blend (``--blend``, or the one Blender opened) is swept as it is,
driven by ``--bindings`` or the scene's ``blurd_bindings``; a scene with neither nor the built-in human is refused.

Arguments are checked (preset, shard, output folder) before any scene is built. Killed and started again on
the same folder, the sweep resumes: complete samples are skipped, partial ones are cleared.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

NOT_INSTALLED = (
    "batch.py: the package `blurd` is not importable by this Python ({python}). From a clone, run "
    "`bash scripts/setup.sh` and use `.venv/bin/python batch.py ...`; for `blender -b -P batch.py`, install the clone "
    "into Blender's own Python once with `bash scripts/setup_blender.sh /path/to/blender` (README: Making a dataset)."
)
try:
    from blurd import presets
    from blurd.cli_args import folder_argument, positive_int
    from blurd.dataset.destination import dataset_folder
    from blurd.diffusion.modes import parse_modes
    from blurd.factors.errors import BlurdError
    from blurd.factors.slurm import requested_shard
except ModuleNotFoundError as exc:  # not a second way to import: a message saying how to install the package
    if exc.name != "blurd":
        raise
    raise SystemExit(NOT_INSTALLED.format(python=sys.executable)) from None


# ----------------------------------------------------------------------------------------------- the command


def script_arguments(argv: Sequence[str]) -> list[str]:
    """The script's own arguments: those after ``--`` (Blender's convention), else all but the program name."""
    argv = list(argv)
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch.py",
        description="Sweep a BLURD preset's factor grid into a dataset folder (renders, passes, manifest, "
        "contact sheet). Under Blender: blender -b -P batch.py -- ARGS",
    )
    parser.add_argument("--preset", required=True, type=Path, help="preset file (.toml or .json)")
    parser.add_argument("--out", required=True, type=folder_argument,
                        help="dataset folder (created; resumed if it exists)")
    parser.add_argument("--limit", type=positive_int, help="only the first N samples of the grid (or shard)")
    parser.add_argument("--shard", metavar="i/n", help="only shard i of n (0 <= i < n), e.g. 0/4; default under "
                        "sbatch --array: $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT")
    parser.add_argument("--diffuse", metavar="MODES",
                        help="also run diffusion modes on each sample, e.g. unleashed,tempered,harbinger")
    parser.add_argument("--allow-downloads", action="store_true",
                        help="let the diffusion worker download missing models from the Hugging Face Hub (inside "
                        "Blender this also needs online access: blender --online-mode)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    parser.add_argument("--blend", type=Path, metavar="FILE",
                        help="sweep this .blend's scene (your own character) instead of the built-in human")
    parser.add_argument("--bindings", type=Path, metavar="FILE",
                        help="binding file mapping the factors onto the scene (docs/bindings.md); default: the "
                        "scene's own blurd_bindings")
    return parser


def downloads_allowed(requested: bool, online_access: bool, in_blender: bool) -> bool:
    """Whether the worker may download models: asked for with --allow-downloads and, inside Blender, permitted by
    Blender's online access (the bpy wheel has no such setting: the flag alone decides there)."""
    if requested and in_blender and not online_access:
        raise SystemExit("batch.py: --allow-downloads, but Blender's online access is off; start Blender with "
                         "--online-mode or enable Preferences > System > Network > Allow Online Access")
    return requested


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, Any]:
    """Parsed arguments and the SweepConfig they describe; every problem is a parser error before any work."""
    parser = build_parser()
    args = parser.parse_args(script_arguments(argv))
    try:
        preset = presets.load_preset(args.preset)
        shard = requested_shard(args.shard, os.environ)
        modes = parse_modes(args.diffuse) if args.diffuse is not None else ()  # --diffuse '' is an error
    except BlurdError as exc:
        parser.error(str(exc))
    if args.blend is not None and not args.blend.is_file():
        parser.error(f"--blend {args.blend}: no such file; give the .blend of your character")
    if args.bindings is not None and not args.bindings.is_file():
        parser.error(f"--bindings {args.bindings}: no such file; give your character's binding file "
                     f"(docs/bindings.md)")
    try:
        out = dataset_folder(args.out, preset.output.folder)
    except BlurdError as exc:
        parser.error(str(exc))
    args.modes = modes
    args.loaded_preset = preset
    config = dict(out=out, grid=preset.grid, render=preset.render, output=preset.output, limit=args.limit,
                  shard=shard, preset_path=args.preset, progress_bar=not args.no_progress)
    return args, config


def diffusion_queue(modes: tuple, preset: Any, allow_downloads: bool = False) -> Any:
    """The batch diffusion stage for --diffuse: a DiffusionQueue whose ``submit`` is the sweep's
    per-sample hook (each rendered sample diffuses in a worker process while the next one renders); None
    without modes."""
    if not modes:
        return None
    from blurd.diffusion.batch_queue import DiffusionQueue

    return DiffusionQueue(preset.diffusion, modes, allow_downloads=allow_downloads)


def main(argv: Sequence[str] | None = None, *, build_scene: Callable | None = None,
         apply_factors: Callable | None = None) -> int:
    """Run the sweep; 0 when every sample is complete, 1 when some failed, 130 when interrupted.

    ``build_scene``/``apply_factors`` replace the built-in human (tests use a small scene of their own).
    """
    args, config_values = parse_arguments(sys.argv if argv is None else argv)
    try:
        import bpy  # fail here with a clear message rather than deep inside the scene code
    except ImportError:
        raise SystemExit("batch.py: bpy is not importable; run it as `blender -b -P batch.py -- ...` or install "
                         "the bpy wheel (pip install bpy==5.0.1) into this Python") from None
    try:
        import PIL  # noqa: F401 - the pass PNGs are encoded by Pillow
    except ImportError:
        raise SystemExit(f"batch.py: Pillow is not importable by this Python ({sys.executable}); install it "
                         "(`pip install pillow`; for Blender's own Python: bash scripts/setup_blender.sh BLENDER)"
                         ) from None
    from blurd.scene import sweep, user_scene

    config = sweep.SweepConfig(**config_values)
    try:
        bindings = user_scene.load_binding_file(args.bindings)  # the file's own errors before the .blend opens
        source = user_scene.sweep_scene(args.blend, bindings) if build_scene is None else None
    except BlurdError as exc:  # a scene the factors cannot drive: refused before any work
        print(f"batch.py: {exc}", file=sys.stderr)
        return 2
    for warning in source.warnings if source is not None else ():
        print(f"batch.py: warning: {warning}", file=sys.stderr)
    allow = downloads_allowed(args.allow_downloads, bpy.app.online_access, bool(bpy.app.binary_path))
    diffusion = diffusion_queue(args.modes, args.loaded_preset, allow)
    hooks = [diffusion.submit] if diffusion is not None else []
    if source is not None and source.scene is not None:  # a user's rig: say so if its masks come out empty
        hooks.insert(0, user_scene.first_sample_mask_check(lambda w: print(f"batch.py: warning: {w}",
                                                                           file=sys.stderr)))
    runner = sweep.Sweep(config, scene=source.scene if source is not None else None,
                         bindings=source.bindings if source is not None else None, build_scene=build_scene,
                         apply_factors=apply_factors, on_sample_done=_chain(hooks))
    try:
        summary = runner.run()
        diffused = diffusion.close() if diffusion is not None else None
    except BlurdError as exc:
        print(f"batch.py: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if diffusion is not None:
            diffusion.cancel()
            diffusion.close(timeout=10)  # stop the worker process too
        print(f"\nbatch.py: interrupted; run the same command again to resume into {config.out}", file=sys.stderr)
        return 130
    print(summary.text())
    if diffused is not None:
        print(f"diffusion: {len(diffused.outputs)} images, {diffused.skipped} already done, "
              f"{len(diffused.failures)} failed")
        for sample_dir, mode, message in diffused.failures:
            print(f"  failed {mode} on {sample_dir}: {message}")
    return 1 if summary.failed or (diffused is not None and diffused.failures) else 0


def _chain(hooks: list[Callable[[Path], None]]) -> Callable[[Path], None] | None:
    """One per-sample hook running ``hooks`` in order (None when there are none)."""
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def run_all(folder: Path) -> None:
        for hook in hooks:
            hook(folder)

    return run_all


if __name__ == "__main__":
    sys.exit(main())

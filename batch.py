"""Headless dataset sweep, the same engine as the sidebar's Batch sweep operator.

    blender -b -P batch.py -- --preset presets/quick.toml --out out/quick [--limit N] [--shard i/n]
    python batch.py --preset presets/quick.toml --out out/quick            (with the bpy wheel installed)

Arguments are checked (preset, shard, output folder) before any scene is built. Killed and started again on
the same folder, the sweep resumes: complete samples are skipped, partial ones are cleared.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
PACKAGE = "blurd"  # the import name of the extension package, whatever this clone's folder is called
SUBPACKAGES = ("factors", "presets", "scene", "operators", "panels", "diffusion", "benchmark")


# ------------------------------------------------------------------------------------------------- bootstrap


def load_package() -> types.ModuleType:
    """The repository as the package ``blurd`` (without running its __init__, which registers Blender UI).

    Subpackages import each other relatively (``from ..factors import``), so they must live inside one package;
    a folder name such as ``blurd-main`` is not importable, hence a package module made by hand.
    """
    package = sys.modules.get(PACKAGE)
    if package is not None:
        if [str(Path(p).resolve()) for p in getattr(package, "__path__", [])] != [str(ROOT)]:
            raise ImportError(f"another package called {PACKAGE!r} is already imported from {package.__path__}")
        return package
    package = types.ModuleType(PACKAGE, "BLURD studio (loaded by batch.py without Blender registration)")
    package.__path__ = [str(ROOT)]
    package.__file__ = str(ROOT / "__init__.py")
    package.__package__ = PACKAGE
    sys.modules[PACKAGE] = package
    return package


def package_module(name: str) -> types.ModuleType:
    """``blurd.<name>``, loading the package first."""
    load_package()
    return importlib.import_module(f"{PACKAGE}.{name}")


# ----------------------------------------------------------------------------------------------- the command


def script_arguments(argv: Sequence[str]) -> list[str]:
    """The script's own arguments: those after ``--`` (Blender's convention), else all but the program name."""
    argv = list(argv)
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive; give 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch.py",
        description="Sweep a BLURD preset's factor grid into a dataset folder (renders, passes, manifest, "
        "contact sheet). Under Blender: blender -b -P batch.py -- ARGS",
    )
    parser.add_argument("--preset", required=True, type=Path, help="preset file (.toml or .json)")
    parser.add_argument("--out", required=True, type=Path, help="dataset folder (created; resumed if it exists)")
    parser.add_argument("--limit", type=positive_int, help="only the first N samples of the grid (or shard)")
    parser.add_argument("--shard", metavar="i/n", help="only shard i of n (0 <= i < n), e.g. 0/4")
    parser.add_argument("--diffuse", metavar="MODES",
                        help="also run diffusion modes on each sample, e.g. unleashed,tempered,harbinger")
    parser.add_argument("--allow-downloads", action="store_true",
                        help="let the diffusion worker download missing models from the Hugging Face Hub (inside "
                        "Blender this also needs online access: blender --online-mode)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
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
    errors = package_module("factors.errors")
    presets = package_module("presets")
    grid = package_module("factors.grid")
    try:
        preset = presets.load_preset(args.preset)
        shard = grid.parse_shard(args.shard) if args.shard else None
        modes = parse_diffusion_modes(args.diffuse) if args.diffuse else ()
    except errors.BlurdError as exc:
        parser.error(str(exc))
    out = args.out / preset.output.folder if preset.output.folder else args.out
    problem = unwritable_reason(out)
    if problem:
        parser.error(f"--out {out}: {problem}; choose another folder")
    args.modes = modes
    args.loaded_preset = preset
    config = dict(out=out, grid=preset.grid, render=preset.render, output=preset.output, limit=args.limit,
                  shard=shard, preset_path=args.preset, progress_bar=not args.no_progress)
    return args, config


def unwritable_reason(out: Path) -> str:
    """Why ``out`` cannot hold a dataset ("" when it can), checked without creating anything."""
    if out.exists() and not out.is_dir():
        return "exists and is not a folder"
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return ""


def parse_diffusion_modes(text: str) -> tuple:
    """The diffusion modes named by --diffuse (checked against diffusion.modes)."""
    return package_module("diffusion.modes").parse_modes(text)


def diffusion_queue(modes: tuple, preset: Any, allow_downloads: bool = False) -> Any:
    """The batch diffusion stage for --diffuse: a diffusion.client.DiffusionQueue whose ``submit`` is the sweep's
    per-sample hook (each rendered sample diffuses in a worker process while the next one renders); None
    without modes."""
    if not modes:
        return None
    client = package_module("diffusion.client")
    return client.DiffusionQueue(preset.diffusion, modes, allow_downloads=allow_downloads)


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
    sweep = package_module("scene.sweep")
    errors = package_module("factors.errors")
    config = sweep.SweepConfig(**config_values)
    allow = downloads_allowed(args.allow_downloads, bpy.app.online_access, bool(bpy.app.binary_path))
    diffusion = diffusion_queue(args.modes, args.loaded_preset, allow)
    runner = sweep.Sweep(config, build_scene=build_scene, apply_factors=apply_factors,
                         on_sample_done=diffusion.submit if diffusion is not None else None)
    try:
        summary = runner.run()
        diffused = diffusion.close() if diffusion is not None else None
    except errors.BlurdError as exc:
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


if __name__ == "__main__":
    sys.exit(main())

"""Build the installable BLURD extension zip(s): download the manifest's wheels, then run Blender's own builder.

Usage (from anywhere; needs pip, network access to PyPI for the first run, and either Blender 4.2+ on PATH or
the ``bpy`` wheel installed)::

    python tools/build_extension.py                    # one zip for every platform: dist/blurd-<version>.zip
    python tools/build_extension.py --split-platforms  # one smaller zip per platform in the manifest
    python tools/build_extension.py --no-download      # use the wheels already in ./wheels

The manifest's ``wheels`` list is the only list of bundled packages: each file name says the package, version,
Python and platform, and exactly that file is fetched with ``pip download``. The build itself is Blender's
``extension build`` (the same code as ``blender --command extension build``), so the zip honours the manifest's
``[build]`` exclusions exactly as Blender's tool does. Install the zip with Blender's
Edit > Preferences > Get Extensions > Install from Disk.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "blender_manifest.toml"


@dataclass(frozen=True)
class WheelFile:
    """One wheel named in the manifest, parsed from its file name (PEP 427)."""

    path: str  # as written in the manifest, e.g. ./wheels/tqdm-4.70.1-py3-none-any.whl
    distribution: str
    version: str
    python_tag: str
    abi_tag: str
    platform_tag: str

    @classmethod
    def parse(cls, path: str) -> WheelFile:
        name = Path(path).name
        parts = name[: -len(".whl")].split("-")
        if not name.endswith(".whl") or len(parts) not in (5, 6):
            raise SystemExit(f"{MANIFEST}: wheel {path!r} is not a wheel file name (name-version-py-abi-platform.whl)")
        return cls(path, parts[0], parts[1], parts[-3], parts[-2], parts[-1])

    def pip_download_args(self, dest: Path) -> list[str]:
        """Arguments of ``pip download`` that fetch exactly this file."""
        args = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest", str(dest),
                f"{self.distribution}=={self.version}"]
        if self.platform_tag != "any":
            version = self.python_tag.removeprefix("cp")
            args += ["--python-version", f"{version[0]}.{version[1:]}", "--implementation", "cp",
                     "--abi", self.abi_tag]
            for platform in self.platform_tag.split("."):  # compressed tag sets: manylinux_2_27_x.manylinux_2_28_x
                args += ["--platform", platform]
        return args


def manifest_wheels(root: Path = ROOT) -> list[WheelFile]:
    with open(root / MANIFEST, "rb") as handle:
        return [WheelFile.parse(w) for w in tomllib.load(handle).get("wheels", [])]


def download_wheels(root: Path = ROOT) -> None:
    """Fetch every wheel the manifest lists that is not in place yet; fail naming any that could not be fetched."""
    for wheel in manifest_wheels(root):
        target = (root / wheel.path).resolve()
        if target.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        print(f"downloading {target.name}", flush=True)
        subprocess.run(wheel.pip_download_args(target.parent))
        if not target.is_file():
            raise SystemExit(f"pip did not produce {target.name}; check the version and tags in {MANIFEST}")


def blender_build_command() -> list[str]:
    """Blender's extension builder: ``blender --command extension`` if on PATH, else the one in the bpy wheel."""
    blender = shutil.which("blender")
    if blender:
        return [blender, "--factory-startup", "--command", "extension"]
    spec = importlib.util.find_spec("bpy")  # locates the wheel without importing (and starting) Blender
    if spec is not None and spec.origin:
        # the bpy wheel keeps Blender's scripts in bpy/<version>/scripts; once imported, bpy's origin is inside them
        origin = Path(spec.origin).resolve()
        for folder in (origin.parent, *origin.parents):
            found = sorted(folder.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
            found = found or sorted(folder.glob("addons_core/bl_pkg/cli/blender_ext.py"))
            if found:
                return [sys.executable, str(found[-1])]
    raise SystemExit("no Blender extension builder found: put Blender 4.2+ on PATH or `pip install bpy`")


def check_assets(root: Path = ROOT) -> None:
    """The built-in human's converted MakeHuman file must be in place (and verify): the zip bundles it, so the
    installed extension needs no network. Build it with scripts/setup.sh or tools/convert_makehuman.py."""
    from blurd.scene.makehuman.assets import ASSET_PATH, MissingAssetsError, read_assets

    path = root / ASSET_PATH.relative_to(ASSET_PATH.parents[2])  # the same file under the root being built
    try:
        read_assets(path)
    except MissingAssetsError as exc:
        raise SystemExit(f"cannot bundle the built-in human: {exc}") from None


def build(output_dir: Path, split_platforms: bool = False, download: bool = True, root: Path = ROOT) -> None:
    check_assets(root)
    if download:
        download_wheels(root)
    output_dir.mkdir(parents=True, exist_ok=True)
    command = [*blender_build_command(), "build", "--source-dir", str(root), "--output-dir", str(output_dir)]
    if split_platforms:
        command.append("--split-platforms")
    if subprocess.run(command).returncode != 0:
        raise SystemExit("Blender's extension build failed; see its messages above")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist", help="where the zip goes (default dist/)")
    parser.add_argument("--split-platforms", action="store_true", help="one zip per platform in the manifest")
    parser.add_argument("--no-download", action="store_true", help="do not download wheels; use ./wheels as is")
    args = parser.parse_args(argv)
    build(args.output_dir, split_platforms=args.split_platforms, download=not args.no_download)


if __name__ == "__main__":
    main()

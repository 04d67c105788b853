"""Render one sample: ONE Cycles render call writes the raw passes, numpy turns them into the dataset files.

``prepare_sample`` (settings, seed, camera record, pass output) -> one render -> ``finish_sample`` (raw passes read
back, pass images written, sample.json last). ``render_sample`` does all three, blocking; the sidebar's Render runs
Blender's render job between the two halves. The file conventions are in ``scene.pass_images`` and
docs/passes.md; ``depth.exr`` is Blender's own float32 EXR of the Z pass: metric planar depth (metres along the
view axis), 1e10 where nothing was hit. Every file is written under a ``TMP_PREFIX`` name and renamed into place.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from ..dataset import layout
from ..dataset.errors import DiskFullError
from ..dataset.hygiene import remove_entry
from ..dataset.record import SampleRecord, write_record
from ..factors.errors import BlurdError
from ..factors.ids import SeedPolicy
from ..presets.settings import RenderSettings
from . import coverage, part_tags, passes
from .camera_record import camera_record, render_size
from .coverage import PartIds
from .files import write_png
from .pass_images import camera_space_normals, depth_png, normal_png, palette_image
from .render_settings import apply_render_settings

NO_SURFACE_DEPTH_VALUE = 1e10  # what Cycles writes where a ray hits nothing
NO_SURFACE_DEPTH = 1e9  # threshold below that value, for reading
RAW_DIR = layout.RAW_DIR
MIN_FREE_AFTER_RENDER = 256 * 1024  # less free space than this after a render: its raw files may be truncated
MANIFEST_PATH = Path(__file__).resolve().parents[1] / "blender_manifest.toml"


class RenderError(BlurdError):
    """A scene that cannot be rendered as asked (no camera, passes missing after the render)."""


@dataclass(frozen=True)
class RawImages:
    """The raw passes of one render as top-down numpy arrays."""

    rgb: np.ndarray  # HxWx3 uint8, display-referred (the scene's view transform)
    depth: np.ndarray  # HxW float32 metres, inf where nothing was hit
    normal_world: np.ndarray  # HxWx3 float32, world space, zero where nothing was hit
    coverage: dict[str, np.ndarray]  # part -> HxW float32 share of the pixel the part covers (scene.coverage)


@contextmanager
def silenced_stdout() -> Iterator[None]:
    """Send file descriptor 1 to the null device (Blender logs each render and saved file there, from C)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def check_renderable(bl_scene: bpy.types.Scene) -> None:
    """Raise RenderError before any work when the scene cannot give the passes."""
    if bl_scene.camera is None:
        raise RenderError(f"scene {bl_scene.name!r} has no active camera; add a camera and make it the scene camera "
                          f"(or build the built-in human)")


# ----------------------------------------------------------------------------------------------- raw pass reading


def read_image_array(path: Path) -> np.ndarray:
    """A float image file as a top-down HxWxC float32 array, read through Blender (no colour conversion)."""
    image = bpy.data.images.load(str(path), check_existing=False)
    try:
        image.colorspace_settings.is_data = True
        width, height = image.size
        pixels = np.empty(width * height * image.channels, np.float32)
        image.pixels.foreach_get(pixels)
        return pixels.reshape(height, width, image.channels)[::-1]
    finally:
        bpy.data.images.remove(image)


def read_raw_images(raw_dir: Path, part_ids: PartIds | None = None) -> RawImages:
    """The raw passes in ``raw_dir``; part coverage from the Cryptomatte layers and ``part_ids`` (no parts: all
    background)."""
    part_ids = part_ids or PartIds()
    materials = part_ids.needs_materials
    found = passes.find_raw_files(raw_dir, materials=materials)
    crypto = passes.cryptomatte_passes(materials=materials)
    missing = [p.name for p in (*passes.RAW_PASSES, *crypto) if p.name not in found]
    if missing:
        raise RenderError(f"the render wrote no {', '.join(missing)} pass into {raw_dir}; is the scene's compositor "
                          f"disabled (Render Properties > Post Processing > Compositing)?")
    rgb = np.rint(read_image_array(found["rgb"])[..., :3] * 255.0).astype(np.uint8)  # byte PNG: exact
    depth = read_image_array(found["depth"])[..., 0]
    depth = np.where(depth >= NO_SURFACE_DEPTH, np.inf, depth).astype(np.float32)
    normal = read_image_array(found["normal"])[..., :3].astype(np.float32)
    layers = {kind: [read_image_array(found[p.name]) for p in crypto if p.name.startswith(kind)]
              for kind in (passes.OBJECT_LAYER, passes.MATERIAL_LAYER)}
    cover = coverage.part_coverage(layers[passes.OBJECT_LAYER], part_ids, layers[passes.MATERIAL_LAYER])
    return RawImages(rgb, depth, normal, cover)


def blurd_version() -> str:
    """The extension version from blender_manifest.toml ("unknown" when the file is absent)."""
    try:
        with MANIFEST_PATH.open("rb") as handle:
            return str(tomllib.load(handle).get("version", "unknown"))
    except (OSError, tomllib.TOMLDecodeError):
        return "unknown"


# ----------------------------------------------------------------------------------------------------- the sample


def write_passes(folder: Path, raw: RawImages, camera_to_world: np.ndarray, palette_cells: int,
                 raw_rgb_png: Path, raw_depth_exr: Path | None = None) -> None:
    """Every pass file of the sample (all but sample.json), each written atomically.

    ``raw_rgb_png`` and ``raw_depth_exr`` are the PNG and float32 EXR Blender wrote; they become rgb.png and
    depth.exr by a rename (the scratch folder lies inside the sample folder), so both are exactly what Blender wrote,
    never decoded and encoded again.
    """
    files = {p.name: folder / p.filename for p in layout.PASSES}
    os.replace(raw_rgb_png, files["rgb"])
    if raw_depth_exr is not None:
        os.replace(raw_depth_exr, files["depth_exr"])
    write_png(files["depth"], depth_png(raw.depth, coverage.subject_mask(raw.coverage)))
    write_png(files["normal"], normal_png(camera_space_normals(raw.normal_world, camera_to_world)))
    for part, mask in coverage.part_masks(raw.coverage).items():
        write_png(folder / layout.mask_filename(part), mask)
    write_png(files["label"], coverage.label_map(raw.coverage))
    write_png(files["palette"], palette_image(raw.rgb, palette_cells))


@dataclass
class PendingSample:
    """A sample whose render is set up (passes installed) but not yet post-processed.

    ``prepare_sample`` -> one render (blocking, or Blender's render job in the UI) -> ``finish_sample``.
    """

    scene: bpy.types.Scene
    folder: Path
    sample_id: str
    seed: int
    factors: dict[str, Any]
    settings: RenderSettings | None
    keep_depth_exr: bool
    camera: dict[str, Any]
    render_info: dict[str, Any]
    output: passes.PassOutput
    part_ids: PartIds = field(default_factory=PartIds)  # which Cryptomatte id is which part
    seed_policy: SeedPolicy | None = None  # recorded in sample.json beside the seed
    started: float = field(default_factory=time.perf_counter)

    @property
    def raw_dir(self) -> Path:
        return self.folder / RAW_DIR

    def abandon(self) -> None:
        """Undo the setup after a cancelled or failed render, removing the half-made sample folder."""
        self.output.restore()
        remove_entry(self.folder)


def prepare_sample(
    bl_scene: bpy.types.Scene,
    folder: Path,
    *,
    sample_id: str,
    seed: int,
    factors: Mapping[str, Any],
    settings: RenderSettings | None,
    keep_depth_exr: bool = True,
    seed_policy: SeedPolicy | None = None,
) -> PendingSample:
    """Check the scene, apply render settings and the seed, and install the pass output into ``folder``.

    ``seed_policy`` says how ``seed`` was made (the preset's ``[grid] seed_from``); sample.json records it."""
    check_renderable(bl_scene)
    part_ids = part_tags.scene_part_ids(bl_scene)  # a bad blurd_part tag fails here, before any work
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_entry(folder / RAW_DIR)
    apply_render_settings(bl_scene, settings, seed)
    passes.render_view_layer(bl_scene).update()  # the camera matrix as it will render
    camera = camera_record(bl_scene)
    output = passes.install_pass_output(bl_scene, folder / RAW_DIR, materials=part_ids.needs_materials)
    return PendingSample(bl_scene, folder, sample_id, seed, dict(factors), settings, keep_depth_exr, camera,
                         _render_description(bl_scene), output, part_ids, seed_policy)


def check_raw_space(raw_dir: Path) -> None:
    """DiskFullError when the disk filled during the render: Blender then writes truncated EXRs, and reading one
    back crashes the process, so they are never read."""
    try:
        free = shutil.disk_usage(raw_dir).free
    except OSError:
        return
    if free < MIN_FREE_AFTER_RENDER:
        raise DiskFullError(raw_dir.parent)


def finish_sample(pending: PendingSample) -> SampleRecord:
    """Turn the raw passes of a finished render into the sample's files; sample.json last. Returns the record."""
    pending.output.restore()
    rendered = time.perf_counter()
    try:
        check_raw_space(pending.raw_dir)
        raw = read_raw_images(pending.raw_dir, pending.part_ids)
        settings = pending.settings
        cells = settings.palette_cells if settings is not None else RenderSettings().palette_cells
        camera_to_world = np.array(pending.camera["extrinsics"]["camera_to_world_blender"])
        found = passes.find_raw_files(pending.raw_dir)
        write_passes(pending.folder, raw, camera_to_world, cells, found["rgb"],
                     found["depth"] if pending.keep_depth_exr else None)
    finally:
        remove_entry(pending.raw_dir)
    finished = time.perf_counter()
    record = SampleRecord(
        id=pending.sample_id,
        seed=pending.seed,
        seed_policy=pending.seed_policy.to_record() if pending.seed_policy is not None else {},
        factors=pending.factors,
        camera=pending.camera,
        versions={"blender": bpy.app.version_string, "blurd": blurd_version()},
        render=pending.render_info,
        timings={"render_s": round(rendered - pending.started, 4), "post_s": round(finished - rendered, 4)},
        passes=layout.sample_files(pending.keep_depth_exr),
    )
    write_record(pending.folder, record)
    return record


def render_sample(
    bl_scene: bpy.types.Scene,
    folder: Path,
    *,
    sample_id: str,
    seed: int,
    factors: Mapping[str, Any],
    settings: RenderSettings | None,
    quiet: bool = False,
    keep_depth_exr: bool = True,
    seed_policy: SeedPolicy | None = None,
) -> SampleRecord:
    """Render ``bl_scene`` once into ``folder`` and write every pass plus sample.json; returns the sample record.

    Works on any scene with a camera (the built-in human or a user's rig); the passes are switched on here.
    ``settings=None`` keeps the scene's own resolution and quality. ``quiet`` hides Blender's per-render log lines
    (sweeps print a progress bar instead). ``seed_policy`` (how ``seed`` was made) is recorded in sample.json.
    """
    pending = prepare_sample(bl_scene, folder, sample_id=sample_id, seed=seed, factors=factors, settings=settings,
                             keep_depth_exr=keep_depth_exr, seed_policy=seed_policy)
    try:
        with silenced_stdout() if quiet else nullcontext():
            bpy.ops.render.render(write_still=False, scene=bl_scene.name)
    except BaseException:
        pending.output.restore()
        raise
    return finish_sample(pending)


def _render_description(bl_scene: bpy.types.Scene) -> dict[str, Any]:
    width, height = render_size(bl_scene)
    cycles = bl_scene.cycles
    return {"engine": bl_scene.render.engine, "width": width, "height": height, "samples": cycles.samples,
            "denoise": bool(cycles.use_denoising), "seed": cycles.seed,
            "view_transform": bl_scene.view_settings.view_transform}

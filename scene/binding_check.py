"""Checking a scene against its binding file, for the Bindings panel and batch.py: every problem at once, the parts
no object is tagged with, and the quick check sheet (one tiny render per factor change, on a labelled contact sheet).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from ..dataset import layout
from ..factors import FACTOR_BY_NAME, validate_assignment
from ..factors.errors import BlurdError
from ..factors.grid import Sample
from ..factors.ids import sample_id, sample_seed
from ..factors.parts import PARTS
from ..presets.settings import OutputSettings, RenderSettings
from .bindings import Bindings
from .part_tags import PART_PROPERTY, PartTagError, scene_part_ids
from .render_settings import snapshot_render_settings

CHECK_FOLDER = "binding_check"  # inside the output folder
CHECK_RENDER = RenderSettings(resolution=(96, 96), samples=4, denoise=False, palette_cells=4)
NO_CHANGE = 0.5  # mean absolute rgb difference (of 255) below which a factor change "does nothing"


def part_problems(bl_scene: bpy.types.Scene) -> list[str]:
    """Part tags the render would refuse: a ``blurd_part`` naming no part, a tagged material shared across parts."""
    try:
        scene_part_ids(bl_scene)
    except PartTagError as exc:
        return [str(exc)]
    return []


def part_warnings(bl_scene: bpy.types.Scene, bindings: Bindings | None = None) -> list[str]:
    """Why masks of this scene would be empty: no object or material tagged with any part, or (with ``bindings``) a
    bound colour factor whose part nothing is tagged with, so its mask, and the checks that read it, stay empty."""
    try:
        ids = scene_part_ids(bl_scene)
    except PartTagError:
        return []  # a problem, reported by part_problems
    if not ids.objects and not ids.materials:
        return [f"no object of scene {bl_scene.name!r} is tagged with a part, so every mask will be empty and every "
                f"label 0: give the objects (or materials) a custom property {PART_PROPERTY} = \"skin\", \"hair\", "
                f"... or set their Pass Index (skin 1 ... tie 8; docs/bindings.md, 'Masks')"]
    tagged = {*ids.objects.values(), *(m.part for m in ids.materials.values())}
    warnings = []
    for name in bindings.factors if bindings is not None else ():
        part = FACTOR_BY_NAME[name].part
        if part is not None and part not in tagged:
            warnings.append(f"{name} is bound, but no object or material is tagged as part {part!r}: its mask will "
                            f"be empty; tag the object it colours with {PART_PROPERTY} = {part!r}")
    return list(dict.fromkeys(warnings))


def empty_mask_warning(sample_folder: Path) -> str | None:
    """A warning when a rendered sample's part masks are all empty (no pixel of any part), else None."""
    masks = [sample_folder / layout.mask_filename(p.name) for p in PARTS if p.pass_index > 0]
    for mask in masks:
        if mask.is_file() and _any_pixel(mask):
            return None
    return (f"every part mask of {sample_folder.name} is empty (all background): tag the rig's objects or materials "
            f"with {PART_PROPERTY} or a Pass Index (docs/bindings.md, 'Masks')")


def _any_pixel(png: Path) -> bool:
    image = bpy.data.images.load(str(png), check_existing=False)
    try:
        pixels = np.empty(len(image.pixels), np.float32)
        image.pixels.foreach_get(pixels)
        return bool((pixels[0::image.channels] > 0.5).any())
    finally:
        bpy.data.images.remove(image)


# ------------------------------------------------------------------------------------------------ the check sheet


@dataclass(frozen=True)
class FactorChange:
    """One factor moved away from the scene's current value."""

    factor: str
    before: Any
    after: Any


@dataclass
class CheckSheet:
    """What the check sheet shows: its file, each factor change, and the changes the render did not show."""

    path: Path
    changes: list[FactorChange]
    unchanged: list[str] = field(default_factory=list)  # factors whose change left the render as it was
    warnings: list[str] = field(default_factory=list)


def factor_changes(bindings: Bindings, base: Mapping[str, Any]) -> list[FactorChange]:
    """For every factor the file binds, a value other than ``base``'s: the next one for named values, the schema
    value farthest away for numbers (a change big enough to see)."""
    changes = []
    for name in bindings.factors:
        factor = FACTOR_BY_NAME[name]
        current = base[name]
        if factor.is_numeric:
            after = max(factor.values, key=lambda v, c=current: abs(float(v) - float(c)))
        else:
            values = list(factor.values)
            after = values[(values.index(current) + 1) % len(values)] if current in values else values[0]
        if after != current:
            changes.append(FactorChange(name, current, after))
    return changes


def render_check_sheet(bl_scene: bpy.types.Scene, bindings: Bindings, base: Mapping[str, Any], out: Path, *,
                       settings: RenderSettings = CHECK_RENDER,
                       progress: Callable[[int, int], None] | None = None) -> CheckSheet:
    """Render the scene at ``base`` and once per factor change into ``out`` (cleared first) and write its labelled
    contact sheet. The scene's factors and render settings are put back afterwards, also on failure."""
    from . import contact_sheet, sweep  # Pillow draws the sheet; the panel imports this module without it

    bindings.check(bl_scene)  # every problem before any render
    base = validate_assignment(base, complete=True)
    changes = factor_changes(bindings, base)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    samples = []
    seed = sample_seed(sample_id(base))  # one noise pattern for every render: only the factor change differs
    for index, values in enumerate([base, *({**base, c.factor: c.after} for c in changes)]):
        samples.append(Sample(index, sample_id(values), seed, values))
    restore = snapshot_render_settings(bl_scene)
    try:
        for n, sample in enumerate(samples):
            if progress is not None:
                progress(n, len(samples))
            sweep.render_into_dataset(bl_scene, sample, out, render=settings,
                                      output=OutputSettings(keep_depth_exr=False),
                                      apply_factors=lambda scene, values, b: b.apply(scene, values), bindings=bindings)
    finally:
        restore()
        bindings.apply(bl_scene, base)
    path = contact_sheet.write_contact_sheet(out, samples, swept=[c.factor for c in changes],
                                             thumbnail=settings.resolution[0], limit=len(samples))
    sheet = CheckSheet(path, changes)
    reference = _rgb(out, samples[0])
    for change, sample in zip(changes, samples[1:]):
        if _mean_difference(reference, _rgb(out, sample)) < NO_CHANGE:
            sheet.unchanged.append(change.factor)
    warning = empty_mask_warning(layout.sample_dir(out, samples[0].id))
    sheet.warnings = [*part_warnings(bl_scene, bindings), *([warning] if warning else [])]
    return sheet


def _rgb(out: Path, sample: Sample) -> np.ndarray:
    from PIL import Image

    with Image.open(layout.sample_dir(out, sample.id) / layout.RGB) as image:
        return np.asarray(image.convert("RGB"), np.float32)


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


@dataclass(frozen=True)
class SceneCheck:
    """The outcome of checking a scene's binding file: problems stop renders, warnings do not."""

    bindings: Bindings | None
    problems: list[str]
    warnings: list[str]

    @property
    def unbound(self) -> list[str]:
        """The factors the file leaves alone (they change nothing in this scene)."""
        bound = set(self.bindings.factors) if self.bindings is not None else set()
        return [name for name in FACTOR_BY_NAME if name not in bound]

    def summary(self) -> str:
        if self.bindings is None and not self.problems:
            return "no binding file: the scene's factors drive nothing"
        if self.problems:
            return f"{len(self.problems)} problem(s); fix them and check again"
        name = Path(self.bindings.source).name
        return (f"{name} fits the scene: {len(self.bindings.factors)} factors bound"
                + (f", {len(self.warnings)} warning(s)" if self.warnings else ""))


def check_scene(bl_scene: bpy.types.Scene) -> SceneCheck:
    """Load the scene's binding file (its ``blurd_bindings``, or the built-in human's) and list every problem."""
    from . import live

    try:
        bindings = live.scene_bindings(bl_scene)
    except BlurdError as exc:
        return SceneCheck(None, str(exc).splitlines(), [])
    if bindings is None:
        return SceneCheck(None, [], [])
    return SceneCheck(bindings, bindings.problems(bl_scene) + part_problems(bl_scene),
                      part_warnings(bl_scene, bindings))

"""The sweep engine shared by ``batch.py`` and the Batch sweep operator: one warm scene, one sample per step.

A sweep plans the samples of a grid (optionally one shard, optionally the first ``limit``), builds the scene
once (or takes the user's scene), and for each sample applies its factors through the bindings, renders every
pass into ``OUT/samples/<id>/`` and appends a row to ``OUT/manifest.jsonl``. Started again on the same folder it
skips complete samples (their ``sample.json`` exists), clears partial ones and repairs the manifest, so a killed
sweep resumes without rendering anything twice. ``Sweep.step()`` does one sample, so the modal operator can
call it once per timer tick; ``Sweep.run()`` loops until done or cancelled.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..factors import layout
from ..factors.errors import BlurdError
from ..factors.grid import Grid, Sample, shard
from ..presets.settings import OutputSettings, RenderSettings
from .files import write_atomic
from .render import render_sample

SampleHook = Callable[[Path], None]  # called with each complete sample's folder (e.g. the diffusion stage)


class SweepError(BlurdError):
    """A sweep that cannot start: unwritable output folder, a folder holding another preset's dataset."""


class Outcome(StrEnum):
    RENDERED = "rendered"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class SweepConfig:
    """What to sweep and where: the grid, render and output settings, and which part of the grid."""

    out: Path
    grid: Grid
    render: RenderSettings = field(default_factory=RenderSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    limit: int | None = None  # only the first N samples of the (sharded) grid
    shard: tuple[int, int] | None = None  # (i, n): the samples of shard i of n
    preset_path: Path | None = None  # copied to OUT/preset.toml so the folder reproduces itself
    progress_bar: bool = True  # tqdm bar on stderr (when tqdm is installed)
    quiet_render: bool = True  # hide Blender's per-render log lines on stdout


@dataclass(frozen=True)
class SampleResult:
    sample: Sample
    outcome: Outcome
    seconds: float
    error: str = ""


@dataclass
class SweepSummary:
    """What a sweep did: counts, time per rendered sample and the failures with their messages."""

    out: Path
    planned: int
    rendered: int = 0
    skipped: int = 0
    failed: int = 0
    render_seconds: float = 0.0
    total_seconds: float = 0.0
    cancelled: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)  # (sample id, message)
    contact_sheet: Path | None = None
    peak_rss_mb: float | None = None  # this process's peak memory (None where the OS does not say)
    notes: list[str] = field(default_factory=list)

    @property
    def seconds_per_sample(self) -> float:
        return self.render_seconds / self.rendered if self.rendered else 0.0

    def text(self) -> str:
        lines = [
            f"{'cancelled' if self.cancelled else 'done'}: {self.rendered} rendered, {self.skipped} skipped, "
            f"{self.failed} failed of {self.planned} planned; {self.seconds_per_sample:.2f} s per sample, "
            f"{self.total_seconds:.1f} s in all"
            + (f", peak memory {self.peak_rss_mb:.0f} MB" if self.peak_rss_mb else "")
            + f" -> {self.out}"
        ]
        lines += [f"  failed {sid}: {message}" for sid, message in self.failures]
        if self.contact_sheet:
            lines.append(f"  contact sheet: {self.contact_sheet}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- the manifest


def manifest_row(record: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The manifest row of a complete sample, from its sample.json record."""
    timings = record.get("timings", {})
    return {
        "id": record["id"],
        "index": index,
        "seed": record["seed"],
        "factors": record["factors"],
        "dir": f"{layout.SAMPLES_DIR}/{record['id']}",
        "render_s": timings.get("render_s"),
        "post_s": timings.get("post_s"),
    }


def append_manifest_row(out: Path, row: Mapping[str, Any]) -> None:
    """Append one JSON line with a single O_APPEND write, so concurrent shards never interleave a row."""
    line = (json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
    fd = os.open(out / layout.MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def repair_manifest(out: Path) -> set[str]:
    """The ids in OUT/manifest.jsonl, after dropping torn lines, duplicate ids and rows of incomplete samples."""
    path = out / layout.MANIFEST
    if not path.exists():
        return set()
    kept: list[str] = []
    ids: set[str] = set()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for line in lines:
        try:
            row = json.loads(line)
            sid = row["id"]
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by a kill
        if not line.endswith("\n") or sid in ids or not layout.is_complete(layout.sample_dir(out, sid)):
            continue
        ids.add(sid)
        kept.append(line)
    if kept != lines:
        write_atomic(path, lambda tmp: tmp.write_text("".join(kept), encoding="utf-8"))
    return ids


# --------------------------------------------------------------------------------------------- folder hygiene


STALE_TEMP_SECONDS = 600.0  # a dataset-level temporary file this old belongs to no live writer


def remove_temp_files(folder: Path, *, older_than: float = 0.0) -> None:
    """Delete half-written files (``TMP_PREFIX`` names) directly inside ``folder`` and its masks folder.

    ``older_than`` spares younger ones: at the dataset level another shard may be writing one right now.
    """
    now = time.time()
    for parent in (folder, folder / layout.MASKS_DIR):
        if not parent.is_dir():
            continue
        for entry in parent.iterdir():
            if not entry.name.startswith(layout.TMP_PREFIX):
                continue
            try:
                if older_than and now - entry.stat().st_mtime < older_than:
                    continue
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            except FileNotFoundError:  # its writer renamed it meanwhile
                pass


def check_writable(out: Path) -> None:
    """Create OUT or raise SweepError naming it, before any work."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f"{layout.TMP_PREFIX}probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SweepError(f"output folder {out} is not writable ({exc.strerror}); choose another --out") from None


def preset_copy_name(preset_path: Path) -> str:
    return layout.PRESET_COPY if preset_path.suffix.lower() != ".json" else "preset.json"


def copy_preset(out: Path, preset_path: Path) -> None:
    """Copy the preset into OUT; a folder holding another preset's dataset is an error, not a silent mix."""
    data = Path(preset_path).read_bytes()
    target = out / preset_copy_name(Path(preset_path))
    if target.exists() and target.read_bytes() != data:
        raise SweepError(f"{out} holds a dataset made with a different preset ({target}); sweep into another "
                         f"folder, or delete {target} to mix the datasets on purpose")
    if not target.exists():
        write_atomic(target, lambda tmp: tmp.write_bytes(data))


def plan_samples(grid: Grid, shard_spec: tuple[int, int] | None, limit: int | None) -> list[Sample]:
    """The samples this sweep covers, in grid order."""
    samples: Iterable[Sample] = iter(grid)
    if shard_spec is not None:
        samples = shard(samples, *shard_spec)
    planned = list(samples)
    return planned[:limit] if limit is not None else planned


# ----------------------------------------------------------------------------------------------- one sample


class SampleError(BlurdError):
    """One sample failed for a reason inside it (a bad binding, a render error); the run reports it and goes on."""


def render_into_dataset(bl_scene, sample: Sample, out: Path, *, render: RenderSettings, output: OutputSettings,
                        apply_factors: Callable[..., None] | None = None, bindings: Any = None,
                        quiet: bool = True) -> dict[str, Any]:
    """The manifest row of ``sample`` after rendering it into OUT/samples/<id>/ (a partial folder is cleared first).

    The one way a sample is made, by the local sweep and by the distributed engine's render actors alike, so both
    write the same bytes. Raises SampleError, with the folder removed, when the sample fails; appending the row to
    the manifest is the caller's job (one writer per dataset).
    """
    folder = layout.sample_dir(out, sample.id)
    shutil.rmtree(folder, ignore_errors=True)  # a partial sample from a killed run
    try:
        (apply_factors or _default_apply_factors)(bl_scene, dict(sample.factors), bindings)
        record = render_sample(bl_scene, folder, sample_id=sample.id, seed=sample.seed, factors=dict(sample.factors),
                               settings=render, quiet=quiet, keep_depth_exr=output.keep_depth_exr)
    except Exception as exc:
        shutil.rmtree(folder, ignore_errors=True)
        message = str(exc) if isinstance(exc, BlurdError) else f"{type(exc).__name__}: {exc}"
        raise SampleError(message) from exc
    return manifest_row(record, sample.index)


def complete_sample_row(out: Path, sample: Sample) -> dict[str, Any]:
    """The manifest row of a sample rendered earlier, from its sample.json."""
    record = json.loads((layout.sample_dir(out, sample.id) / layout.SAMPLE_JSON).read_text(encoding="utf-8"))
    return manifest_row(record, sample.index)


# ------------------------------------------------------------------------------------------------- the engine


def _default_build_scene(render: RenderSettings):
    from . import builder  # the built-in human (scene helper); imported late so a user's scene needs none of it

    return builder.build_scene(render)


def _default_apply_factors(bl_scene, values: Mapping[str, Any], bindings=None) -> None:
    from . import builder

    builder.apply_factors(bl_scene, values, bindings)


class Sweep:
    """A resumable sweep over a grid; ``start()``, then ``step()`` until ``done``, then ``finish()``.

    ``scene`` renders into an existing scene (the operator's current scene) instead of building the built-in
    human; ``build_scene`` / ``apply_factors`` replace the built-in human's builder and bindings (tests, rigs).
    ``on_sample_done`` runs for every complete sample folder (rendered now or earlier), e.g. the diffusion stage.
    """

    def __init__(
        self,
        config: SweepConfig,
        *,
        scene=None,
        build_scene: Callable[[RenderSettings], Any] | None = None,
        apply_factors: Callable[..., None] | None = None,
        bindings: Any = None,
        on_sample_done: SampleHook | None = None,
    ) -> None:
        self.config = config
        self.out = Path(config.out)
        self.scene = scene
        self._build_scene = build_scene or _default_build_scene
        self._apply_factors = apply_factors or _default_apply_factors
        self.bindings = bindings
        self.on_sample_done = on_sample_done
        self.samples: list[Sample] = []
        self.position = 0
        self.summary = SweepSummary(self.out, 0)
        self._manifest_ids: set[str] = set()
        self._started_at = 0.0
        self._cancelled = False
        self._pending = 0
        self._bar = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Check the folder, plan the samples, repair the manifest, copy the preset, build the scene."""
        config = self.config
        check_writable(self.out)
        self.samples = plan_samples(config.grid, config.shard, config.limit)
        if config.preset_path is not None:
            copy_preset(self.out, Path(config.preset_path))
        remove_temp_files(self.out, older_than=STALE_TEMP_SECONDS)
        self._manifest_ids = repair_manifest(self.out)
        self.summary = SweepSummary(self.out, len(self.samples))
        self._started_at = time.perf_counter()
        self._pending = sum(1 for s in self.samples if not layout.is_complete(layout.sample_dir(self.out, s.id)))
        if self.scene is None and self._pending:
            self.scene = self._build_scene(config.render)
        self._bar = _progress_bar(len(self.samples)) if config.progress_bar else None

    def pending_renders(self) -> int:
        """How many planned samples this sweep has still to render (counted at start, so ticks stay cheap)."""
        return self._pending

    @property
    def total(self) -> int:
        return len(self.samples)

    @property
    def done(self) -> bool:
        return self._cancelled or self.position >= len(self.samples)

    def cancel(self) -> None:
        self._cancelled = True
        self.summary.cancelled = True

    def eta_seconds(self) -> float | None:
        """Remaining time from the mean time per rendered sample; None before the first render."""
        if not self.summary.rendered:
            return None
        return self.summary.seconds_per_sample * self.pending_renders()

    # -- one sample ---------------------------------------------------------------------------------------
    def step(self) -> SampleResult | None:
        """Process the next planned sample (skip, or render and record it); None when done."""
        if self.done:
            return None
        sample = self.samples[self.position]
        self.position += 1
        folder = layout.sample_dir(self.out, sample.id)
        started = time.perf_counter()
        if layout.is_complete(folder):
            remove_temp_files(folder)
            if sample.id not in self._manifest_ids:  # killed between sample.json and the manifest row
                self._record(complete_sample_row(self.out, sample))
            result = SampleResult(sample, Outcome.SKIPPED, 0.0)
            self.summary.skipped += 1
        else:
            result = self._render(sample, folder, started)
            self._pending -= 1
        if result.outcome is not Outcome.FAILED:
            self._run_hook(sample, folder)
        self._advance_bar(result)
        return result

    def _render(self, sample: Sample, folder: Path, started: float) -> SampleResult:
        try:
            row = render_into_dataset(self.scene, sample, self.out, render=self.config.render,
                                      output=self.config.output, apply_factors=self._apply_factors,
                                      bindings=self.bindings, quiet=self.config.quiet_render)
        except SampleError as exc:  # one bad sample must not end a long sweep; its message goes in the summary
            self.summary.failed += 1
            self.summary.failures.append((sample.id, str(exc)))
            return SampleResult(sample, Outcome.FAILED, time.perf_counter() - started, str(exc))
        self._record(row)
        seconds = time.perf_counter() - started
        self.summary.rendered += 1
        self.summary.render_seconds += seconds
        return SampleResult(sample, Outcome.RENDERED, seconds)

    def _record(self, row: Mapping[str, Any]) -> None:
        append_manifest_row(self.out, row)
        self._manifest_ids.add(row["id"])

    def _run_hook(self, sample: Sample, folder: Path) -> None:
        if self.on_sample_done is None:
            return
        try:
            self.on_sample_done(folder)
        except Exception as exc:  # the render is kept; the hook's failure is reported
            self.summary.failures.append((sample.id, f"after render: {exc}"))

    def _advance_bar(self, result: SampleResult) -> None:
        if self._bar is not None:
            self._bar.set_postfix(rendered=self.summary.rendered, skipped=self.summary.skipped,
                                  failed=self.summary.failed, refresh=False)
            self._bar.update(1)

    # -- the end ------------------------------------------------------------------------------------------
    def finish(self) -> SweepSummary:
        """Write the contact sheet, close the progress bar and return the summary."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        output = self.config.output
        # every complete sample of the grid, not only this shard's: the last shard to end shows the whole dataset
        complete = [s for s in self.config.grid if layout.is_complete(layout.sample_dir(self.out, s.id))]
        if output.contact_sheet and complete:
            try:
                from . import contact_sheet  # Pillow draws the labels; the renders themselves need no Pillow
            except ImportError as exc:
                self.summary.notes.append(f"no contact sheet: {exc}; install Pillow into this Python")
            else:
                self.summary.contact_sheet = contact_sheet.write_contact_sheet(
                    self.out, complete, swept=list(self.config.grid.sweep), thumbnail=output.thumbnail_size,
                    limit=output.contact_sheet_max)
        self.summary.total_seconds = time.perf_counter() - self._started_at
        self.summary.peak_rss_mb = peak_rss_mb()
        return self.summary

    def run(self, cancelled: Callable[[], bool] | None = None) -> SweepSummary:
        """start(), step() until done (or ``cancelled()`` turns true), finish()."""
        self.start()
        while not self.done:
            if cancelled is not None and cancelled():
                self.cancel()
                break
            self.step()
        return self.finish()


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process in MB (Linux and macOS); None elsewhere."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _progress_bar(total: int):
    try:
        from tqdm import tqdm
    except ImportError:  # Blender's own Python without the bundled wheel: no bar, the summary still prints
        return None
    return tqdm(total=total, unit="sample", desc="BLURD sweep", dynamic_ncols=True)

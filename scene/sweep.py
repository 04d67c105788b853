"""The sweep engine shared by ``batch.py`` and the Batch sweep operator: one warm scene, one sample per step.

A sweep plans the samples of a grid lazily (optionally one shard, optionally the first ``limit``), builds the scene
on its first render (or takes the user's scene), and for each sample applies its factors through the bindings,
renders every pass into ``OUT/samples/<id>/`` and appends a row to ``OUT/manifest.jsonl``. Started again on the same
folder it skips complete samples (sample.json and every file it lists), clears partial ones, clears dead writers'
temporary files and repairs the manifest, so a killed sweep resumes without rendering anything twice.

Several processes may sweep one folder at once (shards, or the same command twice): each sample is rendered under
its own lock (``blurd.dataset.locks``); a sample another process holds is deferred to the end of this run, by when
it is usually complete. Ctrl-C stops after the current sample's render (exit 130 in batch.py), a full disk stops
with one "no space left on <path>" line. ``Sweep.step()`` does one sample, so the modal operator can call it once per
timer tick; ``Sweep.run()`` loops until done or cancelled. docs/reliability.md states the guarantees.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..dataset import hygiene, layout
from ..dataset.errors import DatasetError, DiskFullError, no_space_as_error
from ..dataset.files import write_bytes
from ..dataset.locks import Busy, FileLock, dataset_lock, sample_lock
from ..dataset.manifest import Manifest, manifest_row
from ..dataset.record import complete_record, read_record
from ..factors.errors import BlurdError
from ..factors.grid import Grid, Sample, shard
from ..factors.validate import validate_assignment
from ..presets.settings import OutputSettings, RenderSettings
from . import contact_sheet
from .render import render_sample

SampleHook = Callable[[Path], None]  # called with each complete sample's folder (e.g. the diffusion stage)
MIN_FREE_BYTES = 1 << 20  # below this much free space no render starts: Blender would write truncated EXRs
RAW_BYTES_PER_PIXEL = 96  # the raw float passes of one pixel, plus the PNGs: the first sample's space estimate
COUNT_LIMIT = 100_000  # plans of grids up to this product size are counted up front (progress bar, ETA)


class SweepError(BlurdError):
    """A sweep that cannot start: unwritable output folder, a folder holding another preset's dataset."""


class SampleError(BlurdError):
    """One sample failed for a reason inside it (a bad binding, a render error); the run reports it and goes on."""


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


# --------------------------------------------------------------------------------------------- folder checks


def check_writable(out: Path) -> None:
    """Create OUT (and its samples folder) or raise SweepError naming the one that is not writable, before work."""
    for folder in (Path(out), layout.samples_root(out)):
        try:
            if folder.is_symlink() and folder != Path(out):
                raise SweepError(f"{folder} is a symbolic link; BLURD writes samples only into a real folder "
                                 f"inside {out}")
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f"{layout.TMP_PREFIX}{os.getpid()}-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except DiskFullError:
            raise
        except OSError as exc:
            if exc.errno == 28:
                raise DiskFullError(folder) from None
            raise SweepError(f"folder {folder} is not writable ({exc.strerror}); make it writable or choose "
                             f"another --out") from None
    Manifest(out).check()


def copy_preset(out: Path, preset_path: Path) -> None:
    """Copy the preset into OUT; a folder holding another preset's dataset is an error, not a silent mix."""
    try:
        data = Path(preset_path).read_bytes()
    except OSError as exc:
        raise SweepError(f"cannot read the preset {preset_path} ({exc.strerror})") from None
    target = Path(out) / layout.preset_copy_name(Path(preset_path))
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise SweepError(f"{target} is not a regular file; move it away")
    if target.exists() and target.read_bytes() != data:
        raise SweepError(f"{out} holds a dataset made with a different preset ({target}); sweep into another "
                         f"folder, or delete {target} to mix the datasets on purpose")
    if not target.exists():
        write_bytes(target, data, durable=True)


def plan_samples(grid: Grid, shard_spec: tuple[int, int] | None, limit: int | None) -> Iterator[Sample]:
    """The samples this sweep covers, in grid order, drawn lazily (start-up does not grow with the grid)."""
    samples: Iterator[Sample] = iter(grid)
    if shard_spec is not None:
        samples = shard(samples, *shard_spec)
    return itertools.islice(samples, limit) if limit is not None else samples


def planned_count(grid: Grid, shard_spec: tuple[int, int] | None, limit: int | None) -> int | None:
    """How many samples the plan holds when that is cheap to know (None otherwise: the bar shows no total)."""
    known = grid.size_hint()
    if shard_spec is None and known is not None:
        return min(known, limit) if limit is not None else known
    if grid.product_size <= COUNT_LIMIT:
        return sum(1 for _ in plan_samples(grid, shard_spec, limit))
    return None


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def check_free_space(out: Path, needed: int) -> None:
    """DiskFullError before a render that the disk could not hold (Blender would write truncated passes)."""
    try:
        free = shutil.disk_usage(out).free
    except OSError:
        return
    if free < max(needed, MIN_FREE_BYTES):
        raise DiskFullError(out)


def check_seed_policy(out: Path, manifest: Manifest, grid: Grid) -> None:
    """SweepError when the folder's samples were seeded another way than ``grid`` seeds them (a dataset made before
    seed policies, or with another ``seed_from``): resuming would mix two noise policies in one dataset. The first
    readable manifest row decides."""
    for row in manifest.rows():
        seed, factors = row.get("seed"), row.get("factors")
        if isinstance(seed, bool) or not isinstance(seed, int) or not isinstance(factors, dict):
            continue
        try:
            values = validate_assignment(factors, complete=True)
        except BlurdError:
            continue
        expected = grid.seed_policy.seed(values, row.get("id"))
        if expected != seed:
            raise SweepError(
                f"{out} holds samples seeded another way than this preset seeds them (sample {row.get('id')}: seed "
                f"{seed}, this preset's seed policy gives {expected}); to resume a dataset made before seed policies "
                f"add seed_from = \"sample\" to its [grid], otherwise set the seed_from it was made with, or sweep "
                f"into a new folder")
        return


# ----------------------------------------------------------------------------------------------- one sample


def render_into_dataset(bl_scene, sample: Sample, out: Path, *, render: RenderSettings, output: OutputSettings,
                        apply_factors: Callable[..., None] | None = None, bindings: Any = None,
                        quiet: bool = True) -> dict[str, Any]:
    """The manifest row of ``sample`` after rendering it into OUT/samples/<id>/ (a partial folder is cleared first).

    The one way a sample is made, by the local sweep and by the distributed engine's render actors alike, so both
    write the same bytes. The caller holds the sample's lock. Raises SampleError, with the folder removed, when the
    sample fails (DiskFullError and KeyboardInterrupt pass through, folder removed too); appending the row to the
    manifest is the caller's job.
    """
    folder = layout.sample_dir(out, sample.id)
    hygiene.clear_folder(folder)  # a partial sample from a killed run
    try:
        (apply_factors or _default_apply_factors)(bl_scene, dict(sample.factors), bindings)
        with no_space_as_error(folder):
            record = render_sample(bl_scene, folder, sample_id=sample.id, seed=sample.seed,
                                   factors=dict(sample.factors), settings=render, quiet=quiet,
                                   keep_depth_exr=output.keep_depth_exr, seed_policy=sample.seed_policy)
    except (DiskFullError, DatasetError):
        hygiene.clear_folder(folder)
        raise
    except Exception as exc:
        hygiene.clear_folder(folder)
        message = str(exc) if isinstance(exc, BlurdError) else f"{type(exc).__name__}: {exc}"
        raise SampleError(message) from exc
    except BaseException:  # Ctrl-C: nothing half-written stays
        hygiene.clear_folder(folder)
        raise
    return manifest_row(record, sample.index)


def complete_sample_row(out: Path, sample: Sample) -> dict[str, Any]:
    """The manifest row of a sample rendered earlier, from its sample.json."""
    return manifest_row(read_record(layout.sample_dir(out, sample.id)), sample.index)


# ----------------------------------------------------------------------------------------------- Ctrl-C


class Interrupt:
    """SIGINT as a flag while a sweep runs: Blender runs Python callbacks inside the render, where a raised
    KeyboardInterrupt is printed and swallowed; the flag is read between the stages of a sample instead. A
    second Ctrl-C raises at once."""

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @contextmanager
    def installed(self) -> Iterator[Interrupt]:
        if threading.current_thread() is not threading.main_thread() or \
                signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            yield self  # not ours to take over (Blender's UI, a host program's own handler)
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt


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
        self.manifest = Manifest(self.out)
        self.position = 0
        self.summary = SweepSummary(self.out, 0)
        self.interrupt = Interrupt()
        self._plan: Iterator[Sample] = iter(())
        self._planned: int | None = None
        self._deferred: list[Sample] = []
        self._started_at = 0.0
        self._cancelled = False
        self._exhausted = False
        self._next: Sample | None = None
        self._sample_bytes = 0
        self._bar = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Check the folder, plan the samples, clear dead writers' files, repair the manifest, copy the preset."""
        config = self.config
        pin_mmap_threshold()
        check_writable(self.out)
        self._plan = plan_samples(config.grid, config.shard, config.limit)
        self._planned = planned_count(config.grid, config.shard, config.limit)
        with dataset_lock(self.out):
            if config.preset_path is not None:
                copy_preset(self.out, Path(config.preset_path))
            hygiene.remove_stale_temp_files(self.out)
            hygiene.remove_stale_temp_files(layout.samples_root(self.out))
            hygiene.remove_stale_temp_files(self.out / layout.LOCKS_DIR)
        self.manifest.repair()
        check_seed_policy(self.out, self.manifest, config.grid)
        self.summary = SweepSummary(self.out, self._planned or 0)
        self._started_at = time.perf_counter()
        self._bar = _progress_bar(self._planned) if config.progress_bar else None

    @property
    def total(self) -> int:
        """Planned samples (those seen so far when the plan is too large to count up front)."""
        return self._planned if self._planned is not None else self.position + (0 if self.done else 1)

    @property
    def done(self) -> bool:
        if self._cancelled:
            return True
        if self._next is None and not self._exhausted:
            self._next = next(self._plan, None)
            self._exhausted = self._next is None
        return self._next is None and self._exhausted and not self._deferred

    def cancel(self) -> None:
        self._cancelled = True
        self.summary.cancelled = True

    def eta_seconds(self) -> float | None:
        """Remaining time from the mean time per rendered sample; None before the first render."""
        if not self.summary.rendered or self._planned is None:
            return None
        return self.summary.seconds_per_sample * max(0, self._planned - self.position)

    # -- one sample ---------------------------------------------------------------------------------------
    def _take(self) -> tuple[Sample, FileLock]:
        """The next sample to process, with its lock held; samples other processes hold wait until the end."""
        while True:
            if self.done:
                raise StopIteration
            if self._next is not None:
                sample, self._next = self._next, None
                lock = sample_lock(self.out, sample.id)
                try:
                    return sample, lock.acquire(blocking=False)
                except Busy:
                    self._deferred.append(sample)  # another process renders it right now
                    continue
            sample = self._deferred.pop(0)
            return sample, sample_lock(self.out, sample.id).acquire(blocking=True)

    def step(self) -> SampleResult | None:
        """Process the next planned sample (skip, or render and record it); None when done."""
        try:
            sample, lock = self._take()
        except StopIteration:
            return None
        self.position += 1
        folder = layout.sample_dir(self.out, sample.id)
        started = time.perf_counter()
        try:
            record = complete_record(folder)
            if record is not None:
                hygiene.remove_stale_temp_files(folder, everything=True)  # we hold its lock: no one writes there
                self.manifest.append(manifest_row(record, sample.index))  # a no-op unless killed before the row
                result = SampleResult(sample, Outcome.SKIPPED, 0.0)
                self.summary.skipped += 1
            else:
                result = self._render(sample, started)
        finally:
            lock.release()
        if result.outcome is not Outcome.FAILED:
            self._run_hook(sample, folder)
        self._advance_bar(result)
        return result

    def _render(self, sample: Sample, started: float) -> SampleResult:
        render = self.config.render
        check_free_space(self.out, max(2 * self._sample_bytes,
                                       render.resolution[0] * render.resolution[1] * RAW_BYTES_PER_PIXEL))
        if self.scene is None:
            self.scene = self._build_scene(render)
        try:
            row = render_into_dataset(self.scene, sample, self.out, render=render, output=self.config.output,
                                      apply_factors=self._apply_factors, bindings=self.bindings,
                                      quiet=self.config.quiet_render)
        except SampleError as exc:  # one bad sample must not end a long sweep; its message goes in the summary
            self.summary.failed += 1
            self.summary.failures.append((sample.id, str(exc)))
            return SampleResult(sample, Outcome.FAILED, time.perf_counter() - started, str(exc))
        self.manifest.append(row)
        release_freed_memory()
        self._sample_bytes = max(self._sample_bytes, folder_bytes(layout.sample_dir(self.out, sample.id)))
        seconds = time.perf_counter() - started
        self.summary.rendered += 1
        self.summary.render_seconds += seconds
        return SampleResult(sample, Outcome.RENDERED, seconds)

    def _run_hook(self, sample: Sample, folder: Path) -> None:
        if self.on_sample_done is None:
            return
        try:
            self.on_sample_done(folder)
        except DiskFullError:
            raise
        except Exception as exc:  # the render is kept; the hook's failure is reported
            self.summary.failures.append((sample.id, f"after render: {exc}"))

    def _advance_bar(self, result: SampleResult) -> None:
        if self._bar is not None:
            self._bar.set_postfix(rendered=self.summary.rendered, skipped=self.summary.skipped,
                                  failed=self.summary.failed, refresh=False)
            self._bar.update(1)

    # -- the end ------------------------------------------------------------------------------------------
    def contact_sheet_samples(self, limit: int) -> list[Sample]:
        """Up to ``limit`` complete samples of the whole dataset (every shard's), in grid order, from the manifest."""
        rows = [row for row in self.manifest.rows() if layout.is_safe_name(row.get("id"))
                and isinstance(row.get("factors"), dict)]
        rows.sort(key=lambda row: row.get("index") if isinstance(row.get("index"), int) else sys.maxsize)
        return [Sample(row.get("index", -1), row["id"], row.get("seed", 0), row["factors"]) for row in rows[:limit]
                if (layout.sample_dir(self.out, row["id"]) / layout.RGB).is_file()]

    def finish(self) -> SweepSummary:
        """Write the contact sheet, close the progress bar and return the summary."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._planned is None or self._cancelled:
            self.summary.planned = self._planned if self._planned is not None else self.position
        output = self.config.output
        if output.contact_sheet:
            self._write_contact_sheet(output)
        self.summary.total_seconds = time.perf_counter() - self._started_at
        self.summary.peak_rss_mb = peak_rss_mb()
        return self.summary

    def _write_contact_sheet(self, output: OutputSettings) -> None:
        samples = self.contact_sheet_samples(output.contact_sheet_max)
        if not samples:
            return
        with dataset_lock(self.out):
            self.summary.contact_sheet = contact_sheet.write_contact_sheet(
                self.out, samples, swept=list(self.config.grid.sweep), thumbnail=output.thumbnail_size,
                limit=output.contact_sheet_max)

    def run(self, cancelled: Callable[[], bool] | None = None) -> SweepSummary:
        """start(), step() until done (or ``cancelled()`` turns true), finish(). Ctrl-C ends the current sample and
        raises KeyboardInterrupt (the folder stays consistent: every sample is complete or absent)."""
        with self.interrupt.installed():
            self.start()
            while not self.done:
                self.interrupt.check()
                if cancelled is not None and cancelled():
                    self.cancel()
                    break
                self.step()
            self.interrupt.check()
            return self.finish()


M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
MMAP_THRESHOLD_BYTES = 256 * 1024


def _glibc_allocator() -> tuple[Callable[[], None], Callable[[], None]]:
    """(pin the mmap threshold, ``malloc_trim(0)``) of glibc, or no-ops where the C library lacks them."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim, mallopt = libc.malloc_trim, libc.mallopt
    except (OSError, AttributeError, TypeError):
        return (lambda: None), (lambda: None)
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return (lambda: mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) and None), (lambda: trim(0) and None)


pin_mmap_threshold, release_freed_memory = _glibc_allocator()
"""Keep a long sweep's resident memory flat. Each Cycles render allocates and frees hundreds of MB in blocks of
changing sizes across its threads' malloc arenas. glibc raises its mmap threshold after each large free, so later
render buffers came from the heap, and it keeps freed heap pages: resident memory crept up by several MB per 100
samples (issue 13; datablock and Python object counts stayed flat). The sweep pins the threshold once (large
buffers are mapped and unmapped whole) and trims the heap after every sample (benchmarks/sweep_memory.py)."""


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process in MB (Linux and macOS); None elsewhere."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _progress_bar(total: int | None):
    try:
        from tqdm import tqdm
    except ImportError:  # Blender's own Python without the bundled wheel: no bar, the summary still prints
        return None
    return tqdm(total=total, unit="sample", desc="BLURD sweep", dynamic_ncols=True)

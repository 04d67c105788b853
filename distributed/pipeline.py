"""The streaming pipeline: samples flow render -> diffuse -> embed through pools of Ray actors, all stages at once.

The driver (this process) is the dataset's one bookkeeper: it plans the samples, skips complete ones, appends
manifest rows as render results come back, and queues each finished sample for diffusion and embedding while the
render workers go on. Render workers make a sample with the local sweep's own ``render_into_dataset`` under the
sample's lock, so the bytes are the local sweep's. A worker that dies (SIGKILL, out of memory) is replaced and its
in-flight items go back to the front of the queue, for another worker, after its partial files are removed; an
item whose workers die ``max_attempts`` times, or that fails for a reason inside it, is reported and the run goes
on.
"""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..benchmark.dataset import RENDER as RENDER_SOURCE  # the benchmark's name of the render as an image source
from ..dataset import hygiene, layout
from ..dataset.locks import Busy, dataset_lock, sample_lock
from ..dataset.manifest import Manifest
from ..dataset.record import is_complete, is_mode_done
from ..factors.grid import Grid, Sample
from ..presets.settings import OutputSettings, RenderSettings
from ..scene import sweep
from .actors import DiffuseResult, DiffusionWorker, EmbedResult, EmbedWorker, RenderResult, RenderWorker
from .cluster import Pool, Stage, import_ray
from .errors import WorkerStartError
from .progress import Bars, RunSummary

RENDER_DEPTH = 2  # samples queued on each render worker, so it never waits for the driver
SCAN_AHEAD = 10_000  # complete samples looked at before the pools start, to see which stages have work
BACKLOG_BATCHES = 4  # batches queued per worker of a later stage before the plan is read further
EMBED_BATCH = 32
START_TIMEOUT_S = 900.0  # a pool that is not up by then lacks free resources (or a model takes that long to load)
WAIT_S = 0.5
BUSY_PAUSE_S = 0.2


DispatchHook = Callable[[Stage, int, Any], None]  # (stage, worker pid, item): tests kill workers mid-item with it


@dataclass(frozen=True)
class RunConfig:
    """What to run where: the preset's parts, the part of the grid, the optional stages and their settings."""

    out: Path
    grid: Grid
    render: RenderSettings = field(default_factory=RenderSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    limit: int | None = None
    shard: tuple[int, int] | None = None
    preset_path: Path | None = None
    modes: tuple[str, ...] = ()  # diffusion modes; empty: no diffusion stage
    diffusion: dict[str, Any] | None = None  # DiffusionSettings.to_mapping()
    batch_size: int = 1
    allow_downloads: bool = False
    embed_model: str | None = None  # a CLIP model for the benchmark's embedding cache; None: no embedding stage
    embed_model_key: str = ""
    embed_device: str = "cpu"
    progress_bar: bool = True
    max_attempts: int = 3  # tries per item when workers die under it

    def sweep_config(self) -> sweep.SweepConfig:
        return sweep.SweepConfig(out=self.out, grid=self.grid, render=self.render, output=self.output,
                                 limit=self.limit, shard=self.shard, preset_path=self.preset_path,
                                 progress_bar=False)


@dataclass
class Item:
    """One unit of work of a stage and how often it was tried: a Sample, a (folder, mode) job or an image."""

    payload: Any
    sample_id: str
    attempts: int = 0
    alone: bool = False  # a diffusion job split from a failed batch, run on its own


@dataclass
class Worker:
    stage: Stage
    handle: Any
    pid: int
    tasks: set = field(default_factory=set)  # ObjectRefs in flight


@dataclass
class Task:
    worker: Worker
    items: list[Item]


class Pipeline:
    """One distributed run; ``run()`` returns the RunSummary (KeyboardInterrupt passes through, workers stopped)."""

    def __init__(self, config: RunConfig, pools: dict[Stage, Pool], *, build_scene: Callable | None = None,
                 apply_factors: Callable | None = None, on_dispatch: DispatchHook | None = None) -> None:
        self.config = config
        self.out = Path(config.out)
        self.pools = {stage: pool for stage, pool in pools.items() if self._wanted(stage)}
        self.build_scene, self.apply_factors = build_scene, apply_factors
        self.on_dispatch = on_dispatch
        self.ray = import_ray()
        self.manifest = Manifest(self.out)
        self.queues: dict[Stage, collections.deque[Item]] = {stage: collections.deque() for stage in Stage}
        self.workers: dict[Stage, list[Worker]] = {stage: [] for stage in Stage}
        self.tasks: dict[Any, Task] = {}
        self.replacements_left = {stage: pool.count * config.max_attempts for stage, pool in self.pools.items()}
        self.summary = RunSummary(self.out, 0, dict(self.pools))
        self.bars = Bars(list(self.pools), config.progress_bar)
        self.embeddings: dict[str, dict[str, tuple[int, int, list[float]]]] = {}
        self.known_embeddings: dict[str, dict[str, tuple[int, int]]] = {}
        self._plan: Iterator[Sample] = iter(())
        self._plan_done = False
        self.started = {stage: False for stage in Stage}

    def _wanted(self, stage: Stage) -> bool:
        return {Stage.RENDER: True, Stage.DIFFUSE: bool(self.config.modes),
                Stage.EMBED: self.config.embed_model is not None}[stage]

    # -- the run ------------------------------------------------------------------------------------------------
    def run(self) -> RunSummary:
        started = time.perf_counter()
        try:
            self._prepare()
            self._start_pools()
            while True:
                pending = self._dispatch()
                if not self.tasks and not pending:
                    break
                self._collect()
        finally:
            self._stop_workers()
            self.bars.close()
        self._store_embeddings()
        self._contact_sheet()
        self.summary.total_seconds = time.perf_counter() - started
        return self.summary

    def _prepare(self) -> None:
        """The local sweep's checks and clean-up, then the plan: complete samples go straight to the later stages."""
        config = self.config
        sweep.check_writable(self.out)
        with dataset_lock(self.out):
            if config.preset_path is not None:
                sweep.copy_preset(self.out, Path(config.preset_path))
            for folder in (self.out, layout.samples_root(self.out), self.out / layout.LOCKS_DIR):
                hygiene.remove_stale_temp_files(folder)
        self.manifest.repair()
        if config.embed_model is not None:
            self.known_embeddings = _cached_stamps(self.out, config.embed_model_key,
                                                   [RENDER_SOURCE, *config.modes])
        self._plan = sweep.plan_samples(config.grid, config.shard, config.limit)
        self.bars.add_total(Stage.RENDER, sweep.planned_count(config.grid, config.shard, config.limit) or 0)
        self._read_plan(1, scan_limit=SCAN_AHEAD)  # enough to know which stages have work

    def _read_plan(self, want: int, scan_limit: int | None = None) -> None:
        """Read the plan lazily until ``want`` renders are queued, the plan ends, or the later stages are backed
        up (memory stays bounded on a million-sample grid); complete samples go on to the later stages at once."""
        looked = 0
        queue = self.queues[Stage.RENDER]
        while len(queue) < want and not self._plan_done and not self._backed_up():
            if scan_limit is not None and looked >= scan_limit:
                return
            sample = next(self._plan, None)
            if sample is None:
                self._plan_done = True
                return
            looked += 1
            self.summary.planned += 1
            if is_complete(layout.sample_dir(self.out, sample.id)):
                self._already_rendered(sample)
            else:
                queue.append(Item(sample, sample.id))

    def _backed_up(self) -> bool:
        """Whether a later stage has enough queued that reading further ahead of it would only cost memory."""
        for stage, batch in ((Stage.DIFFUSE, self.config.batch_size), (Stage.EMBED, EMBED_BATCH)):
            pool = self.pools.get(stage)
            if pool is not None and len(self.queues[stage]) >= BACKLOG_BATCHES * batch * pool.count:
                return True
        return False

    def _after_render(self, sample: Sample) -> None:
        """Queue a complete sample's diffusion jobs and embeddings (those not done by an earlier run)."""
        folder = layout.sample_dir(self.out, sample.id)
        for mode in self.config.modes:
            if is_mode_done(folder, mode):
                self.summary.stages[Stage.DIFFUSE].skipped += 1
                self._queue_embedding(mode, sample.id, folder / layout.diffusion_filename(mode, "png"))
            else:
                self._queue(Stage.DIFFUSE, Item((str(folder), mode), sample.id))
        self._queue_embedding(RENDER_SOURCE, sample.id, folder / layout.RGB)

    def _queue(self, stage: Stage, item: Item, front: bool = False) -> None:
        if front:
            self.queues[stage].appendleft(item)
        else:
            self.queues[stage].append(item)
            self.bars.add_total(stage, 1)

    def _queue_embedding(self, source: str, sample_id: str, image: Path) -> None:
        if Stage.EMBED not in self.pools:
            return
        known = self.known_embeddings.get(source, {}).get(sample_id)
        stat = image.stat()
        if known == (stat.st_size, stat.st_mtime_ns):
            self.summary.stages[Stage.EMBED].skipped += 1
            return
        self._queue(Stage.EMBED, Item((source, sample_id, str(image)), sample_id))

    # -- workers ------------------------------------------------------------------------------------------------
    def _actor_class(self, stage: Stage):
        pool = self.pools[stage]
        cls = {Stage.RENDER: RenderWorker, Stage.DIFFUSE: DiffusionWorker, Stage.EMBED: EmbedWorker}[stage]
        return self.ray.remote(cls).options(num_cpus=pool.num_cpus, num_gpus=pool.num_gpus, max_restarts=0,
                                            max_task_retries=0)

    def _actor_arguments(self, stage: Stage) -> tuple:
        config = self.config
        if stage is Stage.RENDER:
            render = config.render
            if render.threads == 0:  # "all cores" would make the workers of one node fight over them
                render = replace(render, threads=max(1, int(self.pools[stage].num_cpus)))
            return render, config.output, self.build_scene, self.apply_factors
        if stage is Stage.DIFFUSE:
            return config.diffusion, config.modes, config.allow_downloads
        return config.embed_model, config.embed_device, config.allow_downloads

    def _start_pools(self) -> None:
        """Start every needed pool at once and wait until each worker is up (scene built, model found)."""
        work = {stage: bool(self.queues[stage]) or not self._plan_done for stage in Stage}
        needed = [s for s in self.pools if work[s] or s is not Stage.RENDER and work[Stage.RENDER]
                  or s is Stage.EMBED and work[Stage.DIFFUSE]]
        self.summary.unstarted = {stage for stage in self.pools if stage not in needed}  # nothing to do there
        self.started = {stage: stage in needed for stage in Stage}
        stages = [stage for stage in needed for _ in range(self.pools[stage].count)]
        handles = [self._actor_class(stage).remote(*self._actor_arguments(stage)) for stage in stages]
        try:
            pids = self._ready(handles, stages)
        except BaseException:
            for handle in handles:  # a long-lived cluster keeps what is not killed
                self.ray.kill(handle, no_restart=True)
            raise
        for stage, handle, pid in zip(stages, handles, pids):
            self.workers[stage].append(Worker(stage, handle, pid))

    def _ready(self, handles: list, stages: list[Stage]) -> list[int]:
        ray = self.ray
        refs = [handle.pid.remote() for handle in handles]
        try:
            return ray.get(refs, timeout=START_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            raise WorkerStartError(f"the workers did not start within {START_TIMEOUT_S:.0f} s; the cluster may lack "
                                   "free CPUs/GPUs (see `ray status`)") from None
        except ray.exceptions.RayActorError as exc:
            stage = next((s for s, ref in zip(stages, refs) if _failed(ray, ref)), stages[0])
            raise WorkerStartError(f"the {stage.value} workers cannot start: {_cause(exc)}") from None

    def _replace(self, dead: Worker) -> None:
        stage = dead.stage
        self.workers[stage].remove(dead)
        if self.replacements_left[stage] <= 0:
            return
        self.replacements_left[stage] -= 1
        handle = self._actor_class(stage).remote(*self._actor_arguments(stage))
        try:
            pid = self._ready([handle], [stage])[0]
        except WorkerStartError as exc:
            self.summary.notes.append(f"a replacement {stage.value} worker did not start: {exc}")
            return
        self.workers[stage].append(Worker(stage, handle, pid))

    def _stop_workers(self) -> None:
        for workers in self.workers.values():
            for worker in workers:
                self.ray.kill(worker.handle, no_restart=True)
            workers.clear()

    # -- dispatch -----------------------------------------------------------------------------------------------
    def _dispatch(self) -> bool:
        """Hand queued items to free workers; False when there is nothing left to do at all."""
        render_workers = self.workers[Stage.RENDER]
        if render_workers or self.started[Stage.RENDER]:  # no worker left: read on, to report each sample failed
            self._read_plan(sum(RENDER_DEPTH - len(w.tasks) for w in render_workers) if render_workers else 1)
        for stage in self.pools:
            queue = self.queues[stage]
            if queue and not self.workers[stage]:
                while queue:
                    self._fail(queue.popleft(), stage, f"no {stage.value} worker is left (they kept dying)")
            for worker in sorted(self.workers[stage], key=lambda w: len(w.tasks)):
                limit = RENDER_DEPTH if stage is Stage.RENDER else 1
                while queue and len(worker.tasks) < limit:
                    self._submit(worker, self._take(stage))
        return any(self.queues[s] for s in self.pools) or not self._plan_done

    def _take(self, stage: Stage) -> list[Item]:
        queue = self.queues[stage]
        first = queue.popleft()
        if stage is Stage.RENDER or first.alone:
            return [first]
        size = self.config.batch_size if stage is Stage.DIFFUSE else EMBED_BATCH
        batch = [first]
        for item in list(queue):  # diffusion batches hold one mode: consecutive jobs share a pipeline
            if len(batch) >= size:
                break
            if not item.alone and (stage is Stage.EMBED or item.payload[1] == first.payload[1]):
                queue.remove(item)
                batch.append(item)
        return batch

    def _submit(self, worker: Worker, items: list[Item]) -> None:
        stage = worker.stage
        if stage is Stage.RENDER and is_complete(layout.sample_dir(self.out, items[0].sample_id)):
            self._already_rendered(items[0].payload)  # finished meanwhile by another process
            return
        for item in items:
            item.attempts += 1
        if stage is Stage.RENDER:
            ref = worker.handle.render.remote(items[0].payload, str(self.out))
        elif stage is Stage.DIFFUSE:
            ref = worker.handle.generate.remote([item.payload for item in items])
        else:
            ref = worker.handle.embed.remote([item.payload for item in items])
        worker.tasks.add(ref)
        self.tasks[ref] = Task(worker, items)
        self.summary.stages[stage].started()
        if self.on_dispatch is not None:
            for item in items:
                self.on_dispatch(stage, worker.pid, item.payload)

    # -- results ------------------------------------------------------------------------------------------------
    def _collect(self) -> None:
        ray = self.ray
        if not self.tasks:
            return
        ready, _ = ray.wait(list(self.tasks), num_returns=1, timeout=WAIT_S)
        for ref in ready:
            task = self.tasks.pop(ref, None)
            if task is None:  # already handled with its dead worker
                continue
            task.worker.tasks.discard(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayActorError:
                self._worker_died(task)
                continue
            except ray.exceptions.RayTaskError as exc:  # not a sample's failure: the worker code itself broke
                for item in task.items:
                    self._fail(item, task.worker.stage, _cause(exc))
                continue
            {RenderResult: self._rendered, DiffuseResult: self._diffused, EmbedResult: self._embedded}[
                type(result)](task, result)

    def _rendered(self, task: Task, result: RenderResult) -> None:
        item = task.items[0]
        if result.busy:  # another process (a local sweep, a second run) renders it: look again later
            item.attempts -= 1
            self.queues[Stage.RENDER].append(item)
            time.sleep(BUSY_PAUSE_S)
            return
        if result.row is None:
            self._fail(item, Stage.RENDER, result.error)
            return
        self.manifest.append(result.row)
        self.summary.stages[Stage.RENDER].finished()
        self.summary.stages[Stage.RENDER].cpu_seconds += result.cpu_seconds
        self.bars.advance(Stage.RENDER, failed=self.summary.stages[Stage.RENDER].failed)
        self._after_render(item.payload)

    def _already_rendered(self, sample: Sample) -> None:
        self.manifest.append(sweep.complete_sample_row(self.out, sample))
        self.summary.stages[Stage.RENDER].skipped += 1
        self.bars.advance(Stage.RENDER)
        self._after_render(sample)

    def _diffused(self, task: Task, result: DiffuseResult) -> None:
        if result.error:
            if len(task.items) > 1:  # one bad sample must not fail its batch: try each job on its own
                for item in reversed(task.items):
                    item.alone, item.attempts = True, item.attempts - 1
                    self._queue(Stage.DIFFUSE, item, front=True)
                return
            self._fail(task.items[0], Stage.DIFFUSE, result.error)
            return
        by_job = {(str(Path(o["sample_dir"])), o["mode"]): o for o in result.outputs}
        for item in task.items:
            folder, mode = item.payload
            output = by_job.get((str(Path(folder)), mode))
            if output is not None and output.get("skipped"):
                self.summary.stages[Stage.DIFFUSE].skipped += 1
            else:
                self.summary.stages[Stage.DIFFUSE].finished()
            self.bars.advance(Stage.DIFFUSE)
            self._queue_embedding(mode, item.sample_id, Path(folder) / layout.diffusion_filename(mode, "png"))

    def _embedded(self, task: Task, result: EmbedResult) -> None:
        if result.error:
            for item in task.items:
                self._fail(item, Stage.EMBED, result.error)
            return
        for source, sid, size, mtime, row in result.rows:
            self.embeddings.setdefault(source, {})[sid] = (size, mtime, row)
        self.summary.stages[Stage.EMBED].finished(len(result.rows))
        self.bars.advance(Stage.EMBED, len(result.rows))

    def _fail(self, item: Item, stage: Stage, message: str) -> None:
        self.summary.stages[stage].failed += 1
        what = stage.value if stage is not Stage.DIFFUSE else f"diffuse {item.payload[1]}"
        self.summary.failures.append((item.sample_id, f"{what}: {message}"))
        self.bars.advance(stage)

    def _worker_died(self, task: Task) -> None:
        """Put the dead worker's items back (front of the queue), after removing what it left half-written."""
        worker = task.worker
        lost = [task] + [self.tasks.pop(ref) for ref in list(worker.tasks) if ref in self.tasks]
        worker.tasks.clear()
        self.summary.worker_deaths += 1
        for dead_task in reversed(lost):
            for item in reversed(dead_task.items):
                last = item.attempts >= self.config.max_attempts
                self._clear_partial(worker.stage, item, last)
                if last:
                    self._fail(item, worker.stage, f"its worker died {item.attempts} times (killed, or out of "
                                                   "memory); see the Ray logs of the node")
                else:
                    self.summary.retries += 1
                    self._queue(worker.stage, item, front=True)
        self._replace(worker)

    def _clear_partial(self, stage: Stage, item: Item, last: bool) -> None:
        """Remove what a dead worker left of ``item``: a partial sample folder (unless another process holds the
        sample's lock and so writes it now), its dead temporary files, and after the last try a lone sd_<mode>.json
        (the worker writes it just before the image)."""
        if stage is Stage.RENDER:
            folder = layout.sample_dir(self.out, item.sample_id)
            try:
                lock = sample_lock(self.out, item.sample_id).acquire(blocking=False)
            except Busy:
                return
            try:
                if not is_complete(folder):
                    hygiene.clear_folder(folder)
            finally:
                lock.release()
        elif stage is Stage.DIFFUSE:
            folder, mode = Path(item.payload[0]), item.payload[1]
            hygiene.remove_stale_temp_files(folder)
            if last and not is_mode_done(folder, mode):
                (folder / layout.diffusion_filename(mode, "json")).unlink(missing_ok=True)

    # -- the end ------------------------------------------------------------------------------------------------
    def _store_embeddings(self) -> None:
        if not self.embeddings:
            return
        from ..benchmark.cache import store_image_rows  # numpy only; the driver never loads a model

        for source, rows in self.embeddings.items():
            store_image_rows(self.out, self.config.embed_model_key, source, rows)

    def _contact_sheet(self) -> None:
        if self.config.output.contact_sheet:
            self.summary.contact_sheet = sweep.Sweep(self.config.sweep_config()).finish().contact_sheet


def _cached_stamps(out: Path, model_key: str, sources: Iterable[str]) -> dict[str, dict[str, tuple[int, int]]]:
    from ..benchmark.cache import cached_image_stamps

    return {source: cached_image_stamps(out, model_key, source) for source in sources}


def _failed(ray, ref) -> bool:
    try:
        ray.get(ref, timeout=0)
    except ray.exceptions.RayActorError:
        return True
    except Exception:
        return False
    return False


def _cause(exc: BaseException) -> str:
    """The last meaningful line of a Ray error (the worker's own message, not Ray's wrapping)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(("File ", "^", "ray::", "Traceback")) and ":" in line:
            return re.sub(r"^(?:\w+\.)+(?=\w+: )", "", line)  # the error class without its module path
    return lines[-1] if lines else type(exc).__name__

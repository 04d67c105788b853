"""What a distributed run did, stage by stage: progress bars with ETA and throughput, and the final summary."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .cluster import Pool, Stage

UNITS = {Stage.RENDER: "sample", Stage.DIFFUSE: "image", Stage.EMBED: "image"}


@dataclass
class StageStats:
    """One stage's counts and its throughput over the wall-clock time it was busy."""

    done: int = 0
    skipped: int = 0  # done by an earlier run
    failed: int = 0
    cpu_seconds: float = 0.0  # workers' CPU time on the items done (render stage)
    first_start: float | None = None
    last_end: float | None = None

    def started(self) -> None:
        if self.first_start is None:
            self.first_start = time.perf_counter()

    def finished(self, count: int = 1) -> None:
        self.done += count
        self.last_end = time.perf_counter()

    @property
    def per_second(self) -> float:
        """Items per second from the first dispatch to the last result (0 before any)."""
        if not self.done or self.first_start is None or self.last_end is None:
            return 0.0
        return self.done / max(self.last_end - self.first_start, 1e-9)


@dataclass
class RunSummary:
    """The whole run: planned samples, each stage's stats, retries after worker deaths, failures with messages."""

    out: Path
    planned: int
    pools: dict[Stage, Pool] = field(default_factory=dict)
    stages: dict[Stage, StageStats] = field(default_factory=lambda: {stage: StageStats() for stage in Stage})
    retries: int = 0  # items sent again after their worker died
    worker_deaths: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (sample id, message)
    total_seconds: float = 0.0
    contact_sheet: Path | None = None
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)
    unstarted: set[Stage] = field(default_factory=set)  # pools with nothing to do (a resumed, finished run)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def text(self) -> str:
        render = self.stages[Stage.RENDER]
        lines = [f"{'cancelled' if self.cancelled else 'done'}: {render.done} rendered, {render.skipped} skipped, "
                 f"{render.failed} failed of {self.planned} planned in {self.total_seconds:.1f} s -> {self.out}"]
        for stage, pool in self.pools.items():
            stats = self.stages[stage]
            workers = "no workers started: nothing to do" if stage in self.unstarted else pool.text()
            lines.append(f"  {stage.value}: {stats.done} {UNITS[stage]}(s) at {stats.per_second:.2f}/s, "
                         f"{stats.skipped} already done, {stats.failed} failed; {workers}")
        if self.worker_deaths:
            lines.append(f"  {self.worker_deaths} worker(s) died; {self.retries} item(s) retried on other workers")
        lines += [f"  failed {sid}: {message}" for sid, message in self.failures]
        if self.contact_sheet:
            lines.append(f"  contact sheet: {self.contact_sheet}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


class Bars:
    """One tqdm bar per stage (rate and ETA are tqdm's own); nothing when tqdm is missing or bars are off."""

    def __init__(self, stages: list[Stage], enabled: bool) -> None:
        self._bars: dict[Stage, object] = {}
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        for position, stage in enumerate(stages):
            self._bars[stage] = tqdm(total=0, unit=UNITS[stage], desc=f"BLURD {stage.value:<7}", position=position,
                                     dynamic_ncols=True, leave=True)

    def add_total(self, stage: Stage, count: int) -> None:
        bar = self._bars.get(stage)
        if bar is not None and count:
            bar.total += count
            bar.refresh()

    def advance(self, stage: Stage, count: int = 1, **postfix) -> None:
        bar = self._bars.get(stage)
        if bar is not None:
            if postfix:
                bar.set_postfix(refresh=False, **postfix)
            bar.update(count)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars = {}

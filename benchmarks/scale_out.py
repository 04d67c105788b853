"""Render throughput of the Ray engine with 1 and 2 render workers, its overhead against the local sweep, and a
projection of the GPU-hours of the 1.7 M-image BLURD SD set.

Render-bound settings (built-in human, --size px, --cycles-samples samples, one thread per worker). Three runs of the
same grid into fresh folders, each timed from its first sample to its last with the scene already built, so
start-up (Python, bpy, Ray, building the human) is left out of every rate:

* local: the sweep engine in this process (``Sweep`` with a prebuilt scene), one sample after another;
* ray-1 / ray-2: ``python -m blurd.distributed``'s pipeline on a local Ray with 1 and 2 render workers (its render
  stage rate runs from the first dispatch to the last result).

Prints samples/s of each, the speed-up at 2 workers (target >= 1.7x, needs two free cores) and the Ray-path
overhead at 1 worker (local rate / ray-1 rate; target <= 1.10), the machine's load average before and after (this
machine is shared: a loaded machine caps the speed-up), then the projection from the measured per-image times plus
the time of one render at --projection-size (512 px) measured here, and the diffusion time per image measured on
the target GPU by benchmarks/gpu_throughput.py (--sd-seconds; bpy has no wheel for the GPU machines' Python).

    python benchmarks/scale_out.py [--samples 8] [--size 96] [--cycles-samples 16] [--sd-seconds 0.25]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import ray

from blurd.distributed.cluster import Pool, Stage
from blurd.distributed.pipeline import Pipeline, RunConfig
from blurd.factors.grid import Grid
from blurd.presets.settings import OutputSettings, RenderSettings
from blurd.scene import builder, sweep

SPEEDUP_TARGET = 1.7
OVERHEAD_TARGET = 1.10
COLOURS = ["red", "blue", "black", "green", "yellow", "orange", "cyan", "violet"]
ANGLES = [-30, -15, 0, 15, 30]
BLURD_SD_IMAGES = 1_700_000


def grid(count: int) -> Grid:
    return Grid(sweep={"hair_color": COLOURS, "camera_angle": ANGLES}, samples=count, seed=3)


@dataclass(frozen=True)
class Rate:
    """One timed run: samples per wall-clock second, and CPU seconds per sample (steadier on a loaded machine)."""

    per_second: float
    cpu_per_sample: float


def local_rate(render: RenderSettings, output: OutputSettings, count: int, out: Path) -> Rate:
    """The local sweep engine in this process, scene prebuilt (the timed loop is render + write only)."""
    config = sweep.SweepConfig(out=out, grid=grid(count), render=render, output=output, progress_bar=False)
    runner = sweep.Sweep(config, scene=builder.build_scene(render))
    runner.start()
    started, cpu = time.perf_counter(), time.process_time()
    while not runner.done:
        runner.step()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    summary = runner.finish()
    assert summary.rendered == count, summary.text()
    return Rate(count / seconds, cpu / count)


def one_render_seconds(size: int, cycles_samples: int, out: Path) -> float:
    """CPU seconds (one thread: core-seconds) of one warm render + write at the projection's size."""
    render = RenderSettings(resolution=(size, size), samples=cycles_samples, denoise=True, threads=1)
    config = sweep.SweepConfig(out=out, grid=grid(1), render=render, output=OutputSettings(contact_sheet=False),
                               progress_bar=False)
    runner = sweep.Sweep(config, scene=builder.build_scene(render))
    runner.start()
    started = time.process_time()
    runner.step()
    seconds = time.process_time() - started
    runner.finish()
    return seconds


def in_fresh_process(args: argparse.Namespace, kind: str, out: Path) -> Rate | float:
    """A local measurement in a new Python process (this script with --child): the local sweep runs as batch.py
    would, without this process's Ray driver threads counted in its CPU time."""
    command = [sys.executable, __file__, "--child", kind, "--child-out", str(out), "--samples", str(args.samples),
               "--size", str(args.size), "--cycles-samples", str(args.cycles_samples), "--projection-size",
               str(args.projection_size), "--projection-cycles-samples", str(args.projection_cycles_samples)]
    line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    values = json.loads(line)
    return Rate(**values) if kind == "local" else float(values)


def child(args: argparse.Namespace, render: RenderSettings, output: OutputSettings) -> int:
    if args.child == "local":
        rate = local_rate(render, output, args.samples, args.child_out)
        print(json.dumps({"per_second": rate.per_second, "cpu_per_sample": rate.cpu_per_sample}))
    else:
        print(json.dumps(one_render_seconds(args.projection_size, args.projection_cycles_samples, args.child_out)))
    return 0


def ray_rate(render: RenderSettings, output: OutputSettings, count: int, out: Path, workers: int) -> Rate:
    """The Ray pipeline's render stage with ``workers`` render workers; CPU = the workers' CPU on the samples plus
    all of the driver's (Ray's own daemons, idle between calls, are left out)."""
    config = RunConfig(out=out, grid=grid(count), render=render, output=output, progress_bar=False)
    pools = {Stage.RENDER: Pool(Stage.RENDER, workers, 1.0, 0.0)}
    cpu = time.process_time()
    summary = Pipeline(config, pools).run()
    driver_cpu = time.process_time() - cpu
    stats = summary.stages[Stage.RENDER]
    assert stats.done == count, summary.text()
    return Rate(stats.per_second, (stats.cpu_seconds + driver_cpu) / count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--cycles-samples", type=int, default=16)
    parser.add_argument("--sd-seconds", type=float, default=None,
                        help="diffusion seconds per image on the target GPU (benchmarks/gpu_throughput.py there)")
    parser.add_argument("--modes-per-render", type=int, default=3, help="SD images made from each render")
    parser.add_argument("--gpus", default="1,8,64", help="GPU counts to project for")
    parser.add_argument("--projection-size", type=int, default=512, help="render size the projection assumes")
    parser.add_argument("--projection-cycles-samples", type=int, default=32)
    parser.add_argument("--child", choices=["local", "big"], help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    render = RenderSettings(resolution=(args.size, args.size), samples=args.cycles_samples, denoise=False, threads=1)
    output = OutputSettings(contact_sheet=False)
    if args.child:
        return child(args, render, output)
    loads = [os.getloadavg()[0]]
    runs: dict[str, list[Rate]] = {"local": [], "ray-1": [], "ray-2": []}
    with tempfile.TemporaryDirectory(prefix="blurd-scale-out-") as scratch:
        work = Path(scratch)
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        try:
            for k in range(args.repeats):  # interleaved, so a change in the machine's load hits every kind alike
                runs["local"].append(in_fresh_process(args, "local", work / f"local{k}"))
                runs["ray-1"].append(ray_rate(render, output, args.samples, work / f"ray1-{k}", 1))
                runs["ray-2"].append(ray_rate(render, output, args.samples, work / f"ray2-{k}", 2))
                loads.append(os.getloadavg()[0])
        finally:
            ray.shutdown()
        big = in_fresh_process(args, "big", work / "big")
    rate = {kind: statistics.median(r.per_second for r in rates) for kind, rates in runs.items()}
    cpu = {kind: statistics.median(r.cpu_per_sample for r in rates) for kind, rates in runs.items()}
    speedup, overhead, cpu_overhead = rate["ray-2"] / rate["ray-1"], rate["local"] / rate["ray-1"], \
        cpu["ray-1"] / cpu["local"]
    print(f"scale-out: built-in human, {args.size}x{args.size}, {args.cycles_samples} Cycles samples, 1 thread per "
          f"worker, {args.samples} samples per run, median of {args.repeats} interleaved runs; {os.cpu_count()} CPUs, "
          f"1-min load average {', '.join(f'{x:.1f}' for x in loads)} (before, after each round)")
    for kind in runs:
        print(f"  {kind:<6} {rate[kind]:.3f} samples/s ({1 / rate[kind]:.2f} s per sample; runs "
              f"{', '.join(f'{r.per_second:.3f}' for r in runs[kind])}), {cpu[kind]:.2f} CPU-s per sample")
    met = max(overhead, cpu_overhead) <= OVERHEAD_TARGET
    print(f"  Ray-path overhead at 1 worker: wall local/ray-1 = {overhead:.3f}, CPU ray-1/local = {cpu_overhead:.3f} "
          f"(target <= {OVERHEAD_TARGET:.2f}: {'met' if met else 'NOT met'})")
    print(f"  speed-up at 2 workers: {speedup:.2f}x (target >= {SPEEDUP_TARGET:.1f}x: "
          f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'}; needs two idle cores)")
    project(big, max(cpu_overhead, 1.0), args)
    return 0


def project(render_core_s: float, overhead: float, args: argparse.Namespace) -> None:
    """GPU-hours and wall-clock time of the BLURD SD set from per-image times (assumptions printed beside): the GPUs
    bound the run when enough render cores feed them; the Ray path's measured overhead is added to both stages."""
    renders = BLURD_SD_IMAGES / args.modes_per_render
    print(f"projection for {BLURD_SD_IMAGES:,} SD images = {renders:,.0f} renders x {args.modes_per_render} modes:")
    print(f"  rendering: {render_core_s:.1f} core-s per render measured here at {args.projection_size} px, "
          f"{args.projection_cycles_samples} Cycles samples, denoised, 1 thread -> "
          f"{renders * render_core_s * overhead / 3600:,.0f} CPU core-hours with the Ray overhead {overhead:.2f}")
    if args.sd_seconds is None:
        print("  diffusion: pass --sd-seconds (seconds per image on the target GPU, from benchmarks/gpu_throughput.py "
              "run there) for GPU-hours")
        return
    gpu_hours = BLURD_SD_IMAGES * args.sd_seconds * overhead / 3600
    print(f"  diffusion: {args.sd_seconds:.2f} s per image per GPU (given, not measured here) -> {gpu_hours:,.0f} "
          "GPU-hours")
    for n in (int(x) for x in args.gpus.split(",")):
        feed = n * render_core_s / (args.sd_seconds * args.modes_per_render)
        print(f"    {n:>4} GPUs: {gpu_hours / n:,.1f} h wall, fed by {feed:,.0f} render cores (one render per "
              f"{args.modes_per_render} images; fewer cores make rendering the bound)")


if __name__ == "__main__":
    sys.exit(main())

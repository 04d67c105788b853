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
import os
import sys
import tempfile
import time
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


def local_rate(render: RenderSettings, output: OutputSettings, count: int, out: Path) -> float:
    """Samples per second of the local sweep engine, scene prebuilt (the timed loop is render + write only)."""
    config = sweep.SweepConfig(out=out, grid=grid(count), render=render, output=output, progress_bar=False)
    runner = sweep.Sweep(config, scene=builder.build_scene(render))
    runner.start()
    started = time.perf_counter()
    while not runner.done:
        runner.step()
    seconds = time.perf_counter() - started
    summary = runner.finish()
    assert summary.rendered == count, summary.text()
    return count / seconds


def one_render_seconds(size: int, cycles_samples: int, out: Path) -> float:
    """Seconds of one warm render + write at the projection's size (the per-image time the projection scales)."""
    render = RenderSettings(resolution=(size, size), samples=cycles_samples, denoise=True, threads=1)
    config = sweep.SweepConfig(out=out, grid=grid(1), render=render, output=OutputSettings(contact_sheet=False),
                               progress_bar=False)
    runner = sweep.Sweep(config, scene=builder.build_scene(render))
    runner.start()
    started = time.perf_counter()
    runner.step()
    seconds = time.perf_counter() - started
    runner.finish()
    return seconds


def ray_rate(render: RenderSettings, output: OutputSettings, count: int, out: Path, workers: int) -> float:
    """Samples per second of the Ray pipeline's render stage with ``workers`` render workers."""
    config = RunConfig(out=out, grid=grid(count), render=render, output=output, progress_bar=False)
    pools = {Stage.RENDER: Pool(Stage.RENDER, workers, 1.0, 0.0)}
    summary = Pipeline(config, pools).run()
    stats = summary.stages[Stage.RENDER]
    assert stats.done == count, summary.text()
    return stats.per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--cycles-samples", type=int, default=16)
    parser.add_argument("--sd-seconds", type=float, default=None,
                        help="diffusion seconds per image on the target GPU (benchmarks/gpu_throughput.py there)")
    parser.add_argument("--modes-per-render", type=int, default=3, help="SD images made from each render")
    parser.add_argument("--gpus", default="1,8,64", help="GPU counts to project for")
    parser.add_argument("--projection-size", type=int, default=512, help="render size the projection assumes")
    parser.add_argument("--projection-cycles-samples", type=int, default=32)
    args = parser.parse_args()
    render = RenderSettings(resolution=(args.size, args.size), samples=args.cycles_samples, denoise=False, threads=1)
    output = OutputSettings(contact_sheet=False)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="blurd-scale-out-") as scratch:
        work = Path(scratch)
        local = local_rate(render, output, args.samples, work / "local")
        big = one_render_seconds(args.projection_size, args.projection_cycles_samples, work / "big")
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        try:
            one = ray_rate(render, output, args.samples, work / "ray1", 1)
            two = ray_rate(render, output, args.samples, work / "ray2", 2)
        finally:
            ray.shutdown()
    load_after = os.getloadavg()
    speedup, overhead = two / one, local / one
    print(f"scale-out: built-in human, {args.size}x{args.size}, {args.cycles_samples} Cycles samples, 1 thread per "
          f"worker, {args.samples} samples per run; {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    print(f"  local sweep  {local:.3f} samples/s ({1 / local:.2f} s per sample)")
    print(f"  ray, 1 worker {one:.3f} samples/s; overhead local/ray-1 = {overhead:.3f} "
          f"(target <= {OVERHEAD_TARGET:.2f}: {'met' if overhead <= OVERHEAD_TARGET else 'NOT met'})")
    print(f"  ray, 2 workers {two:.3f} samples/s; speed-up {speedup:.2f}x "
          f"(target >= {SPEEDUP_TARGET:.1f}x: {'met' if speedup >= SPEEDUP_TARGET else 'NOT met'})")
    project(big, speedup / 2, args)
    return 0


def project(render_core_s: float, efficiency: float, args: argparse.Namespace) -> None:
    """GPU-hours and wall-clock time of the BLURD SD set from per-image times (assumptions printed beside)."""
    renders = BLURD_SD_IMAGES / args.modes_per_render
    print(f"projection for {BLURD_SD_IMAGES:,} SD images = {renders:,.0f} renders x {args.modes_per_render} modes:")
    print(f"  rendering: {render_core_s:.1f} core-s per render measured here at {args.projection_size} px, "
          f"{args.projection_cycles_samples} Cycles samples, denoised, 1 thread -> "
          f"{renders * render_core_s / 3600:,.0f} CPU core-hours")
    if args.sd_seconds is None:
        print("  diffusion: pass --sd-seconds (seconds per image on the target GPU, from benchmarks/gpu_throughput.py "
              "run there) for GPU-hours")
        return
    gpu_hours = BLURD_SD_IMAGES * args.sd_seconds / 3600
    print(f"  diffusion: {args.sd_seconds:.2f} s per image per GPU (given) -> {gpu_hours:,.0f} GPU-hours")
    for n in (int(x) for x in args.gpus.split(",")):
        feed = n * render_core_s / (args.sd_seconds * args.modes_per_render)
        print(f"    {n:>4} GPUs: {gpu_hours / n / max(efficiency, 1e-9):,.1f} h wall at the measured scaling "
              f"efficiency {efficiency:.2f}; render cores needed to keep them busy: {feed:,.0f}")


if __name__ == "__main__":
    sys.exit(main())

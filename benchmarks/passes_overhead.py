"""Overhead of writing every pass: one render_sample (all passes, post-processing, files) vs a bare RGB render.

Both render the built-in human with the same settings in this one process; the bare render has the depth,
normal and Cryptomatte passes and the compositor switched off and writes only its PNG. Prints the medians and
their ratio (target <= 1.10), in wall-clock seconds and in CPU seconds of this process (all threads): on a
machine shared with other jobs the CPU figure is the steadier one.

    python benchmarks/passes_overhead.py [--resolution 256] [--samples 32] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import bpy

    from blurd.presets.settings import RenderSettings
    from blurd.scene import builder, passes, render, render_settings

    settings = RenderSettings(
        resolution=(args.resolution, args.resolution), samples=args.samples, threads=args.threads)
    scene = builder.build_scene(settings)
    scratch = tempfile.TemporaryDirectory(prefix="blurd-overhead-")  # removed when the script ends
    work = Path(scratch.name)

    def timed(run) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - wall, time.process_time() - cpu

    def bare() -> None:
        render_settings.apply_render_settings(scene, settings, seed=1)
        passes.enable_view_layer_passes(scene, bare=True)
        scene.compositing_node_group = None
        scene.render.use_compositing = False
        scene.render.image_settings.file_format = "PNG"
        scene.render.filepath = str(work / "bare.png")
        with render.silenced_stdout():
            bpy.ops.render.render(write_still=True)

    def full() -> None:
        render.render_sample(scene, work / "full", sample_id="overhead", seed=1, factors={}, settings=settings,
                             quiet=True)

    timed(bare), timed(full)  # warm-up: kernels, images, caches
    bare_runs, full_runs = [], []
    for _ in range(args.repeats):  # interleaved, so load changes on a shared machine hit both alike
        bare_runs.append(timed(bare))
        full_runs.append(timed(full))
    print(f"passes_overhead: {args.resolution}x{args.resolution}, {args.samples} samples, {args.threads} threads, "
          f"median of {args.repeats} (Blender {bpy.app.version_string})")
    for k, unit in enumerate(("wall", "CPU")):
        bare_s = statistics.median(run[k] for run in bare_runs)
        full_s = statistics.median(run[k] for run in full_runs)
        ratio = full_s / bare_s
        print(f"  {unit:>4}: bare RGB {bare_s:.3f} s, all passes {full_s:.3f} s, ratio {ratio:.3f} "
              f"(target <= {TARGET:.2f}: {'met' if ratio <= TARGET else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

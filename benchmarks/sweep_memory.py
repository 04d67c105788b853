"""Resident memory over one long warm sweep: does a Blender process that renders sample after sample grow?

Runs the real sweep engine in this process on a grid drawn from every factor (64x64, 4 Cycles samples) and prints
the RSS every 100 samples and the least-squares growth per 100 samples after warm-up (target, issue 13: under
0.5 MB per 100 samples over 1,000 samples; BlenderProc's long loops famously grew). ``--keep-freed-memory`` skips
the sweep's per-sample ``malloc_trim``, to see the growth it removes.

    nice python benchmarks/sweep_memory.py [--samples 1000] [--human lowpoly] [--keep-freed-memory]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 50  # Cycles and the allocator settle during the first tens of samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--human", choices=("makehuman", "lowpoly"), default=None,
                        help="which built-in human (default: the preset default)")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="do not trim the heap after each sample (the behaviour before issue 13)")
    args = parser.parse_args()
    from blurd import factors
    from blurd.factors.grid import Grid
    from blurd.presets import settings
    from blurd.scene import sweep

    grid = Grid(
        sweep={f.name: list(f.values) for f in factors.FACTORS}, samples=args.samples, seed=3)
    if args.keep_freed_memory:
        sweep.release_freed_memory = sweep.pin_mmap_threshold = lambda: None
    human = {"human": args.human} if args.human else {}
    render = settings.RenderSettings(resolution=(64, 64), samples=4, denoise=False, threads=2, **human)
    process = psutil.Process()
    rss: list[float] = []
    with tempfile.TemporaryDirectory(prefix="blurd-memory-") as out:
        config = sweep.SweepConfig(out=Path(out), grid=grid, render=render,
                                   output=settings.OutputSettings(contact_sheet=False), progress_bar=False,
                                   quiet_render=True)
        runner = sweep.Sweep(config)
        runner.start()
        while runner.step() is not None:
            rss.append(process.memory_info().rss / 2**20)
        runner.finish()
    settled = np.array(rss[WARMUP:])
    slope = np.polyfit(np.arange(len(settled)), settled, 1)[0] if len(settled) > 1 else 0.0
    print(f"sweep_memory: {len(rss)} samples of every factor, 64x64, 4 Cycles samples, human "
          f"{args.human or 'default'}, heap {'kept' if args.keep_freed_memory else 'trimmed'} after each sample")
    print("  RSS (MB) every 100 samples: " + ", ".join(f"{rss[i]:.0f}" for i in range(99, len(rss), 100)))
    print(f"  after warm-up ({WARMUP} samples): least-squares growth {slope * 100:+.1f} MB per 100 samples, "
          f"range {settled.min():.0f}..{settled.max():.0f} MB" if len(settled) else "  too few samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

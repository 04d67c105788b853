"""Per-sample time of one warm sweep vs a fresh process per sample (built-in human, 128x128, 16 samples).

Both go through the real command line: the warm sweep is one ``python batch.py`` over the 16 samples; the cold
way runs ``python batch.py --limit k`` for k = 1..16 into another folder, so each process starts Python, imports
bpy, builds the scene and renders exactly one new sample. Prints the per-sample times and their ratio
(target >= 3x), in wall-clock seconds and in CPU seconds of the child processes (steadier on a shared machine).

    python benchmarks/sweep.py [--samples 16] [--cycles-samples 16] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blurd.dataset import layout

ROOT = Path(__file__).resolve().parents[1]
TARGET = 3.0
COLOURS = ["red", "blue", "black", "green", "yellow", "orange", "cyan", "violet"]
ANGLES = [-30, -15, 0, 15, 30]

PRESET = """\
format = 1
name = "sweep-benchmark"
[grid]
samples = {count}
seed = 1
[grid.sweep]
hair_color = {colours}
camera_angle = {angles}
[render]
resolution = [128, 128]
samples = {cycles_samples}
denoise = true
threads = {threads}
[output]
contact_sheet = false
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def batch(preset: Path, out: Path, *extra: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``python batch.py`` process."""
    wall, cpu = time.perf_counter(), children_cpu()
    subprocess.run([sys.executable, str(ROOT / "batch.py"), "--preset", str(preset), "--out", str(out),
                    "--no-progress", *extra], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - wall, children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--cycles-samples", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="blurd-sweep-bench-")  # removed when the script ends
    work = Path(scratch.name)
    preset = work / "bench.toml"
    preset.write_text(PRESET.format(count=args.samples, colours=COLOURS, angles=ANGLES,
                                    cycles_samples=args.cycles_samples, threads=args.threads))

    warm = batch(preset, work / "warm")
    cold_runs = [batch(preset, work / "cold", "--limit", str(k)) for k in range(1, args.samples + 1)]
    print(f"sweep: built-in human, 128x128, {args.cycles_samples} Cycles samples, {args.threads} threads, "
          f"{args.samples} samples, each way through python batch.py")
    for k, unit in enumerate(("wall", "CPU")):
        warm_per = warm[k] / args.samples
        cold_per = sum(run[k] for run in cold_runs) / args.samples
        ratio = cold_per / warm_per
        print(f"  {unit:>4}: warm sweep {warm_per:.2f} s per sample, fresh process per sample {cold_per:.2f} s, "
              f"ratio {ratio:.2f}x (target >= {TARGET:.0f}x: {'met' if ratio >= TARGET else 'NOT met'})")
    # Inside the warm sweep, without its one-time start (Python, bpy import, scene build): the manifest's timings.
    rows = [json.loads(line) for line in (work / "warm" / layout.MANIFEST).read_text().splitlines()]
    steady = sum(row["render_s"] + row["post_s"] for row in rows) / len(rows)
    cold_wall = sum(run[0] for run in cold_runs) / args.samples
    print(f"  wall, steady state (manifest render_s + post_s, startup excluded): {steady:.2f} s per sample, "
          f"ratio {cold_wall / steady:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-sample render time of the realistic MakeHuman human vs the formula (low-poly) human, in one run.

Each human is built once; for each size (128 px / 16 samples and 512 px / 64 samples, denoised) every identity in
IDENTITIES is rendered through ``render_sample`` (all passes, as a sweep does) after one warm-up render, and the
median per-sample time is kept. Identities are applied before timing (the identity cache builds each body and its
hair once, as in a sweep; building is reported apart). Prints wall-clock and CPU seconds of this process and the
ratios new / formula, against the targets (<= 1.5x at 128 px, <= 3x at 512 px). CPU seconds are the steadier
figure on a machine shared with other jobs.

    python benchmarks/human_render_time.py [--threads 2] [--repeats 1] [--sizes 128:16 512:64]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {128: 1.5, 512: 3.0}
IDENTITIES = (  # hair styles of every kind: short, long, volume, none
    {"age": 30, "gender": "male", "race": "caucasian", "hair_style": "short_combed", "beard_style": "none"},
    {"age": 70, "gender": "male", "race": "african", "hair_style": "bald_top", "beard_style": "full_beard"},
    {"age": 30, "gender": "female", "race": "asian", "hair_style": "bob_long", "beard_style": "none"},
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="timed renders per identity")
    parser.add_argument("--sizes", nargs="+", default=["128:16", "512:64"], help="resolution:samples pairs")
    args = parser.parse_args()

    from blurd import factors
    from blurd.presets.settings import HumanModel, RenderSettings
    from blurd.scene import builder, render

    scratch = tempfile.TemporaryDirectory(prefix="blurd-human-time-")
    work = Path(scratch.name)
    results: dict[tuple[str, int], tuple[float, float]] = {}
    for size_spec in args.sizes:
        size, samples = (int(x) for x in size_spec.split(":"))
        for model in (HumanModel.LOWPOLY, HumanModel.MAKEHUMAN):
            settings = RenderSettings(resolution=(size, size), samples=samples, denoise=True, threads=args.threads,
                                      human=model)
            started = time.perf_counter()
            scene = builder.build_scene(settings)
            walls, cpus = [], []
            for n, ident in enumerate(IDENTITIES):
                values = factors.validate_assignment({**factors.default_assignment(), **ident}, complete=True)
                builder.apply_factors(scene, values)
                built = time.perf_counter() - started if n == 0 else None
                for repeat in range(args.repeats + (1 if n == 0 else 0)):  # one warm-up render first
                    wall, cpu = time.perf_counter(), time.process_time()
                    render.render_sample(scene, work / f"{model.value}-{size}-{n}-{repeat}", sample_id="t", seed=1,
                                         factors=values, settings=settings, quiet=True)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    if not (n == 0 and repeat == 0):
                        walls.append(wall)
                        cpus.append(cpu)
                if built is not None:
                    print(f"  {model.value:9s} {size:4d} px: scene built in {built:.1f} s", flush=True)
            results[(model.value, size)] = (statistics.median(walls), statistics.median(cpus))
            print(f"{model.value:9s} {size:4d} px {samples:3d} spp: {results[(model.value, size)][0]:7.2f} s wall, "
                  f"{results[(model.value, size)][1]:7.2f} s CPU per sample", flush=True)
    ok = True
    for size_spec in args.sizes:
        size = int(size_spec.split(":")[0])
        new, old = results[("makehuman", size)], results[("lowpoly", size)]
        wall_ratio, cpu_ratio = new[0] / old[0], new[1] / old[1]
        target = TARGETS.get(size)
        verdict = "" if target is None else (" ok" if wall_ratio <= target else " OVER") + f" (target <= {target}x)"
        ok &= target is None or wall_ratio <= target
        print(f"{size:4d} px: new / formula = {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x CPU{verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

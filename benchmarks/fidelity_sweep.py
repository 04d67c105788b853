"""Control fidelity over many conditions, through the path users take: for every colour factor and every combination
of camera angle, world and focal length, a preset that sweeps the factor over two values is rendered by the sweep
engine (default seed policy, as ``batch.py`` would), all into one dataset folder; then the fidelity report
(``python -m blurd.benchmark fidelity``) measures every one-factor pair in it.

Prints, per factor, the pairs, the pixel share (changed pixels > 2/255 inside the 2-px-dilated part mask) mean and
minimum, the energy share, and how many pairs meet the 99 % bar; writes fidelity.json/.csv/.png into OUT/fidelity.
The tests check one pair per factor at conditions spread across factors; this is the exhaustive version.

    python benchmarks/fidelity_sweep.py --out /tmp/fidelity [--resolution 256] [--samples 16] [--denoise]
        [--cameras -30 -15 0 15 30] [--worlds studio daylight sunset indoor] [--focals 35 50 85]
        [--factors hair_color ...] [--human makehuman|lowpoly]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path


def main() -> int:
    from blurd.benchmark.dataset import load_dataset
    from blurd.benchmark.fidelity import COLOUR_PAIRS, ISOLATION_BAR, fidelity_report, pair_preset, write_report
    from blurd.presets.reader import preset_from_mapping
    from blurd.scene import sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="dataset folder (resumable: rendered pairs are kept)")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--denoise", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--cameras", type=float, nargs="+", default=[-30, -15, 0, 15, 30])
    parser.add_argument("--worlds", nargs="+", default=["studio", "daylight", "sunset", "indoor"])
    parser.add_argument("--focals", type=float, nargs="+", default=[35, 50, 85])
    parser.add_argument("--factors", nargs="+", default=list(COLOUR_PAIRS), choices=list(COLOUR_PAIRS))
    parser.add_argument("--human", default=None, help="built-in human (render setting 'human'), if not the default")
    args = parser.parse_args()

    render = {"resolution": [args.resolution, args.resolution], "samples": args.samples, "denoise": args.denoise,
              "threads": args.threads}
    if args.human:
        render["human"] = args.human
    conditions = [{"camera_angle": c, "world_background": w, "focal_length": f}
                  for c, w, f in itertools.product(args.cameras, args.worlds, args.focals)]
    scene, started, renders = None, time.perf_counter(), 0
    for factor in args.factors:
        for condition in conditions:
            preset = preset_from_mapping(pair_preset(factor, condition, render), "fidelity_sweep")
            config = sweep.SweepConfig(out=args.out, grid=preset.grid, render=preset.render, output=preset.output,
                                       progress_bar=False)
            runner = sweep.Sweep(config, scene=scene)
            summary = runner.run()
            scene, renders = runner.scene, renders + summary.rendered
            if summary.failed:
                print(f"{factor} {condition}: {summary.text()}", file=sys.stderr)
        print(f"{factor}: {len(conditions)} pairs ready ({renders} renders, {time.perf_counter() - started:.0f} s)",
              flush=True)

    report = fidelity_report(load_dataset(args.out), sources=["render"])
    paths = write_report(report, args.out / "fidelity")
    print(f"fidelity_sweep: {args.resolution} px, {args.samples} samples, denoise {args.denoise}, "
          f"{len(conditions)} conditions per factor")
    print(f"  {'factor':<16} {'pairs':>5} {'pixel mean':>10} {'pixel min':>9} {'energy mean':>11} {'energy min':>10}"
          f" {'meet bar':>8}")
    for s in report.summaries:
        if s.factor in args.factors:
            print(f"  {s.factor:<16} {s.pairs:>5} {s.pixel_share_mean:>10.4f} {s.pixel_share_min:>9.4f} "
                  f"{s.energy_share_mean:>11.4f} {s.energy_share_min:>10.4f} {s.pairs_meeting_bar:>4}/{s.pairs:<3}")
    worst = min((s.pixel_share_min for s in report.summaries), default=1.0)
    print(f"  worst pixel share {worst:.4f} (bar {ISOLATION_BAR}: {'met' if worst >= ISOLATION_BAR else 'NOT met'})"
          f"; report: {paths['json']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

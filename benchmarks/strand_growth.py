"""Strand growth time per identity: every hair style, the beard, brows and lashes grown on one body, at the strand
density of each output size (growth.density_for), in one run. Target: a few seconds for a whole identity at 512 px,
far less at test sizes. Pure numpy: no Blender needed.

    python benchmarks/strand_growth.py [--sizes 64 128 256 512] [--identity 30 male caucasian] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time


def main() -> int:
    from blurd.scene.makehuman.body import build_body
    from blurd.scene.strands import growth
    from blurd.scene.strands.styles import BeardStyle, HairStyle, StrandPart

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--identity", nargs=3, default=["30", "male", "caucasian"])
    parser.add_argument("--repeat", type=int, default=3, help="best of N (the machine is shared)")
    args = parser.parse_args()
    body = build_body(float(args.identity[0]), args.identity[1], args.identity[2])
    kinds = [s for s in HairStyle if s is not HairStyle.NONE] + [BeardStyle.FULL_BEARD, StrandPart.EYEBROWS,
                                                                   StrandPart.EYELASHES]
    start = time.perf_counter()
    head = growth.prepare(body)
    print(f"head (frame, skin, envelopes): {time.perf_counter() - start:.3f} s")
    print(f"{'size':>5} {'density':>8} " + " ".join(f"{k.value:>13}" for k in kinds) + f" {'identity*':>10}")
    for size in args.sizes:
        density = growth.density_for(size)
        times, counts = [], []
        for kind in kinds:
            best = float("inf")
            for _ in range(args.repeat):
                t = time.perf_counter()
                strands = growth.grow(kind, body, density, 0, head=head)
                best = min(best, time.perf_counter() - t)
            times.append(best)
            counts.append(strands.count)
        # an identity grows one hair style, the beard, brows and lashes: its worst case is the slowest style
        identity = max(times[: len(kinds) - 3]) + sum(times[-3:])
        print(f"{size:>5} {density:>8.3f} " + " ".join(f"{t:>6.2f}s/{c // 1000:>4}k" for t, c in zip(times, counts))
              + f" {identity:>9.2f}s")
    print("* worst hair style + beard + eyebrows + eyelashes, seconds per identity")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

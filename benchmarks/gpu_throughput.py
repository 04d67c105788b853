"""Images per second per mode on an SD 1.5-sized random-weight pipeline vs a naive baseline.

    python benchmarks/gpu_throughput.py                 # SD 1.5 sizes, 512x512, 20 steps, cuda if available
    python benchmarks/gpu_throughput.py --small         # tiny models, 64x64, 4 steps: a CPU smoke run

Both ControlNets and the colour conditioner (T2I adapter; --colour controlnet for the colour ControlNet) have real
SD 1.5 architecture sizes and random weights, saved as diffusers folders and loaded by the worker's own code.
Optimised: the worker's generate action in this process: pipeline loaded once, float16 on cuda, --batch images per
call. Naive: float32, batch 1, no optimisations, the whole pipeline loaded again for every image.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import torch  # noqa: E402

from blurd.diffusion.modes import MODES  # noqa: E402
from blurd.diffusion.random_models import SD15, TINY, build_random_models, make_sample  # noqa: E402
from blurd.diffusion.settings import DiffusionSettings  # noqa: E402
from blurd.diffusion.worker import generate  # noqa: E402
from blurd.diffusion.worker.server import WorkerContext  # noqa: E402


def images_per_second(settings: DiffusionSettings, samples: list[Path], mode: str, fresh_each_image: bool) -> float:
    """Throughput of the worker's generate action (a new context per image = pipeline rebuilt per image)."""
    ctx = WorkerContext(io.StringIO())
    message = {"id": "bench", "settings": settings.to_mapping(), "overwrite": True}
    generate.run(ctx, message | {"jobs": [{"sample_dir": str(samples[0]), "mode": mode}]})  # warm-up + load
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    if fresh_each_image:
        for folder in samples:
            ctx = WorkerContext(io.StringIO())
            generate.run(ctx, message | {"jobs": [{"sample_dir": str(folder), "mode": mode}]})
    else:
        generate.run(ctx, message | {"jobs": [{"sample_dir": str(f), "mode": mode} for f in samples]})
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return len(samples) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny models, 64x64, 4 steps (CPU smoke run)")
    parser.add_argument("--images", type=int, default=8, help="images per mode and variant")
    parser.add_argument("--batch", type=int, default=4, help="images per pipeline call (optimised)")
    parser.add_argument("--colour", default="t2i_adapter", choices=["t2i_adapter", "controlnet"])
    parser.add_argument("--naive-images", type=int, default=2, help="images for the (slow) naive baseline")
    args = parser.parse_args()
    sizes, size, steps = (TINY, 64, 4) if args.small else (SD15, 512, 20)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"building {'tiny' if args.small else 'SD 1.5-sized'} random models...", flush=True)
        models = build_random_models(tmp / "models", sizes)
        samples = [make_sample(tmp / f"s{i}", seed=i) for i in range(max(args.images, args.naive_images))]
        common = models.settings_mapping(args.colour) | {"steps": steps, "resolution": [size, size],
                                                          "strength": 0.5 if args.small else 0.2, "device": device}
        fast = DiffusionSettings.from_mapping(common | {"dtype": "auto", "batch_size": args.batch}, "benchmark")
        naive = DiffusionSettings.from_mapping(common | {"dtype": "float32", "batch_size": 1}, "benchmark")
        name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
        print(f"device {name}; {size}x{size}, {steps} steps, colour {args.colour}; optimised: dtype auto, "
              f"batch {args.batch}, loaded once; naive: float32, batch 1, reloaded per image")
        for mode in MODES:
            optimised = images_per_second(fast, samples[: args.images], mode.name, fresh_each_image=False)
            baseline = images_per_second(naive, samples[: args.naive_images], mode.name, fresh_each_image=True)
            print(f"{mode.name:10s} optimised {optimised:8.3f} img/s   naive {baseline:8.3f} img/s   "
                  f"speed-up {optimised / baseline:6.2f}x", flush=True)


if __name__ == "__main__":
    main()

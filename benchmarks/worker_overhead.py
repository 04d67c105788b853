"""Per-image time through the worker vs a direct diffusers call on the same tiny model, and model loads for N images.

    python benchmarks/worker_overhead.py [--images 20] [--mode tempered] [--size 64] [--steps 4]

Direct: the stock pipeline loaded in this process; per image: read the inputs, call it, save the PNG.
Worker: the same models and settings through WorkerClient (JSON lines, a subprocess, sample folders read,
sd_<mode>.png + .json written), measured one request per image (the sidebar's path) and as one request of N jobs
(the batch path).
Targets: worker / direct <= 1.05 per image; 1 pipeline load for N images.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch  # noqa: E402
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionPipeline  # noqa: E402

from blurd.diffusion.modes import Condition, get_mode  # noqa: E402
from blurd.diffusion.process import WorkerClient  # noqa: E402
from blurd.diffusion.random_models import build_random_models, make_sample  # noqa: E402
from blurd.diffusion.settings import DiffusionSettings  # noqa: E402
from blurd.diffusion.worker.conditioning import batch_tensor, load_sample  # noqa: E402


class DirectPipeline:
    """The stock diffusers pipeline loaded in this process; ``image(folder)`` times one image the direct way."""

    def __init__(self, models, settings, mode_name) -> None:
        kw = {"torch_dtype": torch.float32, "use_safetensors": True, "local_files_only": True}
        base = StableDiffusionPipeline.from_pretrained(models.base, safety_checker=None,
                                                       requires_safety_checker=False, **kw)
        self.mode, self.settings = get_mode(mode_name), settings
        if self.mode.uses_controlnets:
            nets = [ControlNetModel.from_pretrained(path, **kw) for path in (models.depth, models.normal)]
            self.pipe = StableDiffusionControlNetPipeline(**base.components, controlnet=nets)
        else:
            self.pipe = base
        self.pipe.set_progress_bar_config(disable=True)

    def image(self, folder: Path) -> float:
        """Seconds for one image: read the sample's inputs, call the pipeline, save the PNG."""
        settings, mode = self.settings, self.mode
        started = time.perf_counter()
        inputs = load_sample(folder, mode, settings)
        extra = {}
        if mode.uses_controlnets:
            extra = {"image": [batch_tensor([inputs.images[Condition.DEPTH]]),
                               batch_tensor([inputs.images[Condition.NORMAL]])],
                     "controlnet_conditioning_scale": [settings.depth_scale, settings.normal_scale]}
        width, height = settings.resolution
        image = self.pipe(prompt=[inputs.prompt], negative_prompt=[inputs.negative_prompt], height=height,
                          width=width, num_inference_steps=settings.steps, guidance_scale=settings.guidance,
                          generator=[torch.Generator("cpu").manual_seed(inputs.seed)], **extra).images[0]
        image.save(folder / "direct.png")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--mode", default="tempered")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the worker below gets the same single thread (via OMP_NUM_THREADS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models = build_random_models(tmp / "models")
        samples = [make_sample(tmp / f"s{i}", seed=i) for i in range(args.images)]
        settings = DiffusionSettings.from_mapping(
            models.settings_mapping() | {"steps": args.steps, "resolution": [args.size, args.size]}, "benchmark"
        )
        direct_pipe = DirectPipeline(models, settings, args.mode)
        direct_pipe.image(samples[0])  # warm-up (first-call allocations)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        direct, per_request = [], []
        with WorkerClient(env=env) as client:
            client.run([(samples[0], args.mode)], settings, overwrite=True)  # start + load (not timed)
            for folder in samples:  # alternate, so load from other processes hits both sides alike
                direct.append(direct_pipe.image(folder))
                started = time.perf_counter()
                client.run([(folder, args.mode)], settings, overwrite=True)
                per_request.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.run([(folder, args.mode) for folder in samples], settings, overwrite=True)
            one_request = (time.perf_counter() - started) / len(samples)
            direct_after = sum(direct_pipe.image(folder) for folder in samples) / len(samples)
            info = client.info()
    direct_s = statistics.median(direct)
    request_s = statistics.median(per_request)
    print(f"tiny pipeline, mode {args.mode}, {args.size}x{args.size}, {args.steps} steps, {args.images} images, "
          "1 CPU thread each")
    print(f"direct diffusers call      : {direct_s * 1000:8.1f} ms/image (median)")
    print(f"worker, 1 request per image: {request_s * 1000:8.1f} ms/image (median) ratio {request_s / direct_s:.3f}")
    ratio = one_request / direct_after
    print(f"direct, N images in a row  : {direct_after * 1000:8.1f} ms/image (mean)")
    print(f"worker, 1 request, N jobs  : {one_request * 1000:8.1f} ms/image (mean)   ratio {ratio:.3f}")
    print(f"pipeline loads for {2 * args.images + 1} images: {info['pipeline_loads']} "
          f"(model files loaded: {info['model_loads']})")


if __name__ == "__main__":
    main()

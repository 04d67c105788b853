"""Action ``generate``: run jobs (sample folder + mode) and write ``sd_<mode>.png`` + ``sd_<mode>.json`` beside each.

Jobs of one mode run in batches of ``settings.batch_size`` with one generator per image, so an image does not
depend on which batch it ran in. The PNG is written last: its presence marks a finished job (resumable batches).
"""

from __future__ import annotations

import gc
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import diffusers
import torch

from ...dataset import layout
from ...dataset.files import write_atomic, write_json
from ...dataset.record import is_mode_done
from ..errors import DiffusionError
from ..modes import Condition, Mode, get_mode
from ..protocol import Job, ReplyType
from ..settings import ColourConditioner, DiffusionSettings
from .colour_adapter import AdapterResiduals
from .conditioning import SampleInputs, batch_tensor, check_sample, load_sample
from .models import LoadedPipelines, load_pipelines, required_models
from .noise import InitialNoise

CANCEL_POINT_BLOCKS = ("ResnetBlock2D", "Transformer2DModel")  # the units every UNet, ControlNet and VAE is made of


def run(ctx, message: dict) -> dict:
    """Check everything, load what is missing, run every job; reply with one output record per job."""
    request_id = message["id"]
    started = time.perf_counter()
    jobs, settings, allow_downloads, overwrite = _parse(message)
    modes = list(dict.fromkeys(get_mode(job.mode) for job in jobs))
    for job in jobs:  # before any model loads: a missing pass fails at once
        check_sample(job.sample_dir, get_mode(job.mode))
    if any(m.uses_init_image for m in modes) and int(settings.steps * settings.strength) < 1:
        raise DiffusionError(
            f"img2img runs int(steps x strength) = int({settings.steps} x {settings.strength}) = 0 denoising steps; "
            "raise steps or strength"
        )
    refs = required_models(settings, modes, allow_downloads)
    ctx.raise_if_cancelled(request_id)
    pipelines = _pipelines(ctx, settings, refs, allow_downloads, request_id)
    loads_before = pipelines.loads
    pipelines.use_scheduler(settings.scheduler)
    outputs: list[dict] = []
    todo = [job for job in jobs if overwrite or not _done(job)]
    skipped = [_output_record(job, skipped=True) for job in jobs if job not in todo]
    batches = _batches(todo, settings.batch_size)
    for number, batch in enumerate(batches):
        ctx.raise_if_cancelled(request_id)
        mode = get_mode(batch[0].mode)
        pipe = pipelines.pipeline_for(mode, refs, lambda text: ctx.status(request_id, text))
        inputs = [load_sample(job.sample_dir, mode, settings) for job in batch]
        outputs += _run_batch(ctx, request_id, pipelines, pipe, mode, settings, inputs, number, len(batches))
    ctx.total_loads += pipelines.loads - loads_before
    return {
        "type": ReplyType.RESULT.value,
        "outputs": outputs + skipped,
        "seconds": round(time.perf_counter() - started, 4),
        "model_loads": ctx.total_loads,
    }


def _parse(message: dict) -> tuple[list[Job], DiffusionSettings, bool, bool]:
    jobs_raw = message.get("jobs")
    if not isinstance(jobs_raw, list) or not jobs_raw:
        raise DiffusionError("a generate request needs a non-empty 'jobs' list of {sample_dir, mode}")
    jobs = [Job.from_json(j) for j in jobs_raw]
    settings = DiffusionSettings.from_mapping(message.get("settings") or {}, "generate request")
    return jobs, settings, bool(message.get("allow_downloads", False)), bool(message.get("overwrite", False))


def _pipelines(ctx, settings, refs, allow_downloads, request_id) -> LoadedPipelines:
    """The loaded pipelines for these settings: kept from the last request unless the models changed."""
    loaded = ctx.pipelines
    if loaded is not None and loaded.settings.model_key() == settings.model_key():
        loaded.settings = settings  # run-time values (steps, scales...) are read per call
        loaded.allow_downloads = allow_downloads
        return loaded
    if loaded is not None:  # different weights: free the old ones first
        ctx.pipelines = None
        del loaded
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    ctx.pipelines = load_pipelines(settings, refs, allow_downloads, lambda text: ctx.status(request_id, text))
    ctx.total_loads += ctx.pipelines.loads
    ctx.pipeline_loads += 1
    return ctx.pipelines


def _done(job: Job) -> bool:
    return is_mode_done(job.sample_dir, job.mode)


def _batches(jobs: list[Job], size: int) -> list[list[Job]]:
    by_mode: dict[str, list[Job]] = {}
    for job in jobs:
        by_mode.setdefault(job.mode, []).append(job)
    return [group[i : i + size] for group in by_mode.values() for i in range(0, len(group), size)]


def _run_batch(ctx, request_id, pipelines, pipe, mode: Mode, settings, inputs: list[SampleInputs], number, count):
    width, height = settings.resolution

    def on_step_end(pipeline, step, timestep, callback_kwargs):
        ctx.steps_done = step + 1
        ctx.raise_if_cancelled(request_id)
        ctx.send(
            {
                "type": ReplyType.PROGRESS.value,
                "id": request_id,
                "step": step + 1,
                "steps": pipeline.num_timesteps,
                "batch": number + 1,
                "batches": count,
                "mode": mode.name,
                "images": len(inputs),
            }
        )
        return callback_kwargs

    kwargs = {
        "prompt": [i.prompt for i in inputs],
        "negative_prompt": [i.negative_prompt for i in inputs],
        "height": height,
        "width": width,
        "num_inference_steps": settings.steps,
        "guidance_scale": settings.guidance,
        "callback_on_step_end": on_step_end,
        "output_type": "pil",
    }
    adapter = None
    if mode.uses_controlnets:
        controls = [batch_tensor([i.images[Condition.DEPTH] for i in inputs]),
                    batch_tensor([i.images[Condition.NORMAL] for i in inputs])]
        scales = [settings.depth_scale, settings.normal_scale]
        if mode.uses_palette and settings.colour_conditioner is ColourConditioner.CONTROLNET:
            controls.append(batch_tensor([i.images[Condition.PALETTE] for i in inputs]))
            scales.append(settings.colour_scale)
        kwargs["controlnet_conditioning_scale"] = scales
        if mode.uses_init_image:
            kwargs.update(image=[i.images[Condition.INIT_IMAGE] for i in inputs], control_image=controls,
                          strength=settings.strength)
        else:
            kwargs["image"] = controls
    if mode.uses_palette and settings.colour_conditioner is ColourConditioner.T2I_ADAPTER:
        palette = batch_tensor([i.images[Condition.PALETTE] for i in inputs])
        adapter = AdapterResiduals(pipe.unet, pipelines.colour_adapter, palette, settings.colour_scale)
    noise = InitialNoise(pipe, [i.seed for i in inputs], width, height, img2img=mode.uses_init_image)
    kwargs.update(noise.pipeline_kwargs())
    started = time.perf_counter()
    ctx.status(request_id, f"running batch {number + 1}/{count}: {mode.name}, {len(inputs)} image(s) at "
                           f"{width}x{height}, {settings.steps} steps")
    with cancel_points(pipe, lambda: ctx.raise_if_cancelled(request_id)), adapter or nullcontext(), noise.observing():
        images = pipe(**kwargs).images
    seconds = (time.perf_counter() - started) / len(inputs)
    prints = noise.fingerprints()
    return [_write(inputs[k], images[k], mode, settings, pipelines, seconds, len(inputs), prints[k])
            for k in range(len(inputs))]


@contextmanager
def cancel_points(pipe, check: Callable[[], None]) -> Iterator[None]:
    """Run ``check`` before every block of the UNet, ControlNets and VAE decoder, so a cancel stops a request
    within a fraction of one denoising step, however large the image (a 4096x4096 step on a CPU takes minutes)."""
    blocks = [child for name in ("unet", "controlnet", "vae") if getattr(pipe, name, None) is not None
              for child in getattr(pipe, name).modules() if type(child).__name__ in CANCEL_POINT_BLOCKS]
    handles = [block.register_forward_pre_hook(lambda module, args: check()) for block in blocks]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _write(inputs: SampleInputs, image, mode: Mode, settings, pipelines: LoadedPipelines, seconds, batch_size,
           noise_fingerprint: str | None = None) -> dict:
    folder = inputs.sample_dir
    png = folder / layout.diffusion_filename(mode.name, "png")
    meta_path = folder / layout.diffusion_filename(mode.name, "json")
    models = {"base_model": settings.base_model}
    if mode.uses_controlnets:
        models.update(depth_controlnet=settings.depth_controlnet, normal_controlnet=settings.normal_controlnet)
    if mode.uses_palette:
        models.update(colour_model=settings.colour_model, colour_conditioner=settings.colour_conditioner.value)
    meta = {
        "mode": mode.name,
        "conditions": sorted(c.value for c in mode.conditions),
        "sample_id": inputs.sample_id,
        "image": png.name,
        "prompt": inputs.prompt,
        "negative_prompt": inputs.negative_prompt,
        "seed": inputs.seed,
        "seed_source": "settings" if settings.seed is not None else "sample",
        "noise_sha256": noise_fingerprint,  # the initial latent noise (diffusion.worker.noise): pairs share it
        "inputs": inputs.files,
        "models": models,
        "settings": settings.to_mapping(),
        "device": str(pipelines.device),
        "dtype": str(pipelines.dtype).removeprefix("torch."),
        "batch_size": batch_size,
        "timing": {"generate_s": round(seconds, 4), "model_load_s": round(pipelines.load_seconds, 4)},
        "versions": {
            "torch": torch.__version__, "diffusers": diffusers.__version__, "python": platform.python_version()
        },
    }
    write_json(meta_path, meta)
    write_atomic(png, lambda tmp: image.save(tmp, format="PNG"))  # last: a present PNG means the job is done
    return {"sample_dir": str(folder), "mode": mode.name, "image": str(png), "json": str(meta_path),
            "seed": inputs.seed, "seconds": round(seconds, 4)}


def _output_record(job: Job, skipped: bool) -> dict:
    return {
        "sample_dir": str(job.sample_dir),
        "mode": job.mode,
        "image": str(job.sample_dir / layout.diffusion_filename(job.mode, "png")),
        "json": str(job.sample_dir / layout.diffusion_filename(job.mode, "json")),
        "skipped": skipped,
    }

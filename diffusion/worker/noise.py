"""The initial latent noise of each image, from its seed, and its fingerprint in ``sd_<mode>.json``.

Control needs two samples that differ in one factor to start from the same noise (the preset's seed policy gives
them one seed). Text-to-image modes get the noise drawn here and passed in as ``latents`` (exactly what the
pipeline would draw from the same generators); img2img draws its noise inside the pipeline after encoding the
render, so it is observed where the scheduler adds it. Either way ``sd_<mode>.json`` records a fingerprint of the
noise the image really started from, so a dataset shows which images share their noise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from diffusers.utils.torch_utils import randn_tensor

FINGERPRINT_LENGTH = 16  # hex digits of the SHA-256 of the noise's float32 bytes


def generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU generator per image, seeded with the image's seed (an image never depends on its batch)."""
    return [torch.Generator("cpu").manual_seed(int(seed)) for seed in seeds]


def fingerprint(noise: torch.Tensor) -> str:
    """A short SHA-256 of one image's noise as float32 (the same noise gives the same text on every machine)."""
    data = noise.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
    return hashlib.sha256(data).hexdigest()[:FINGERPRINT_LENGTH]


class InitialNoise:
    """The noise of one batch: drawn here for text-to-image, observed for img2img; ``fingerprints`` after the call."""

    def __init__(self, pipe, seeds: Sequence[int], width: int, height: int, *, img2img: bool) -> None:
        self.pipe, self.seeds, self.img2img = pipe, list(seeds), img2img
        self.noise: torch.Tensor | None = None
        if not img2img:
            scale = pipe.vae_scale_factor
            shape = (len(self.seeds), pipe.unet.config.in_channels, height // scale, width // scale)
            self.noise = randn_tensor(shape, generator=generators(self.seeds), device=pipe._execution_device,
                                      dtype=pipe.unet.dtype)

    def pipeline_kwargs(self) -> dict:
        """``generator`` (and ``latents`` for text-to-image) for the pipeline call."""
        kwargs = {"generator": generators(self.seeds)}
        if self.noise is not None:
            kwargs["latents"] = self.noise
        return kwargs

    @contextmanager
    def observing(self) -> Iterator[None]:
        """For img2img: record the noise the pipeline's scheduler adds to the encoded render."""
        if not self.img2img:
            yield
            return
        scheduler = self.pipe.scheduler
        original = scheduler.add_noise

        def add_noise(original_samples, noise, timesteps):
            if self.noise is None:
                self.noise = noise.detach().clone()
            return original(original_samples, noise, timesteps)

        scheduler.add_noise = add_noise
        try:
            yield
        finally:
            del scheduler.add_noise  # the class's own method again

    def fingerprints(self) -> list[str | None]:
        """Per image, the fingerprint of its initial noise (None if the pipeline drew none we saw)."""
        if self.noise is None:
            return [None] * len(self.seeds)
        return [fingerprint(self.noise[k]) for k in range(len(self.seeds))]

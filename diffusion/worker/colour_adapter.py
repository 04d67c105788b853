"""A T2I colour adapter beside ControlNets in a stock img2img ControlNet pipeline.

No stock pipeline takes an adapter together with ControlNets and img2img, so instead of a new denoising loop the
adapter's features are computed once per batch and handed to every UNet call through the UNet's own
``down_intrablock_additional_residuals`` input (the path StableDiffusionAdapterPipeline uses), via a forward
pre-hook that lives only for one pipeline call.
"""

from __future__ import annotations

import torch
from diffusers import T2IAdapter, UNet2DConditionModel


class AdapterResiduals:
    """Context manager: while active, each UNet call also receives the adapter's (scaled) down-block residuals."""

    def __init__(self, unet: UNet2DConditionModel, adapter: T2IAdapter, palette: torch.Tensor, scale: float) -> None:
        param = next(adapter.parameters())
        with torch.no_grad():
            self.features = [f * scale for f in adapter(palette.to(param.device, param.dtype))]
        self.unet = unet
        self._handle = None

    def _add_residuals(self, module, args, kwargs):
        sample = args[0] if args else kwargs["sample"]
        batch = sample.shape[0]
        residuals = []
        for feature in self.features:
            # classifier-free guidance runs [uncond..., cond...] in one batch: repeat like the adapter pipeline does
            repeat = batch // feature.shape[0]
            feature = feature.repeat(repeat, 1, 1, 1) if repeat > 1 else feature
            residuals.append(feature.to(sample.device, sample.dtype))  # a fresh list: the UNet pops from it
        kwargs["down_intrablock_additional_residuals"] = residuals
        return args, kwargs

    def __enter__(self) -> AdapterResiduals:
        self._handle = self.unet.register_forward_pre_hook(self._add_residuals, with_kwargs=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

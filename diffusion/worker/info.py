"""Action ``info``: versions, the device 'auto' picks, and what is loaded (the Check worker button shows it)."""

from __future__ import annotations

import os
import platform

import diffusers
import torch
import transformers

from ..protocol import PROTOCOL_VERSION, ReplyType
from .models import pick_device


def run(ctx, message: dict) -> dict:
    device = pick_device("auto")
    loaded = ctx.pipelines
    return {
        "type": ReplyType.INFO.value,
        "protocol": PROTOCOL_VERSION,
        "pid": os.getpid(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "cuda": torch.version.cuda,
        "loaded_models": dict(loaded.models) if loaded else {},
        "model_loads": ctx.total_loads,
        "pipeline_loads": ctx.pipeline_loads,
    }

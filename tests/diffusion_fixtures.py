"""Shared fixtures of the diffusion tests: tiny random models in real diffusers folders, sample folders, a worker.

Import the fixtures into a test module with ``from diffusion_fixtures import *``-free explicit names.
"""

from __future__ import annotations

import atexit
import importlib
from pathlib import Path

import pytest

from blurd.diffusion.process import WorkerClient
from blurd.diffusion.settings import DiffusionSettings

ROOT = Path(__file__).resolve().parent.parent

SIZE = (64, 48)  # width, height: not square, so a swapped width/height shows


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Random SD 1.5-shaped models saved once per session (base, depth/normal/colour ControlNets, colour adapter)."""
    from blurd.diffusion.random_models import build_random_models

    return build_random_models(tmp_path_factory.mktemp("tiny_models"))


def tiny_settings(models, **changes) -> DiffusionSettings:
    values = models.settings_mapping(changes.get("colour_conditioner", "t2i_adapter"))
    values |= {"steps": 4, "strength": 0.5, "resolution": list(SIZE), "guidance": 5.0}
    values.update(changes)
    return DiffusionSettings.from_mapping(values, "test")


_SHARED: list[WorkerClient] = []


@pytest.fixture(scope="module")
def worker():
    """One worker client for the whole session (starting a worker imports torch: seconds), stopped at exit."""
    if not _SHARED:
        _SHARED.append(WorkerClient())
        atexit.register(_SHARED[0].stop)
    return _SHARED[0]


def extension_module(name: str):
    """``blurd.<name>``, e.g. ``extension_module("scene.render")``."""
    return importlib.import_module(f"blurd.{name}")

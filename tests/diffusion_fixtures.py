"""Shared fixtures of the diffusion tests: tiny random models in real diffusers folders, sample folders, a worker.

Import the fixtures into a test module with ``from diffusion_fixtures import *``-free explicit names.
"""

from __future__ import annotations

import atexit
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import blender_package  # noqa: E402

from diffusion.client import WorkerClient  # noqa: E402
from diffusion.settings import DiffusionSettings  # noqa: E402

SIZE = (64, 48)  # width, height: not square, so a swapped width/height shows


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Random SD 1.5-shaped models saved once per session (base, depth/normal/colour ControlNets, colour adapter)."""
    from diffusion.random_models import build_random_models

    return build_random_models(tmp_path_factory.mktemp("tiny_models"))


def tiny_settings(models, **changes) -> DiffusionSettings:
    values = models.settings_mapping(changes.get("colour_conditioner", "t2i_adapter"))
    values |= {"steps": 4, "strength": 0.5, "resolution": list(SIZE), "guidance": 5.0}
    values.update(changes)
    return DiffusionSettings.from_mapping(values, "test")


def make_sample(folder: Path, seed: int = 7, factors: dict | None = None) -> Path:
    """A synthetic sample folder: rgb/depth/normal/palette PNGs (128x128, resized by the worker) + sample.json."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in ("rgb", "depth", "normal", "palette"):
        Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(folder / f"{name}.png")
    record = {"id": folder.name, "seed": seed, "factors": factors or {"hair_color": "red"}}
    (folder / "sample.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


_SHARED: list[WorkerClient] = []


@pytest.fixture(scope="module")
def worker():
    """One worker client for the whole session (starting a worker imports torch: seconds), stopped at exit."""
    if not _SHARED:
        _SHARED.append(WorkerClient())
        atexit.register(_SHARED[0].stop)
    return _SHARED[0]


def extension_module(name: str):
    """A module of the extension imported as a package (scene/ uses relative imports into factors/)."""
    return blender_package.import_module(name)

"""Connecting to Ray and sizing the worker pools from the cluster's CPUs and GPUs, with clear errors before work.

Defaults: every GPU gets one diffusion worker (``num_gpus=1``); embedding workers take a spare GPU if there is
one, else a CPU; render workers fill the CPUs that are left, ``cpus_per_render`` each (or one GPU each when the
preset renders on GPU). Asked-for counts the cluster cannot hold are an error naming what is missing, since Ray
would otherwise wait for the resources forever.
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType

from .errors import ClusterError

CONNECT_TIMEOUT_S = 5.0
DEFAULT_RAY_CLIENT_PORT = 10001
INSTALL_HINT = "install the optional extra into this Python: pip install -r requirements-ray.txt"


class Stage(StrEnum):
    """The kinds of worker, in pipeline order."""

    RENDER = "render"
    DIFFUSE = "diffuse"
    EMBED = "embed"


class TorchDevice(StrEnum):
    """Where the diffusion and embedding workers run: ``auto`` takes GPUs when the cluster has any."""

    AUTO = "auto"
    GPU = "gpu"
    CPU = "cpu"


@dataclass(frozen=True)
class Resources:
    """What the cluster offers in all."""

    cpus: float
    gpus: float

    def text(self) -> str:
        return f"{self.cpus:g} CPU(s) and {self.gpus:g} GPU(s)"


@dataclass(frozen=True)
class Pool:
    """``count`` workers of one stage, each reserving ``num_cpus`` CPUs and ``num_gpus`` GPUs."""

    stage: Stage
    count: int
    num_cpus: float
    num_gpus: float

    def text(self) -> str:
        each = f"{self.num_cpus:g} CPU" + (f" + {self.num_gpus:g} GPU" if self.num_gpus else "")
        return f"{self.count} {self.stage.value} worker(s) ({each} each)"


def import_ray() -> ModuleType:
    """The ray module, or a ClusterError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterError(f"Ray is not installed; {INSTALL_HINT} (or pip install 'blurd[ray]')") from None
    return ray


def check_address(address: str) -> None:
    """Raise ClusterError at once when ``host:port`` (or ``ray://host:port``) is malformed or answers nothing.

    Ray itself would retry an unreachable address for a minute or more before failing.
    """
    if address == "auto":
        return
    rest = address.removeprefix("ray://")
    host, _, port_text = rest.rpartition(":")
    if not host:
        host, port_text = rest, str(DEFAULT_RAY_CLIENT_PORT) if address.startswith("ray://") else ""
    try:
        port = int(port_text)
    except ValueError:
        raise ClusterError(f"--address {address!r} is not 'auto', HOST:PORT or ray://HOST:PORT; e.g. --address auto "
                           "on a node of a running cluster") from None
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(f"cannot reach a Ray cluster at {address} ({reason}); start one there with `ray start "
                           "--head`, pass --address auto on a node of a running cluster, or leave --address out to "
                           "start a local one") from None


def connect(address: str | None) -> Resources:
    """Join the cluster at ``address`` (None: the Ray already running in this process, else a new local one)."""
    ray = import_ray()
    if not ray.is_initialized():
        if address is not None:
            check_address(address)
        try:
            ray.init(address=address, logging_level="WARNING", log_to_driver=True)
        except ConnectionError as exc:
            raise ClusterError(f"cannot join a Ray cluster at --address {address} ({exc}); start one with `ray start "
                               "--head`, or leave --address out to start a local one") from None
    totals = ray.cluster_resources()
    return Resources(float(totals.get("CPU", 0.0)), float(totals.get("GPU", 0.0)))


def plan_pools(
    resources: Resources,
    *,
    render_workers: int | None,
    render_on_gpu: bool,
    cpus_per_render: float,
    diffusion: bool,
    diffusion_workers: int | None,
    embed: bool,
    embed_workers: int | None,
    torch_device: TorchDevice,
) -> dict[Stage, Pool]:
    """The worker pools for this run; ClusterError when the cluster cannot hold them."""
    if torch_device is TorchDevice.GPU and resources.gpus < 1:
        raise ClusterError(f"--torch-device gpu, but the cluster has {resources.text()}; add GPU nodes, or use "
                           "--torch-device cpu (slow; for tests)")
    torch_gpu = torch_device is TorchDevice.GPU or (torch_device is TorchDevice.AUTO and resources.gpus >= 1)
    gpus_left, cpus_left = resources.gpus, resources.cpus
    pools: dict[Stage, Pool] = {}
    if diffusion:
        count = diffusion_workers or (max(1, int(gpus_left) - (1 if embed and gpus_left >= 2 else 0))
                                      if torch_gpu else 1)
        pools[Stage.DIFFUSE] = Pool(Stage.DIFFUSE, count, 0.0 if torch_gpu else 1.0, 1.0 if torch_gpu else 0.0)
    if embed:
        gpus_free = gpus_left - (pools[Stage.DIFFUSE].count if diffusion and torch_gpu else 0)
        count = embed_workers or 1
        on_gpu = torch_gpu and gpus_free >= count
        pools[Stage.EMBED] = Pool(Stage.EMBED, count, 0.0 if on_gpu else 1.0, 1.0 if on_gpu else 0.0)
    for pool in pools.values():
        gpus_left -= pool.count * pool.num_gpus
        cpus_left -= pool.count * pool.num_cpus
    if render_on_gpu:
        count = render_workers or int(gpus_left)
        render = Pool(Stage.RENDER, count, cpus_per_render, 1.0)
    else:
        count = render_workers or max(1, math.floor(cpus_left / cpus_per_render))
        render = Pool(Stage.RENDER, count, cpus_per_render, 0.0)
    pools = {Stage.RENDER: render, **pools}
    _check_fits(resources, pools)
    return pools


def _check_fits(resources: Resources, pools: dict[Stage, Pool]) -> None:
    need_cpus = sum(p.count * p.num_cpus for p in pools.values())
    need_gpus = sum(p.count * p.num_gpus for p in pools.values())
    plan = "; ".join(p.text() for p in pools.values())
    if pools[Stage.RENDER].count < 1:
        raise ClusterError(f"the preset renders on GPU but no GPU is left for render workers ({plan}; the cluster "
                           f"has {resources.text()}); lower --diffusion-workers, add GPUs, or render on CPU")
    if need_gpus > resources.gpus + 1e-9:
        raise ClusterError(f"{plan} need {need_gpus:g} GPU(s), but the cluster has {resources.text()}; lower "
                           "--diffusion-workers / --render-workers, add GPU nodes, or use --torch-device cpu")
    if need_cpus > resources.cpus + 1e-9:
        raise ClusterError(f"{plan} need {need_cpus:g} CPU(s), but the cluster has {resources.text()}; lower "
                           "--render-workers or --cpus-per-render, or add nodes")

"""Training one U-Net on one (source, regime): a fixed step schedule, checkpoints, resume, seeded determinism.

Every step's batch and every sample's augmentation are functions of (seed, step) alone: epoch e shuffles the
samples with a generator seeded by (seed, e), and sample k of step s is augmented under a seed drawn from
(seed, s, k). So a run killed at any point and resumed from its last checkpoint takes exactly the steps the
uninterrupted run would have taken (bit-identical weights on the CPU; on CUDA up to the GPU's non-deterministic
kernels), and the number of DataLoader workers changes nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..dataset.hygiene import remove_stale_temp_files
from . import checkpoint
from .augment import AugmentSettings, Regime, apply_joint, build_transform
from .classes import CLASS_NAMES, IGNORE
from .errors import LearnError
from .model import ModelSpec, build_unet
from .pairs import LabelledImage

CHECKPOINT_FILE = "checkpoint.safetensors"  # the latest training state (deleted once the run completes)
MODEL_FILE = "model.safetensors"  # the trained weights, written once the last step is done


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights; a checkpoint resumes only under the same config."""

    source: str
    regime: Regime
    model: ModelSpec = ModelSpec()
    size: int = 256
    epochs: int = 20
    batch_size: int = 8
    lr: float = 1e-3
    seed: int = 0
    augment: AugmentSettings = AugmentSettings()
    samples: int = 0  # filled from the training pairs
    samples_digest: str = ""  # hash of the sample names: the same dataset, wherever it lies

    def to_dict(self) -> dict:
        d = asdict(self)
        d["regime"] = self.regime.value
        d["model"] = self.model.to_dict()
        return d

    def steps_per_epoch(self) -> int:
        return math.ceil(self.samples / self.batch_size)

    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch()


@dataclass(frozen=True)
class RunOptions:
    """How a run executes; none of these change the result (beyond CUDA non-determinism)."""

    device: str = "cpu"
    workers: int = 0
    checkpoint_every: int = 100
    stop_after: int | None = None  # stop (with a checkpoint) once this many steps are done: time-boxed runs
    allow_download: bool = False


@dataclass
class TrainResult:
    model: object  # the torch module, on the run's device
    losses: list[float] = field(default_factory=list)  # mean batch loss of every step so far
    steps_done: int = 0
    total_steps: int = 0
    resumed_from: int = 0

    @property
    def complete(self) -> bool:
        return self.steps_done >= self.total_steps


def samples_digest(pairs: Sequence[LabelledImage]) -> str:
    return hashlib.sha256("\n".join(p.name for p in pairs).encode()).hexdigest()[:16]


def with_samples(config: TrainConfig, pairs: Sequence[LabelledImage]) -> TrainConfig:
    from dataclasses import replace

    return replace(config, samples=len(pairs), samples_digest=samples_digest(pairs))


def check_config(config: TrainConfig) -> None:
    stride = 2 ** config.model.encoder_depth
    if config.size <= 0 or config.size % stride:
        raise LearnError(f"--size {config.size} must be a positive multiple of {stride} (2 ** --encoder-depth "
                         f"{config.model.encoder_depth}); try {max(stride, round(config.size / stride) * stride)}")
    for name in ("epochs", "batch_size"):
        if getattr(config, name) < 1:
            raise LearnError(f"--{name.replace('_', '-')} must be at least 1")
    if config.lr <= 0:
        raise LearnError("--lr must be positive")


def step_batch(config: TrainConfig, step: int) -> list[tuple[int, int]]:
    """The (sample index, augmentation seed) pairs of global step ``step``."""
    epoch, within = divmod(step, config.steps_per_epoch())
    order = np.random.default_rng([config.seed, epoch]).permutation(config.samples)
    chosen = order[within * config.batch_size:(within + 1) * config.batch_size]
    return [(int(i), int(np.random.SeedSequence([config.seed, step, k]).generate_state(1)[0]))
            for k, i in enumerate(chosen)]


class AugmentedPairs:
    """A map-style dataset indexed by (sample index, augmentation seed) -> (image tensor, label tensor)."""

    def __init__(self, pairs: Sequence[LabelledImage], transform):
        self.pairs = list(pairs)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, key: tuple[int, int]):
        from PIL import Image

        index, seed = key
        pair = self.pairs[index]
        with Image.open(pair.image) as image:
            return apply_joint(self.transform, image, pair.label(), seed)


def seed_everything(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def _differences(saved: dict | None, config: TrainConfig) -> str:
    now = config.to_dict()
    return ", ".join(sorted(k for k in now if (saved or {}).get(k) != now[k])) or "format"


def _resume_state(out: Path, config: TrainConfig) -> checkpoint.TrainingState | None:
    path = out / CHECKPOINT_FILE
    if not path.is_file():
        return None
    state = checkpoint.load(path)
    saved = state.header.get("config")
    if saved != config.to_dict():
        raise LearnError(f"{path} belongs to a run with other settings ({_differences(saved, config)} differ); resume "
                         "with the same options, or use another --out (or delete the checkpoint to start over)")
    return state


def header(config: TrainConfig, losses: list[float]) -> dict:
    return {"config": config.to_dict(), "classes": list(CLASS_NAMES), "losses": losses}


def train(config: TrainConfig, pairs: Sequence[LabelledImage], out: Path, options: RunOptions = RunOptions(),
          progress: Callable[..., object] | None = None) -> TrainResult:
    """Train (or resume, or finish) the run in folder ``out``; returns the model and the loss of every step."""
    import torch
    from torch.nn import functional as F

    config = with_samples(config, pairs)
    check_config(config)
    if config.samples < 1:
        raise LearnError("no training sample: the dataset folder has no image of this source with a label map")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out)  # what a killed run was writing when it died
    total = config.total_steps()
    if (out / MODEL_FILE).is_file():  # a completed run: nothing to train
        model, done = load_trained(out, options.device)
        if done["config"] != config.to_dict():
            differ = _differences(done["config"], config)
            raise LearnError(f"{out / MODEL_FILE} was trained with other settings ({differ} differ); use another "
                             "--out, or delete it to train again")
        return TrainResult(model, list(done.get("losses", [])), total, total, total)
    seed_everything(config.seed)
    model = build_unet(config.model, allow_download=options.allow_download)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    state = _resume_state(out, config)
    losses: list[float] = []
    start = 0
    if state is not None:
        model.load_state_dict(state.model)
        if state.optimizer is not None:
            optimizer.load_state_dict(state.optimizer)
        losses = list(state.header.get("losses", []))
        start = state.step
    model.to(options.device)
    for opt_state in optimizer.state.values():  # Adam's moments follow the parameters' device
        for k, v in opt_state.items():
            if torch.is_tensor(v) and k != "step":
                opt_state[k] = v.to(options.device)
    end = min(total, options.stop_after) if options.stop_after is not None else total
    result = TrainResult(model, losses, start, total, start)
    if start >= end:
        return result
    dataset = AugmentedPairs(pairs, build_transform(config.regime, config.size, config.augment))
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=[step_batch(config, s) for s in range(start, end)],
                                         num_workers=options.workers, pin_memory=options.device.startswith("cuda"))
    desc = f"train {config.source}/{config.regime.value}"
    bar = progress(total=total, initial=start, desc=desc) if progress else None
    model.train()
    for step, (images, labels) in zip(range(start, end), loader):
        images = images.to(options.device, non_blocking=True)
        labels = labels.to(options.device, non_blocking=True)
        loss = F.cross_entropy(model(images), labels, ignore_index=IGNORE)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        result.steps_done = step + 1
        if bar is not None:
            bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
            bar.update(1)
        if result.steps_done % options.checkpoint_every == 0 or result.steps_done == end:
            if result.steps_done < total:
                checkpoint.save(out / CHECKPOINT_FILE, model, result.steps_done, header(config, losses), optimizer)
    if bar is not None:
        bar.close()
    if result.complete:
        checkpoint.save(out / MODEL_FILE, model, result.steps_done, header(config, losses))
        (out / CHECKPOINT_FILE).unlink(missing_ok=True)
    return result


def load_trained(out: Path, device: str = "cpu"):
    """The trained model of a completed run folder and its header (config, losses)."""
    path = Path(out) / MODEL_FILE
    if not path.is_file():
        raise LearnError(f"{out} holds no trained model ({MODEL_FILE}); train it first (a killed run resumes with "
                         "the same command)")
    state = checkpoint.load(path)
    spec = ModelSpec.from_dict({**state.header["config"]["model"], "encoder_weights": "none"})
    model = build_unet(spec)
    model.load_state_dict(state.model)
    return model.to(device).eval(), state.header

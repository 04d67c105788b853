"""The U-Net (segmentation-models-pytorch) and its encoder weights: none, a local file, or a download if allowed.

Encoder names are smp's (``resnet34``, ``efficientnet-b0``, ``mit_b0``, ...) or any timm model as ``tu-<name>``
(``tu-resnet10t``); smp lists them with ``smp.encoders.get_encoder_names()``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from .classes import NUM_CLASSES
from .errors import LearnError

NO_WEIGHTS = "none"
HEAD_PREFIXES = ("fc.", "classifier.", "head.", "last_linear.")  # classification heads a U-Net encoder lacks


@dataclass(frozen=True)
class ModelSpec:
    """Everything that fixes the network's shape and its starting weights."""

    encoder: str = "resnet34"
    encoder_depth: int = 5
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16)
    encoder_weights: str = NO_WEIGHTS  # "none", a local file (.safetensors/.pth/.pt/.bin), or an smp name (imagenet)
    classes: int = NUM_CLASSES
    extra: dict = field(default_factory=dict)  # more smp.Unet keyword arguments, recorded with the run

    def to_dict(self) -> dict:
        d = asdict(self)
        d["decoder_channels"] = list(self.decoder_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelSpec:
        return cls(**{**d, "decoder_channels": tuple(d["decoder_channels"])})

    def architecture(self) -> dict:
        """The fields that shape the network (a checkpoint only loads into the same architecture)."""
        d = self.to_dict()
        d.pop("encoder_weights")
        return d


def check_spec(spec: ModelSpec, allow_download: bool) -> None:
    """Raise before any work when the encoder, depth or weights cannot be used as given."""
    import segmentation_models_pytorch as smp

    if not spec.encoder.startswith("tu-") and spec.encoder not in smp.encoders.get_encoder_names():
        raise LearnError(f"unknown encoder {spec.encoder!r}: use an smp encoder (resnet34, efficientnet-b0, mit_b0, "
                         "...) or a timm model as tu-<name>; list them with "
                         "python -c \"import segmentation_models_pytorch as s; print(s.encoders.get_encoder_names())\"")
    if len(spec.decoder_channels) != spec.encoder_depth:
        raise LearnError(f"--decoder-channels has {len(spec.decoder_channels)} value(s) but --encoder-depth is "
                         f"{spec.encoder_depth}; give one channel count per depth level")
    weights = spec.encoder_weights
    if weights == NO_WEIGHTS or Path(weights).expanduser().is_file():
        return
    if any(ch in weights for ch in "/\\.") or Path(weights).suffix:
        raise LearnError(f"encoder weights file {weights} does not exist; pass a .safetensors/.pth file, 'none', or "
                         "a named pretraining (e.g. imagenet) with --allow-download")
    known = smp.encoders.encoders.get(spec.encoder, {}).get("pretrained_settings")
    if known is not None and weights not in known:
        raise LearnError(f"encoder {spec.encoder} has no pretrained weights named {weights!r}; it has: "
                         f"{', '.join(known) or 'none'} (or pass a local weights file)")
    if not allow_download:
        raise LearnError(f"encoder weights {weights!r} would be downloaded from the hub; pass --allow-download, a "
                         "local weights file, or --encoder-weights none")


def _read_state(path: Path) -> dict:
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
    if not isinstance(state, dict) or not all(hasattr(v, "shape") for v in state.values()):
        raise LearnError(f"{path} holds no tensor state dict; save one with safetensors.torch.save_file or "
                         "torch.save(model.state_dict())")
    return state


def load_encoder_weights(encoder, path: Path) -> int:
    """Load a local state dict into ``encoder``; accepts the encoder's own keys, a whole smp model (``encoder.``)
    or a timm/torchvision backbone (classification head dropped). Returns the number of tensors loaded."""
    path = Path(path).expanduser()
    state = _read_state(path)
    own = encoder.state_dict()
    candidates = []
    for prefix_drop, prefix_add in (("", ""), ("encoder.", ""), ("", "model."), ("encoder.model.", "model.")):
        mapped = {prefix_add + k[len(prefix_drop):]: v for k, v in state.items() if k.startswith(prefix_drop)}
        candidates.append(mapped)
    best = max(candidates, key=lambda m: sum(k in own for k in m))
    unused = [k for k in best if k not in own and not k.removeprefix("model.").startswith(HEAD_PREFIXES)]
    missing = [k for k in own if k not in best and not k.endswith("num_batches_tracked")]
    wrong = [k for k in best if k in own and tuple(best[k].shape) != tuple(own[k].shape)]
    if missing or unused or wrong:
        parts = [f"{len(missing)} encoder tensor(s) missing (e.g. {missing[0]})" if missing else "",
                 f"{len(unused)} unknown tensor(s) (e.g. {unused[0]})" if unused else "",
                 f"{len(wrong)} with another shape (e.g. {wrong[0]})" if wrong else ""]
        raise LearnError(f"{path} does not fit the {type(encoder).__name__} encoder: "
                         f"{'; '.join(p for p in parts if p)}; use weights of the same --encoder")
    encoder.load_state_dict({k: v for k, v in best.items() if k in own}, strict=False)
    return sum(k in own for k in best)


def build_unet(spec: ModelSpec, allow_download: bool = False):
    """The U-Net of ``spec`` with its starting encoder weights (random unless a file or allowed download)."""
    import segmentation_models_pytorch as smp

    check_spec(spec, allow_download)
    weights = spec.encoder_weights
    named = None if weights == NO_WEIGHTS or Path(weights).expanduser().is_file() else weights
    try:
        model = smp.Unet(encoder_name=spec.encoder, encoder_depth=spec.encoder_depth, encoder_weights=named,
                         decoder_channels=tuple(spec.decoder_channels), classes=spec.classes, **spec.extra)
    except Exception as exc:  # smp, timm and the hub raise many types; the user needs the encoder and the cause
        if named is None:
            raise
        raise LearnError(f"could not get the {named!r} weights of encoder {spec.encoder}: {exc}; check the network "
                         "or pass a local weights file with --encoder-weights FILE") from exc
    if weights != NO_WEIGHTS and named is None:
        load_encoder_weights(model.encoder, Path(weights))
    return model

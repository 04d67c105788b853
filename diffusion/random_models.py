"""Random-weight Stable Diffusion 1.5-shaped models saved as real diffusers folders, for tests and benchmarks.

No weights ship with any package, so tests and benchmarks build models from configs and save them the way real
models are laid out (``base/`` with model_index.json, ``controlnet_depth/``, ``controlnet_normal/``,
``adapter_color/``, ``controlnet_color/``); the worker then loads them through its normal loading code.
Worker side only (imports torch).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import (
    AutoencoderKL,
    ControlNetModel,
    StableDiffusionPipeline,
    T2IAdapter,
    UNet2DConditionModel,
    UniPCMultistepScheduler,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from ..dataset import layout
from ..dataset.files import write_atomic, write_text
from ..dataset.record import SampleRecord, write_record


@dataclass(frozen=True)
class ModelSizes:
    """Architecture sizes: TINY for tests (seconds on a CPU), SD15 for the real SD 1.5 shapes."""

    unet_channels: tuple[int, ...]
    layers_per_block: int
    attention_head_dim: int | tuple[int, ...]
    cross_attention_dim: int
    norm_groups: int
    vae_channels: tuple[int, ...]
    text_hidden: int
    text_layers: int
    text_heads: int
    text_intermediate: int
    adapter_channels: tuple[int, ...]
    adapter_res_blocks: int
    sample_size: int


TINY = ModelSizes(
    unet_channels=(16, 32),
    layers_per_block=1,
    attention_head_dim=4,
    cross_attention_dim=32,
    norm_groups=8,
    vae_channels=(8, 8, 16, 16),
    text_hidden=32,
    text_layers=2,
    text_heads=4,
    text_intermediate=64,
    adapter_channels=(16, 32),
    adapter_res_blocks=1,
    sample_size=8,
)
SD15 = ModelSizes(
    unet_channels=(320, 640, 1280, 1280),
    layers_per_block=2,
    attention_head_dim=8,
    cross_attention_dim=768,
    norm_groups=32,
    vae_channels=(128, 256, 512, 512),
    text_hidden=768,
    text_layers=12,
    text_heads=12,
    text_intermediate=3072,
    adapter_channels=(320, 640, 1280, 1280),
    adapter_res_blocks=2,
    sample_size=64,
)


@dataclass(frozen=True)
class RandomModelPaths:
    """Where build_random_models saved each model (settings values for DiffusionSettings)."""

    base: Path
    depth: Path
    normal: Path
    adapter: Path
    colour_controlnet: Path

    def settings_mapping(self, colour: str = "t2i_adapter") -> dict[str, str]:
        return {
            "base_model": str(self.base),
            "depth_controlnet": str(self.depth),
            "normal_controlnet": str(self.normal),
            "colour_conditioner": colour,
            "colour_model": str(self.adapter if colour == "t2i_adapter" else self.colour_controlnet),
        }


def tiny_tokenizer(max_length: int = 77) -> CLIPTokenizer:
    """A CLIP tokenizer over single characters (no files, no hub): enough to tokenise any prompt."""
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in string.ascii_lowercase + string.digits + ",.-'!?()":
        vocab[char] = len(vocab)
        vocab[char + "</w>"] = len(vocab)
    return CLIPTokenizer(
        vocab=vocab, merges=[], unk_token="<|endoftext|>", bos_token="<|startoftext|>",
        eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=max_length,
    )


def build_pipeline(sizes: ModelSizes, seed: int = 0) -> tuple[StableDiffusionPipeline, ControlNetModel]:
    """A random SD pipeline of the given sizes and a ControlNet made from its UNet (copied by the caller)."""
    torch.manual_seed(seed)
    levels = len(sizes.unet_channels)
    unet = UNet2DConditionModel(
        sample_size=sizes.sample_size,
        in_channels=4,
        out_channels=4,
        block_out_channels=sizes.unet_channels,
        layers_per_block=sizes.layers_per_block,
        down_block_types=("CrossAttnDownBlock2D",) * (levels - 1) + ("DownBlock2D",) if levels > 2
        else ("CrossAttnDownBlock2D",) * levels,
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (levels - 1) if levels > 2
        else ("CrossAttnUpBlock2D",) * levels,
        cross_attention_dim=sizes.cross_attention_dim,
        attention_head_dim=sizes.attention_head_dim,
        norm_num_groups=sizes.norm_groups,
    )
    vae_levels = len(sizes.vae_channels)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=sizes.vae_channels,
        down_block_types=("DownEncoderBlock2D",) * vae_levels,
        up_block_types=("UpDecoderBlock2D",) * vae_levels,
        layers_per_block=2 if sizes is SD15 else 1,
        norm_num_groups=min(sizes.norm_groups, min(sizes.vae_channels)),
        sample_size=sizes.sample_size * 8,
    )
    tokenizer = tiny_tokenizer() if sizes is not SD15 else tiny_tokenizer()
    vocab_size = len(tokenizer) if sizes is not SD15 else 49408
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=sizes.text_hidden,
            num_hidden_layers=sizes.text_layers,
            num_attention_heads=sizes.text_heads,
            intermediate_size=sizes.text_intermediate,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    scheduler = UniPCMultistepScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    return pipe, ControlNetModel.from_unet(unet)


def build_random_models(folder: Path, sizes: ModelSizes = TINY, seed: int = 0) -> RandomModelPaths:
    """Save a random base pipeline, depth/normal/colour ControlNets and a colour T2I-Adapter under ``folder``."""
    folder = Path(folder)
    paths = RandomModelPaths(
        folder / "base", folder / "controlnet_depth", folder / "controlnet_normal", folder / "adapter_color",
        folder / "controlnet_color",
    )
    pipe, _ = build_pipeline(sizes, seed)
    pipe.save_pretrained(paths.base, safe_serialization=True)
    for offset, path in enumerate((paths.depth, paths.normal, paths.colour_controlnet), start=1):
        torch.manual_seed(seed + offset)
        net = ControlNetModel.from_unet(pipe.unet)
        with torch.no_grad():  # from_unet zero-initialises the output convs; random ones make the nets matter
            zero_convs = [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]
            for conv in zero_convs:
                conv.weight.normal_(0, 0.02)
        net.save_pretrained(path, safe_serialization=True)
    torch.manual_seed(seed + 9)
    adapter = T2IAdapter(
        in_channels=3,
        channels=list(sizes.adapter_channels),
        num_res_blocks=sizes.adapter_res_blocks,
        downscale_factor=8,
        adapter_type="full_adapter",
    )
    adapter.save_pretrained(paths.adapter, safe_serialization=True)
    return paths


def make_sample(folder: Path, seed: int = 7, factors: dict | None = None) -> Path:
    """A synthetic sample folder (rgb/depth/normal/palette PNGs of noise, 128x128, plus sample.json) that the
    worker accepts like a rendered one: for tests and benchmarks of the diffusion stage without Blender."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    passes = {name: layout.pass_filename(name) for name in ("rgb", "depth", "normal", "palette")}
    for filename in passes.values():
        noise = Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
        write_atomic(folder / filename, lambda tmp, image=noise: image.save(tmp, format="PNG"))
    write_record(folder, SampleRecord(id=folder.name, seed=seed, factors=factors or {"hair_color": "red"},
                                      passes=passes))
    return folder


TRY_PRESET = "quick_tiny_sd.toml"
TRY_DIFFUSION = {"steps": 4, "strength": 0.5, "resolution": [64, 64], "guidance": 5.0}


def write_try_out(folder: Path, colour: str = "t2i_adapter") -> Path:
    """Tiny random models in ``folder`` plus a preset (the quick sweep + a [diffusion] table using them).

    Lets a new user run every diffusion mode offline end to end; the images are noise, the plumbing is real.
    """
    import tomli_w

    folder = Path(folder).resolve()
    paths = build_random_models(folder)
    quick = (Path(__file__).resolve().parents[1] / "presets" / "quick.toml").read_text(encoding="utf-8")
    table = tomli_w.dumps({"diffusion": {**paths.settings_mapping(colour), **TRY_DIFFUSION}})
    preset = folder / TRY_PRESET
    write_text(preset, quick.replace('name = "quick"', 'name = "quick_tiny_sd"') + "\n" + table)
    return preset


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m blurd.diffusion.random_models",
        description="Save tiny random-weight SD 1.5-shaped models (base, depth/normal/colour ControlNets, colour "
        "T2I-Adapter) as diffusers folders, and a preset that sweeps the quick grid and diffuses with them.",
    )
    parser.add_argument("folder", type=Path, help="where to write the models and the preset")
    parser.add_argument("--colour-conditioner", choices=("t2i_adapter", "controlnet"), default="t2i_adapter")
    args = parser.parse_args(argv)
    preset = write_try_out(args.folder, args.colour_conditioner)
    print(f"models and preset written: {preset}\n"
          f"try: python batch.py --preset {preset} --out out/quick_sd --diffuse unleashed,tempered,harbinger")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

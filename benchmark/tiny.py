"""Tiny stand-ins for smoke tests of the whole pipeline without downloads: a random-weight CLIP saved to a folder
(loaded back through the same ``from_pretrained`` code as a real model) and a synthetic dataset folder.

Neither measures anything about real models; they check that the benchmark runs end to end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import product
from pathlib import Path

from ..dataset import layout
from ..dataset.files import write_bytes, write_text
from ._core import FACTORS, captions, validate_assignment

TINY_IMAGE_SIZE = 32


@lru_cache(maxsize=1)
def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's (GPT-2's) reversible byte -> printable character table that BPE vocabularies are written in."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(keep, (chr(c) for c in chars)))


def caption_words() -> list[str]:
    """Lower-case words of every class phrase and of the default multi-factor caption (the tiny vocabulary)."""
    import re

    texts = [captions.class_phrase(f.name, v) for f in FACTORS for v in f.values]
    texts += [captions.CAPTION_TEMPLATE.format(""), captions.multi_caption({})]
    return sorted({w for t in texts for w in re.findall(r"[a-z]+|[0-9]", t.lower())})


def clip_bpe_vocabulary(words: Iterable[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A small CLIP-format byte-level BPE vocabulary: all 256 byte symbols (alone and word-final) plus merges that
    build each of ``words`` left to right; any other text still tokenizes, byte by byte."""
    symbols = list(_bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols]
    merges: list[tuple[str, str]] = []
    seen = set(tokens)
    for word in sorted(set(words)):
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            merged = pair[0] + pair[1]
            if merged not in seen:
                merges.append(pair)
                tokens.append(merged)
                seen.add(merged)
            parts = [merged] + parts[2:]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def save_tiny_clip(folder: Path | str, seed: int = 0, projection_dim: int = 16) -> Path:
    """A random-weight CLIPModel (32 px images, 2 layers) with a CLIP tokenizer and image processor in ``folder``."""
    import torch
    import transformers
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    # transformers 5 split the image processors into PIL and torchvision ones; the PIL one needs no torchvision
    ImageProcessor = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor

    folder = Path(folder)
    vocab, merges = clip_bpe_vocabulary(caption_words())
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges)
    special = {"bos_token_id": vocab["<|startoftext|>"], "eos_token_id": vocab["<|endoftext|>"],
               "pad_token_id": vocab["<|endoftext|>"]}
    text = {"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "max_position_embeddings": 77, **special}
    vision = {"image_size": TINY_IMAGE_SIZE, "patch_size": 8, "hidden_size": 32, "intermediate_size": 64,
              "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ImageProcessor(size={"shortest_edge": TINY_IMAGE_SIZE},
                   crop_size={"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE}).save_pretrained(folder)
    return folder


def _swatch(factors: Mapping[str, object], seed: int, size: int, tint: tuple[int, int, int] | None):
    """A placeholder image: hair colour on top, skin by race in the middle, shirt colour below, tie stripe."""
    import numpy as np
    from PIL import Image

    by_name = {f.name: f for f in FACTORS}

    def rgb(name: str) -> np.ndarray:
        value = by_name[name].rgb(str(factors[name])) or (0.5, 0.5, 0.5)
        return np.array(value) * 255

    skin = {"caucasian": (230, 190, 170), "asian": (220, 180, 130), "hispanic": (190, 140, 100),
            "african": (110, 70, 50)}[str(factors["race"])]
    img = np.zeros((size, size, 3))
    third = size // 3
    img[:third] = rgb("hair_color")
    img[third:2 * third] = skin
    img[2 * third:] = rgb("shirt_color")
    img[2 * third:, size // 2 - 2:size // 2 + 2] = rgb("tie_color")
    if tint is not None:
        img = 0.7 * img + 0.3 * np.array(tint)
    img += np.random.default_rng(seed).normal(0, 6, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def write_synthetic_dataset(out: Path | str, sweep: Mapping[str, Sequence[object]],
                            fixed: Mapping[str, object] | None = None, modes: Sequence[str] = ("harbinger",),
                            size: int = TINY_IMAGE_SIZE) -> Path:
    """A dataset folder in the batch layout: every combination of ``sweep`` on top of ``fixed``, with a placeholder
    rgb.png, sd_<mode>.png per mode and sample.json. Returns the folder."""
    import io

    from ..factors.ids import sample_id, sample_seed

    out = Path(out)
    names = list(sweep)
    rows = []
    for index, combo in enumerate(product(*(sweep[n] for n in names))):
        factors = validate_assignment({**(fixed or {}), **dict(zip(names, combo))}, complete=True)
        sid = sample_id(factors)
        seed = sample_seed(sid)
        folder = layout.sample_dir(out, sid)
        passes = {"rgb": layout.RGB}
        for source, tint in [("render", None)] + [(mode, (60 + 40 * i, 120, 200 - 50 * i)) for i, mode in
                                                  enumerate(modes)]:
            buf = io.BytesIO()
            _swatch(factors, seed + len(source), size, tint).save(buf, format="PNG")
            name = layout.RGB if source == "render" else layout.diffusion_filename(source)
            write_bytes(folder / name, buf.getvalue())
        meta = {"id": sid, "seed": seed, "factors": factors, "passes": passes,
                "versions": {"blender": None, "blurd": "synthetic"}}
        write_text(folder / layout.SAMPLE_JSON, json.dumps(meta, indent=1))
        rows.append(json.dumps({"id": sid, "index": index, "seed": seed, "factors": factors,
                                "dir": f"{layout.SAMPLES_DIR}/{sid}"}))
    write_text(out / layout.MANIFEST, "\n".join(rows) + "\n")
    return out

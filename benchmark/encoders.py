"""CLIP image and text encoders: transformers ``CLIPModel`` (hub id or local folder) or, when installed, open_clip.

A model loads on first use, so a run whose embeddings are all cached never loads it. Embeddings come back as
float32 numpy rows in the model's joint space (not normalised; the metrics normalise).
"""

from __future__ import annotations

import hashlib
import pickle
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from .errors import BenchmarkError

OPEN_CLIP_PREFIX = "open_clip:"
ProgressFactory = Callable[[int, str], object]  # (total, description) -> a tqdm-like object with .update(n)


class Backend(StrEnum):
    TRANSFORMERS = "transformers"
    OPEN_CLIP = "open_clip"


@dataclass(frozen=True)
class ModelSpec:
    """Which model to evaluate: a transformers hub id or folder, or ``open_clip:ARCH:PRETRAINED``."""

    name: str  # as the user wrote it
    backend: Backend
    model: str  # hub id, folder, or open_clip architecture
    pretrained: str | None = None  # open_clip pretrained tag

    @property
    def local_folder(self) -> Path | None:
        path = Path(self.model).expanduser()
        return path.resolve() if self.backend is Backend.TRANSFORMERS and path.is_dir() else None

    @property
    def key(self) -> str:
        """A file-name-safe key for caches and results: a readable slug plus a hash of what identifies the
        weights (for a local folder: its files' names, sizes and modification times)."""
        folder = self.local_folder
        if folder is not None:
            files = sorted(p for p in folder.iterdir() if p.is_file())
            ident = str(folder) + "".join(f"|{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
            label = folder.name
        else:
            ident = f"{self.backend.value}|{self.model}|{self.pretrained}|{self._hub_revision() or ''}"
            label = self.model + (f"-{self.pretrained}" if self.pretrained else "")
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-")[:60] or "model"
        return f"{slug}-{hashlib.sha256(ident.encode()).hexdigest()[:8]}"


    def _hub_revision(self) -> str | None:
        """The cached snapshot (commit) of a hub model, so an updated model gets a new cache key."""
        if self.backend is not Backend.TRANSFORMERS:
            return None
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(self.model, "config.json")
        except (ImportError, ValueError):  # not a valid repo id: no snapshot to name
            return None
        return Path(cached).parent.name if isinstance(cached, str) else None


def parse_model_spec(text: str) -> ModelSpec:
    """``open_clip:ViT-B-32:laion2b_s34b_b79k`` for open_clip; anything else is a transformers hub id or folder."""
    text = text.strip()
    if not text:
        raise BenchmarkError("empty --model; pass a hub id such as openai/clip-vit-base-patch32 or a folder")
    if text.startswith(OPEN_CLIP_PREFIX):
        arch, _, tag = text[len(OPEN_CLIP_PREFIX):].partition(":")
        if not arch:
            raise BenchmarkError(f"model {text!r}: write open_clip models as open_clip:ARCH:PRETRAINED, "
                                 "e.g. open_clip:ViT-B-32:laion2b_s34b_b79k")
        return ModelSpec(text, Backend.OPEN_CLIP, arch, tag or None)
    return ModelSpec(text, Backend.TRANSFORMERS, text)


class ClipEncoder(ABC):
    """Base: lazy loading, batching and progress; subclasses load a model and encode one batch."""

    def __init__(self, spec: ModelSpec, device: str = "cpu", batch_size: int = 32, allow_download: bool = False):
        self.spec, self.device, self.batch_size, self.allow_download = spec, device, max(1, batch_size), allow_download
        self._loaded = False
        self.max_text_tokens: int | None = None
        self.truncated_texts: set[str] = set()  # texts longer than the text model's context, cut to fit

    @property
    def loaded(self) -> bool:
        return self._loaded

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._load()
            self._loaded = True

    def encode_images(self, paths: Sequence[Path], progress: ProgressFactory | None = None) -> np.ndarray:
        from PIL import Image

        self._ensure_loaded()
        bar = progress(len(paths), f"images {self.spec.key}") if progress else None
        out = []
        for start in range(0, len(paths), self.batch_size):
            batch = []
            for p in paths[start:start + self.batch_size]:
                try:
                    with Image.open(p) as im:
                        batch.append(im.convert("RGB"))
                except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                    raise BenchmarkError(f"cannot read the image {p} ({type(exc).__name__}: {exc}); render or "
                                         "diffuse that sample again, or remove its folder") from None
            out.append(self._encode_image_batch(batch))
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        self._ensure_loaded()
        step = self.batch_size
        out = [self._encode_text_batch(list(texts[s:s + step])) for s in range(0, len(texts), step)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)

    def preflight(self) -> None:
        """Raise BenchmarkError now if the model clearly cannot load later (checked before any work starts).

        The base class has nothing to check; backends that can look before loading override it.
        """
        return None

    @abstractmethod
    def _load(self) -> None:
        """Implemented by each backend."""

    @abstractmethod
    def _encode_image_batch(self, images: list) -> np.ndarray:
        """Implemented by each backend."""

    @abstractmethod
    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        """Implemented by each backend."""


def _features(out) -> np.ndarray:
    """transformers 5 returns a model output whose pooler_output is the projected embedding; 4.x a tensor."""
    tensor = getattr(out, "pooler_output", out)
    return tensor.detach().float().cpu().numpy()


class TransformersClipEncoder(ClipEncoder):
    """A transformers ``CLIPModel`` with its image processor and tokenizer, from a hub id or a local folder."""

    def preflight(self) -> None:
        folder = self.spec.local_folder
        if folder is not None:
            if not (folder / "config.json").is_file():
                raise BenchmarkError(f"model folder {folder} has no config.json; save the model there with "
                                     "CLIPModel.save_pretrained and its processor with CLIPProcessor.save_pretrained")
            return
        if Path(self.spec.model).expanduser().exists() or self.spec.model.startswith((".", "/", "~")):
            raise BenchmarkError(f"model {self.spec.name!r}: no such folder; pass an existing folder or a hub id")
        if not self.allow_download:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(self.spec.model, "config.json")
            if not isinstance(cached, str):
                raise BenchmarkError(f"model {self.spec.name!r} is not in the Hugging Face cache and downloads are "
                                     "off; pass --allow-download to fetch it once, or a local model folder")

    def _load(self) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

        source = str(self.spec.local_folder or self.spec.model)
        offline = not self.allow_download
        try:
            self.model = CLIPModel.from_pretrained(source, local_files_only=offline).to(self.device).eval()
            try:
                self.processor = AutoImageProcessor.from_pretrained(source, local_files_only=offline, backend="pil")
            except TypeError:  # transformers without the backend argument
                self.processor = AutoImageProcessor.from_pretrained(source, local_files_only=offline)
            self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline)
        except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as exc:
            hint = ("pass --allow-download to fetch it from the Hugging Face hub once" if offline
                    else "check the hub id and your network")
            raise BenchmarkError(f"model {self.spec.name!r}: cannot load a CLIP model, image processor and tokenizer "
                                 f"from it ({exc.__class__.__name__}: {str(exc).splitlines()[0]}); it must be a "
                                 f"folder saved with save_pretrained or a hub id in your cache; {hint}") from exc
        self.max_text_tokens = int(self.model.config.text_config.max_position_embeddings)
        self._torch = torch

    def _encode_image_batch(self, images: list) -> np.ndarray:
        pixels = self.processor(images=images, return_tensors="pt")["pixel_values"].to(self.device)
        with self._torch.inference_mode():
            return _features(self.model.get_image_features(pixel_values=pixels))

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        full = self.tokenizer(texts, padding=False, truncation=False)["input_ids"]
        self.truncated_texts.update(t for t, ids in zip(texts, full) if len(ids) > self.max_text_tokens)
        tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_text_tokens,
                                return_tensors="pt").to(self.device)
        with self._torch.inference_mode():
            return _features(self.model.get_text_features(input_ids=tokens["input_ids"],
                                                          attention_mask=tokens["attention_mask"]))


class OpenClipEncoder(ClipEncoder):
    """An open_clip model (optional dependency, imported only when such a model is asked for)."""

    def preflight(self) -> None:
        import importlib.util

        if importlib.util.find_spec("open_clip") is None:
            raise BenchmarkError(f"model {self.spec.name!r} needs the open_clip package: pip install open_clip_torch "
                                 "(or use a transformers CLIP model id or folder)")

    def _load(self) -> None:
        try:
            import open_clip
            import torch
        except ImportError as exc:
            raise BenchmarkError(f"model {self.spec.name!r} needs the open_clip package: pip install open_clip_torch "
                                 "(or use a transformers CLIP model id or folder)") from exc
        try:
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(
                self.spec.model, pretrained=self.spec.pretrained, device=self.device)
        except (RuntimeError, OSError) as exc:
            raise BenchmarkError(f"model {self.spec.name!r}: open_clip cannot load it ({exc}); list valid names "
                                 "with open_clip.list_pretrained()") from exc
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(self.spec.model)
        self.max_text_tokens = int(getattr(self.tokenizer, "context_length", 77))
        self._torch = torch

    def _encode_image_batch(self, images: list) -> np.ndarray:
        pixels = self._torch.stack([self.preprocess(im) for im in images]).to(self.device)
        with self._torch.inference_mode():
            return self.model.encode_image(pixels).float().cpu().numpy()

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        tokens = self.tokenizer(texts).to(self.device)
        with self._torch.inference_mode():
            return self.model.encode_text(tokens).float().cpu().numpy()


def make_encoder(spec: ModelSpec, device: str = "cpu", batch_size: int = 32,
                 allow_download: bool = False) -> ClipEncoder:
    """The encoder for ``spec``; nothing is loaded until the first image or text is encoded."""
    cls = OpenClipEncoder if spec.backend is Backend.OPEN_CLIP else TransformersClipEncoder
    return cls(spec, device=device, batch_size=batch_size, allow_download=allow_download)

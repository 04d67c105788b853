"""Evaluating one model on a dataset folder, source by source: embeddings (cached) in, metrics out.

``compute_source_metrics`` is the whole metric pipeline on given embeddings and one text-embedding function,
so it runs the same on a real model, a tiny test model or precomputed arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from . import metrics as m
from ._core import FACTOR_NAMES, captions
from .cache import CacheStats, image_embeddings, text_embeddings
from .dataset import PHOTOREAL_MODE, RENDER, DatasetFolder, SampleRecord
from .encoders import ClipEncoder, ModelSpec, ProgressFactory
from .errors import BenchmarkError

TextEmbedder = Callable[[Sequence[str]], np.ndarray]
DEFAULT_TEMPLATES: tuple[str, ...] = (captions.CAPTION_TEMPLATE,)


class CaptionFactors(StrEnum):
    """Which factors the multi-factor caption describes: all twenty, or only those that vary in the dataset."""

    ALL = "all"
    VARYING = "varying"


@dataclass(frozen=True)
class EvalOptions:
    templates: tuple[str, ...] = DEFAULT_TEMPLATES
    caption_factors: CaptionFactors = CaptionFactors.VARYING  # all twenty overflow CLIP's 77 tokens
    seed: int = 0  # seeds the shuffled-pair baselines
    sources: tuple[str, ...] | None = None  # None: every source present


def check_templates(templates: Sequence[str]) -> tuple[str, ...]:
    """The templates, each with exactly one placeholder ``{}`` (or CLIP_benchmark's ``{c}``)."""
    if not templates:
        raise BenchmarkError("no caption template; give at least one, e.g. --template 'A picture of {}.'")
    for t in templates:
        if t.count("{}") + t.count("{c}") != 1:
            raise BenchmarkError(f"template {t!r} needs exactly one placeholder '{{}}' for the class phrase, "
                                 "e.g. 'A picture of {}.'")
    return tuple(templates)


def fill_template(template: str, phrase: str) -> str:
    return template.replace("{c}", phrase) if "{c}" in template else template.replace("{}", phrase)


def caption_factor_names(option: CaptionFactors, varying: Sequence[str]) -> list[str] | None:
    return None if option is CaptionFactors.ALL else (list(varying) or None)


@dataclass
class SourceMetrics:
    """Every metric of one image source. Dicts are keyed by factor name, in schema order, all twenty factors."""

    n_samples: int
    varying: list[str]
    single_factor: dict[str, m.ZeroShot]
    class_phrases: dict[str, list[str]]
    multi_factor: m.ZeroShot
    image_equivariance: dict[str, tuple[m.Equivariance, m.Equivariance]]  # (measured, shuffled baseline)
    text_equivariance: dict[str, tuple[m.Equivariance, m.Equivariance]]
    domain_equivariance: dict[str, tuple[m.Equivariance, m.Equivariance]] = field(default_factory=dict)


def _single_value(rows: Sequence[Mapping[str, object]], name: str) -> str:
    return f"takes one value ({rows[0][name]!r}) in these samples" if rows else "no samples"


def compute_source_metrics(factor_rows: Sequence[Mapping[str, object]], image_emb: np.ndarray,
                           embed_texts: TextEmbedder, options: EvalOptions = EvalOptions()) -> SourceMetrics:
    """All within-source metrics for images whose complete factors are ``factor_rows`` (same order as the rows of
    ``image_emb``). ``embed_texts`` turns captions into embedding rows."""
    templates = check_templates(options.templates)
    img = m.l2_normalize(image_emb)
    varying = m.varying_factors(factor_rows)

    single: dict[str, m.ZeroShot] = {}
    phrases: dict[str, list[str]] = {}
    for name in FACTOR_NAMES:
        classes, labels = m.factor_labels(factor_rows, name)
        phrases[name] = [captions.class_phrase(name, v) for v in classes]
        if name not in varying:
            single[name] = m.ZeroShot(m.Status.SINGLE_VALUE, classes, n=len(labels),
                                      reason=_single_value(factor_rows, name))
            continue
        texts = [fill_template(t, p) for p in phrases[name] for t in templates]
        emb = np.asarray(embed_texts(texts)).reshape(len(classes), len(templates), -1)
        single[name] = m.zero_shot(img, m.template_ensemble(emb), labels, classes)

    names = caption_factor_names(options.caption_factors, varying)
    sample_captions = [captions.multi_caption(row, names) for row in factor_rows]
    distinct = list(dict.fromkeys(sample_captions))
    caption_emb = m.l2_normalize(np.asarray(embed_texts(distinct)))
    index = {c: i for i, c in enumerate(distinct)}
    multi_labels = np.array([index[c] for c in sample_captions], dtype=np.int64)
    multi = m.zero_shot(img, caption_emb, multi_labels, distinct)
    if multi.status is m.Status.SINGLE_VALUE:
        multi.reason = "every sample has the same caption: retrieval would be trivially right"
    multi.confusion = None  # one class per factor combination: too large to be useful in a report
    text_rows = caption_emb[multi_labels]

    image_eq: dict[str, tuple[m.Equivariance, m.Equivariance]] = {}
    text_eq: dict[str, tuple[m.Equivariance, m.Equivariance]] = {}
    for name in FACTOR_NAMES:
        if name not in varying:
            skip = m.Equivariance(m.Status.SINGLE_VALUE, reason=_single_value(factor_rows, name))
            image_eq[name] = text_eq[name] = (skip, skip)
            continue
        pairs = m.single_factor_pairs(factor_rows, name)
        shuffled_img, true_text = m.shuffled_text_pairs(pairs, options.seed)
        if shuffled_img:
            image_base = m.image_equivariance(img, shuffled_img)
            text_base = m.text_equivariance(img, text_rows, shuffled_img, true_text)
        else:
            image_base = text_base = m.Equivariance(
                m.Status.TOO_FEW_PAIRS if pairs else m.Status.NO_PAIRS,
                reason="no value change has two pairs to shuffle" if pairs else "no pairs to shuffle")
        image_eq[name] = (m.image_equivariance(img, pairs), image_base)
        text_eq[name] = (m.text_equivariance(img, text_rows, pairs), text_base)
    return SourceMetrics(len(factor_rows), varying, single, phrases, multi, image_eq, text_eq)


def domain_metrics(render_emb: np.ndarray, target_emb: np.ndarray, seed: int) -> tuple[m.Equivariance, m.Equivariance]:
    """3D-to-photo-real equivariance of aligned rows (same samples), and its shuffled-pair baseline."""
    r, t = m.l2_normalize(render_emb), m.l2_normalize(target_emb)
    return m.domain_equivariance(r, t), m.shuffled_domain_equivariance(r, t, seed)


@dataclass
class SourceEvaluation:
    """The result of one (model, dataset, source)."""

    model: ModelSpec
    model_key: str
    dataset: DatasetFolder
    source: str
    sample_ids: list[str]
    metrics: SourceMetrics
    options: EvalOptions
    cache: CacheStats
    n_truncated_captions: int = 0


def _ordered_sources(dataset: DatasetFolder, options: EvalOptions) -> list[str]:
    present = dataset.sources()
    if options.sources is None:
        return present
    missing = [s for s in options.sources if s not in present]
    if missing:
        raise BenchmarkError(f"source(s) {missing} not in {dataset.root}; it has: {', '.join(present) or 'none'}")
    return [s for s in present if s in options.sources]


def evaluate_model(dataset: DatasetFolder, encoder: ClipEncoder, options: EvalOptions = EvalOptions(),
                   progress: ProgressFactory | None = None) -> list[SourceEvaluation]:
    """Evaluate one model on every selected source of ``dataset``; embeddings come from (and go to) the cache."""
    check_templates(options.templates)
    sources = _ordered_sources(dataset, options)
    key = encoder.spec.key
    stats = CacheStats()

    used_texts: set[str] = set()

    def embed_texts(texts: Sequence[str]) -> np.ndarray:
        used_texts.update(texts)
        return text_embeddings(dataset.root, key, list(texts), encoder, stats)

    def embed_source(source: str) -> tuple[list[SampleRecord], np.ndarray]:
        samples = dataset.with_source(source)
        return samples, image_embeddings(dataset.root, key, source, samples, encoder, progress, stats)

    render: tuple[list[SampleRecord], np.ndarray] | None = None
    if RENDER in dataset.sources() and any(s != RENDER for s in sources):
        render = embed_source(RENDER)  # every diffusion source is also compared with its render
    results = []
    for source in sources:
        samples, emb = render if (source == RENDER and render is not None) else embed_source(source)
        used_texts.clear()
        source_metrics = compute_source_metrics([s.factors for s in samples], emb, embed_texts, options)
        if source != RENDER and render is not None:
            row_of = {s.id: i for i, s in enumerate(render[0])}
            both = [i for i, s in enumerate(samples) if s.id in row_of]
            aligned = render[1][[row_of[samples[i].id] for i in both]]
            source_metrics.domain_equivariance[f"{RENDER}->{source}"] = domain_metrics(aligned, emb[both], options.seed)
        results.append(SourceEvaluation(encoder.spec, key, dataset, source, [s.id for s in samples], source_metrics,
                                        options, stats, len(used_texts & stats.truncated_texts)))
    if PHOTOREAL_MODE not in dataset.sources():
        for r in results:  # say so explicitly rather than leaving the 3D-to-photo-real measure out silently
            r.metrics.domain_equivariance.setdefault(
                f"{RENDER}->{PHOTOREAL_MODE}",
                (m.Equivariance(m.Status.MISSING_SOURCE, reason=f"no sample has sd_{PHOTOREAL_MODE}.png"),) * 2)
    return results

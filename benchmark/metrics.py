"""The metric math: pure numpy on embeddings and factor tables (no model, no files), so tests check it directly.

Conventions (see docs/benchmark.md for the definitions):
- Embeddings are rows; zero-shot scores are cosine similarities (argmax over classes, ties to the first class).
- A "pair" is two samples whose factors differ in exactly one factor, oriented from the value that comes first in
  the factor's value order (a) to the later one (b). Its displacement is ``emb[b] - emb[a]``.
- Every result carries a ``status``; a metric that cannot be computed is ``None`` with a status and a reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ._core import FACTOR_BY_NAME, FACTOR_NAMES

EPS = 1e-12  # displacements shorter than this are degenerate (identical embeddings): no direction to compare


class Status(StrEnum):
    """Why a metric has (or lacks) a value."""

    OK = "ok"
    SINGLE_VALUE = "single_value"  # the factor takes one value in these samples: nothing to classify or change
    NO_PAIRS = "no_pairs"  # no two samples differ in this factor only
    TOO_FEW_PAIRS = "too_few_pairs"  # pairs exist, but no two share a value change (image equivariance needs two)
    DEGENERATE = "degenerate"  # every displacement is zero (identical images or captions)
    MISSING_SOURCE = "missing_source"  # the render or the photo-real image is absent for these samples


# ----------------------------------------------------------------------------------------------- basic vectors


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > EPS)


def template_ensemble(text_embeddings: np.ndarray) -> np.ndarray:
    """Class embeddings from (classes, templates, dim) caption embeddings: mean of the normalised ones, renormalised."""
    emb = np.asarray(text_embeddings, dtype=np.float64)
    if emb.ndim != 3:
        raise ValueError(f"expected (classes, templates, dim) embeddings, got shape {emb.shape}")
    return l2_normalize(l2_normalize(emb).mean(axis=1))


def ordered_values(factor_name: str, present: Sequence[object]) -> list[object]:
    """The distinct values in ``present``, in the factor's schema order (values outside it follow, sorted)."""
    distinct = list(dict.fromkeys(present))
    schema = list(FACTOR_BY_NAME[factor_name].values)
    known = [v for v in schema if v in distinct]
    extra = sorted((v for v in distinct if v not in schema), key=lambda v: (str(type(v)), v))
    return known + extra


# ------------------------------------------------------------------------------------------------- zero-shot


@dataclass
class ZeroShot:
    """Zero-shot classification of a set of images over ``classes``."""

    status: Status
    classes: list[object]
    acc1: float | None = None
    balanced_accuracy: float | None = None  # mean recall over the classes that occur (CLIP_benchmark's mpcr)
    confusion: np.ndarray | None = None  # rows: true class, columns: predicted class (counts)
    predictions: np.ndarray | None = None
    n: int = 0
    reason: str = ""


def zero_shot(image_emb: np.ndarray, class_emb: np.ndarray, labels: Sequence[int],
              classes: Sequence[object]) -> ZeroShot:
    """Top-1 accuracy, balanced accuracy and confusion of nearest-caption (cosine) classification."""
    labels = np.asarray(labels, dtype=np.int64)
    classes = list(classes)
    if len(classes) < 2:
        return ZeroShot(Status.SINGLE_VALUE, classes, n=len(labels),
                        reason="one class only: accuracy would be trivially 1")
    scores = l2_normalize(image_emb) @ l2_normalize(class_emb).T
    pred = np.argmax(scores, axis=1)
    k = len(classes)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    support = confusion.sum(axis=1)
    recalls = np.diag(confusion)[support > 0] / support[support > 0]
    return ZeroShot(Status.OK, classes, float(np.mean(pred == labels)), float(np.mean(recalls)), confusion, pred,
                    n=len(labels))


def factor_labels(factor_rows: Sequence[Mapping[str, object]], factor_name: str) -> tuple[list[object], np.ndarray]:
    """The classes (values present, in schema order) of one factor and each sample's class index."""
    values = [row[factor_name] for row in factor_rows]
    classes = ordered_values(factor_name, values)
    index = {v: i for i, v in enumerate(classes)}
    return classes, np.array([index[v] for v in values], dtype=np.int64)


def varying_factors(factor_rows: Sequence[Mapping[str, object]]) -> list[str]:
    """The factors that take more than one value among these samples, in schema order."""
    return [n for n in FACTOR_NAMES if len({row[n] for row in factor_rows}) > 1]


# ----------------------------------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class Pair:
    """Samples ``a`` and ``b`` (row indices) differ only in one factor, whose value changes from ``change[0]``
    (first in value order) at ``a`` to ``change[1]`` at ``b``."""

    a: int
    b: int
    change: tuple[object, object]


def single_factor_pairs(factor_rows: Sequence[Mapping[str, object]], factor_name: str) -> list[Pair]:
    """Every pair of samples that differ in ``factor_name`` and in no other factor."""
    order = {v: i for i, v in enumerate(ordered_values(factor_name, [r[factor_name] for r in factor_rows]))}
    others = [n for n in FACTOR_NAMES if n != factor_name]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(factor_rows):
        groups[tuple(row[n] for n in others)].append(i)
    pairs: list[Pair] = []
    for members in groups.values():
        members = sorted(members, key=lambda i: order[factor_rows[i][factor_name]])
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                vi, vj = factor_rows[i][factor_name], factor_rows[j][factor_name]
                if vi != vj:
                    pairs.append(Pair(i, j, (vi, vj)))
    return pairs


def shuffled_pairs(pairs: Sequence[Pair], seed: int) -> list[Pair]:
    """The shuffled-pair baseline: within each value change, every pair's ``b`` is taken from another pair.

    The partners move one step along a seeded random cycle (a derangement), so no pair keeps its own partner
    while the value change a -> b is kept; everything else about the two samples may now differ.
    Changes with a single pair cannot be shuffled and are dropped.
    """
    return shuffled_text_pairs(pairs, seed)[0]


def _group_by_change(pairs: Sequence[Pair]) -> dict[tuple[object, object], list[Pair]]:
    groups: dict[tuple[object, object], list[Pair]] = defaultdict(list)
    for p in pairs:
        groups[p.change].append(p)
    return dict(groups)


# ------------------------------------------------------------------------------------------------ equivariance


@dataclass
class Equivariance:
    """A mean cosine between displacements, with the counts it rests on."""

    status: Status
    mean_cosine: float | None = None
    n_pairs: int = 0  # sample pairs (displacements) used
    n_cosines: int = 0  # cosine terms averaged
    n_degenerate: int = 0  # zero-length displacements left out
    changes: dict[str, dict[str, float | int | None]] = field(default_factory=dict)  # per value change "a->b"
    reason: str = ""


def _mean_pairwise_cosine(unit: np.ndarray) -> tuple[float, int]:
    """Sum and count of cos(d_k, d_l) over k < l for unit rows, in O(n) memory: for unit vectors
    sum_{k<l} u_k . u_l = (|sum_k u_k|^2 - n) / 2, so no n x n Gram matrix is built (100k pairs stay cheap)."""
    n = len(unit)
    if n < 2:
        return 0.0, 0
    total = unit.sum(axis=0)
    return float((total @ total - np.einsum("ij,ij->", unit, unit)) / 2), n * (n - 1) // 2


def _unit_displacements(emb: np.ndarray, pairs: Sequence[Pair]) -> tuple[np.ndarray, int]:
    disp = np.array([emb[p.b] - emb[p.a] for p in pairs], dtype=np.float64).reshape(len(pairs), -1)
    keep = np.linalg.norm(disp, axis=1) > EPS
    return l2_normalize(disp[keep]), int((~keep).sum())


def change_label(change: tuple[object, object]) -> str:
    return f"{change[0]}->{change[1]}"


def image_equivariance(emb: np.ndarray, pairs: Sequence[Pair]) -> Equivariance:
    """Mean cosine between the displacements of two pairs with the same value change, over all such two pairs.

    Pooled: every (pair, pair) combination within a value change is one term, whatever the change.
    """
    if not pairs:
        return Equivariance(Status.NO_PAIRS, reason="no two samples differ in this factor only")
    total, count, degenerate = 0.0, 0, 0
    changes: dict[str, dict[str, float | int | None]] = {}
    for change, group in _group_by_change(pairs).items():
        unit, bad = _unit_displacements(emb, group)
        s, c = _mean_pairwise_cosine(unit)
        total, count, degenerate = total + s, count + c, degenerate + bad
        changes[change_label(change)] = {"mean_cosine": s / c if c else None, "n_pairs": len(group), "n_cosines": c}
    if count == 0:
        status = Status.DEGENERATE if degenerate == len(pairs) else Status.TOO_FEW_PAIRS
        reason = ("every displacement is zero" if status is Status.DEGENERATE
                  else "no value change has two pairs to compare")
        return Equivariance(status, None, len(pairs), 0, degenerate, changes, reason)
    return Equivariance(Status.OK, total / count, len(pairs), count, degenerate, changes)


def text_equivariance(image_emb: np.ndarray, text_emb: np.ndarray, pairs: Sequence[Pair],
                      text_pairs: Sequence[Pair] | None = None) -> Equivariance:
    """Mean over pairs of cos(image displacement, caption displacement); rows of ``text_emb`` are the samples'
    captions. ``text_pairs`` (same length) names the captions to use when they differ from the image pairs
    (the shuffled baseline keeps the true caption change)."""
    if not pairs:
        return Equivariance(Status.NO_PAIRS, reason="no two samples differ in this factor only")
    text_pairs = pairs if text_pairs is None else text_pairs
    terms: dict[tuple[object, object], list[float]] = defaultdict(list)
    degenerate = 0
    for p, t in zip(pairs, text_pairs, strict=True):
        di, dt = image_emb[p.b] - image_emb[p.a], text_emb[t.b] - text_emb[t.a]
        ni, nt = np.linalg.norm(di), np.linalg.norm(dt)
        if ni <= EPS or nt <= EPS:
            degenerate += 1
            continue
        terms[p.change].append(float(di @ dt / (ni * nt)))
    changes = {change_label(c): {"mean_cosine": float(np.mean(v)), "n_pairs": len(v), "n_cosines": len(v)}
               for c, v in terms.items()}
    values = [x for v in terms.values() for x in v]
    if not values:
        return Equivariance(Status.DEGENERATE, None, len(pairs), 0, degenerate, changes,
                            "every image or caption displacement is zero")
    return Equivariance(Status.OK, float(np.mean(values)), len(pairs), len(values), degenerate, changes)


def shuffled_text_pairs(pairs: Sequence[Pair], seed: int) -> tuple[list[Pair], list[Pair]]:
    """Shuffled image pairs and, aligned with them, the true pairs whose caption change each one is compared to."""
    rng = np.random.default_rng(seed)
    images: list[Pair] = []
    texts: list[Pair] = []
    for change, group in _group_by_change(pairs).items():
        if len(group) < 2:
            continue
        cycle = rng.permutation(len(group))
        for k in range(len(group)):
            src, dst = group[cycle[k]], group[cycle[(k + 1) % len(group)]]
            images.append(Pair(src.a, dst.b, change))
            texts.append(src)
    return images, texts


def domain_equivariance(source_emb: np.ndarray, target_emb: np.ndarray) -> Equivariance:
    """3D-to-photo-real equivariance: row s of both arrays is the same sample in the two sources; the mean cosine
    between the displacements ``target[s] - source[s]`` of every two distinct samples."""
    n = len(source_emb)
    if n < 2:
        return Equivariance(Status.TOO_FEW_PAIRS, n_pairs=n, reason="needs two samples with both images")
    disp = np.asarray(target_emb, np.float64) - np.asarray(source_emb, np.float64)
    keep = np.linalg.norm(disp, axis=1) > EPS
    s, c = _mean_pairwise_cosine(l2_normalize(disp[keep]))
    if c == 0:
        return Equivariance(Status.DEGENERATE, None, n, 0, int((~keep).sum()), reason="displacements are zero")
    return Equivariance(Status.OK, s / c, n, c, int((~keep).sum()))


def shuffled_domain_equivariance(source_emb: np.ndarray, target_emb: np.ndarray, seed: int) -> Equivariance:
    """The shuffled-pair baseline of ``domain_equivariance``: sample s's render is paired with the photo-real
    image of another sample (a seeded random derangement)."""
    n = len(source_emb)
    if n < 2:
        return Equivariance(Status.TOO_FEW_PAIRS, n_pairs=n, reason="needs two samples with both images")
    cycle = np.random.default_rng(seed).permutation(n)
    partner = np.empty(n, dtype=np.int64)
    partner[cycle] = np.roll(cycle, -1)
    return domain_equivariance(source_emb, np.asarray(target_emb)[partner])

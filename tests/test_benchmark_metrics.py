"""The metric math of benchmark.metrics against straightforward independent numpy computations and known values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from blurd.benchmark import metrics as m
from blurd.factors import FACTOR_BY_NAME, default_assignment


def table(sweep: dict[str, list], fixed: dict | None = None) -> list[dict]:
    names = list(sweep)
    rows = []
    for combo in itertools.product(*(sweep[n] for n in names)):
        row = default_assignment()
        row.update(fixed or {})
        row.update(dict(zip(names, combo)))
        rows.append(row)
    return rows


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


SWEEP = {"hair_color": ["red", "green", "blue"], "shirt_color": ["white", "black"], "race": ["asian", "african"]}


# ------------------------------------------------------------------------------------------------- zero-shot


def test_zero_shot_matches_an_independent_computation():
    rng = np.random.default_rng(1)
    images, classes = rng.normal(size=(40, 8)), rng.normal(size=(4, 8))
    labels = rng.integers(0, 4, size=40)
    labels[:4] = [0, 1, 2, 3]
    got = m.zero_shot(images, classes, labels, ["a", "b", "c", "d"])

    correct, confusion = 0, np.zeros((4, 4), int)
    for img, label in zip(images, labels):
        sims = [img @ c / (np.linalg.norm(img) * np.linalg.norm(c)) for c in classes]
        pred = int(np.argmax(sims))
        confusion[label, pred] += 1
        correct += pred == label
    recalls = [confusion[k, k] / confusion[k].sum() for k in range(4) if confusion[k].sum()]
    assert got.status is m.Status.OK
    assert got.acc1 == pytest.approx(correct / 40)
    assert got.balanced_accuracy == pytest.approx(np.mean(recalls))
    np.testing.assert_array_equal(got.confusion, confusion)


def test_balanced_accuracy_differs_from_accuracy_on_unbalanced_classes():
    # 3 images of class 0 all right, 1 image of class 1 wrong: accuracy 3/4, balanced (1 + 0) / 2
    classes = np.eye(2)
    images = np.array([[1, 0.1], [1, 0], [1, 0.2], [1, 0.5]])
    got = m.zero_shot(images, classes, [0, 0, 0, 1], ["x", "y"])
    assert got.acc1 == pytest.approx(0.75)
    assert got.balanced_accuracy == pytest.approx(0.5)


def test_one_class_is_reported_not_scored():
    got = m.zero_shot(np.ones((3, 4)), np.ones((1, 4)), [0, 0, 0], ["only"])
    assert got.status is m.Status.SINGLE_VALUE and got.acc1 is None and got.reason


def test_template_ensemble_is_the_renormalised_mean_of_normalised_embeddings():
    rng = np.random.default_rng(2)
    emb = rng.normal(size=(3, 5, 6)) * rng.uniform(0.5, 4, size=(3, 5, 1))
    got = m.template_ensemble(emb)
    for k in range(3):
        mean = np.mean([e / np.linalg.norm(e) for e in emb[k]], axis=0)
        np.testing.assert_allclose(got[k], mean / np.linalg.norm(mean))


def test_classes_follow_the_schema_order_and_only_varying_factors_count():
    rows = table(SWEEP)
    classes, labels = m.factor_labels(rows, "hair_color")
    assert classes == ["red", "green", "blue"]  # schema order, not order of appearance or alphabetical
    assert [classes[i] for i in labels] == [r["hair_color"] for r in rows]
    assert m.varying_factors(rows) == ["race", "hair_color", "shirt_color"]


# ----------------------------------------------------------------------------------------------------- pairs


def test_pairs_differ_in_exactly_one_factor_and_cover_every_such_pair():
    rows = table(SWEEP)
    pairs = m.single_factor_pairs(rows, "hair_color")
    expected = set()
    for i, j in itertools.permutations(range(len(rows)), 2):
        diff = [k for k in rows[i] if rows[i][k] != rows[j][k]]
        order = ["red", "green", "blue"]
        if diff == ["hair_color"] and order.index(rows[i]["hair_color"]) < order.index(rows[j]["hair_color"]):
            expected.add((i, j))
    assert {(p.a, p.b) for p in pairs} == expected
    assert len(pairs) == 4 * 3  # 4 contexts (shirt x race), 3 value pairs each
    assert all(p.change == (rows[p.a]["hair_color"], rows[p.b]["hair_color"]) for p in pairs)


def test_shuffled_pairs_keep_the_change_and_never_the_partner():
    rows = table(SWEEP)
    pairs = m.single_factor_pairs(rows, "hair_color")
    shuffled = m.shuffled_pairs(pairs, seed=3)
    assert shuffled == m.shuffled_pairs(pairs, seed=3)  # seeded
    true = {(p.a, p.b) for p in pairs}
    assert len(shuffled) == len(pairs)
    for p in shuffled:
        assert (p.a, p.b) not in true
        assert rows[p.a]["hair_color"] == p.change[0] and rows[p.b]["hair_color"] == p.change[1]
    # every sample keeps its role exactly once per change: a's unchanged, b's permuted
    assert sorted(p.a for p in shuffled) == sorted(p.a for p in pairs)
    assert sorted(p.b for p in shuffled) == sorted(p.b for p in pairs)


# ------------------------------------------------------------------------------------------------ equivariance


def independent_image_equivariance(emb, rows, factor):
    """Straight from the definition: over all sample pairs (i, j), (k, l) that differ only in ``factor`` with the
    same change a -> b, the mean of cos(e_j - e_i, e_l - e_k)."""
    order = list(dict.fromkeys(v for v in FACTOR_BY_NAME[factor].values if v in {r[factor] for r in rows}))
    pairs = []
    for i, j in itertools.permutations(range(len(rows)), 2):
        diff = [k for k in rows[i] if rows[i][k] != rows[j][k]]
        if diff == [factor] and order.index(rows[i][factor]) < order.index(rows[j][factor]):
            pairs.append((i, j, (rows[i][factor], rows[j][factor])))
    cosines = []
    for (i, j, c1), (k, q, c2) in itertools.combinations(pairs, 2):
        if c1 == c2:
            d1, d2 = emb[j] - emb[i], emb[q] - emb[k]
            cosines.append(d1 @ d2 / (np.linalg.norm(d1) * np.linalg.norm(d2)))
    return float(np.mean(cosines)), len(cosines), pairs


def test_image_equivariance_matches_an_independent_computation():
    rows = table(SWEEP)
    emb = np.random.default_rng(4).normal(size=(len(rows), 16))
    for factor in ("hair_color", "shirt_color", "race"):
        expected, n, _ = independent_image_equivariance(emb, rows, factor)
        got = m.image_equivariance(emb, m.single_factor_pairs(rows, factor))
        assert got.status is m.Status.OK
        assert got.mean_cosine == pytest.approx(expected)
        assert got.n_cosines == n


def test_identical_displacements_give_one_and_opposite_ones_minus_one():
    rows = table(SWEEP)
    rng = np.random.default_rng(5)
    context = {key: rng.normal(size=8) for key in itertools.product(SWEEP["shirt_color"], SWEEP["race"])}
    colour = {c: rng.normal(size=8) for c in SWEEP["hair_color"]}
    emb = np.array([context[(r["shirt_color"], r["race"])] + colour[r["hair_color"]] for r in rows])
    got = m.image_equivariance(emb, m.single_factor_pairs(rows, "hair_color"))
    assert got.mean_cosine == pytest.approx(1.0)
    # the caption displacement equals the image displacement -> text equivariance 1
    text = m.text_equivariance(emb, emb * 3.0, m.single_factor_pairs(rows, "hair_color"))
    assert text.mean_cosine == pytest.approx(1.0)
    assert m.text_equivariance(emb, -emb, m.single_factor_pairs(rows, "hair_color")).mean_cosine == pytest.approx(-1)


def test_a_constructed_embedding_set_gives_its_known_value():
    # two contexts (shirt white/black); hair red -> green moves by d1 in one and d2 in the other, 60 degrees apart
    rows = table({"hair_color": ["red", "green"], "shirt_color": ["white", "black"]})
    d1, d2 = np.array([1.0, 0, 0]), np.array([0.5, math.sqrt(3) / 2, 0])
    base = {"white": np.array([0, 0, 5.0]), "black": np.array([3.0, -2, 1])}
    emb = np.array([base[r["shirt_color"]] + (0 if r["hair_color"] == "red" else
                                                (d1 if r["shirt_color"] == "white" else 2 * d2)) for r in rows])
    got = m.image_equivariance(emb, m.single_factor_pairs(rows, "hair_color"))
    assert got.mean_cosine == pytest.approx(0.5)
    assert (got.n_pairs, got.n_cosines) == (2, 1)
    # caption displacement along x: cos with d1 is 1, with d2 is 0.5 -> mean 0.75
    text_emb = np.array([[0, 0, 0] if r["hair_color"] == "red" else [1, 0, 0] for r in rows], dtype=float)
    assert m.text_equivariance(emb, text_emb, m.single_factor_pairs(rows, "hair_color")).mean_cosine == \
        pytest.approx(0.75)


def test_text_equivariance_matches_an_independent_computation():
    rows = table(SWEEP)
    rng = np.random.default_rng(6)
    img, txt = rng.normal(size=(len(rows), 12)), rng.normal(size=(len(rows), 12))
    _, _, pairs = independent_image_equivariance(img, rows, "race")
    expected = np.mean([(img[j] - img[i]) @ (txt[j] - txt[i]) /
                        (np.linalg.norm(img[j] - img[i]) * np.linalg.norm(txt[j] - txt[i])) for i, j, _ in pairs])
    got = m.text_equivariance(img, txt, m.single_factor_pairs(rows, "race"))
    assert got.mean_cosine == pytest.approx(expected) and got.n_pairs == len(pairs)


def test_shuffled_baselines_use_the_shuffled_pairs():
    rows = table(SWEEP)
    rng = np.random.default_rng(7)
    img, txt = rng.normal(size=(len(rows), 12)), rng.normal(size=(len(rows), 12))
    pairs = m.single_factor_pairs(rows, "hair_color")
    shuffled_img, true_text = m.shuffled_text_pairs(pairs, seed=0)
    assert shuffled_img == m.shuffled_pairs(pairs, seed=0)
    expected = np.mean([(img[p.b] - img[p.a]) @ (txt[t.b] - txt[t.a]) /
                        (np.linalg.norm(img[p.b] - img[p.a]) * np.linalg.norm(txt[t.b] - txt[t.a]))
                        for p, t in zip(shuffled_img, true_text)])
    assert m.text_equivariance(img, txt, shuffled_img, true_text).mean_cosine == pytest.approx(expected)
    assert all(t in pairs and p.a == t.a and p.change == t.change for p, t in zip(shuffled_img, true_text))


def test_domain_equivariance_matches_an_independent_computation():
    rng = np.random.default_rng(8)
    render, photo = rng.normal(size=(6, 10)), rng.normal(size=(6, 10))
    d = photo - render
    expected = np.mean([d[s] @ d[t] / (np.linalg.norm(d[s]) * np.linalg.norm(d[t]))
                        for s, t in itertools.combinations(range(6), 2)])
    got = m.domain_equivariance(render, photo)
    assert got.mean_cosine == pytest.approx(expected) and got.n_cosines == 15
    # identical shifts are perfectly equivariant; the shuffled baseline pairs renders with other samples' photos
    assert m.domain_equivariance(render, render + 2.0).mean_cosine == pytest.approx(1.0)
    base = m.shuffled_domain_equivariance(render, render + 2.0, seed=1)
    assert base.status is m.Status.OK and base.mean_cosine < 0.99


def test_factors_without_pairs_are_reported_not_crashed():
    # a diagonal design: every two samples differ in both factors, so no pair differs in one only
    rows = [dict(default_assignment(), hair_color=h, shirt_color=s)
            for h, s in [("red", "white"), ("green", "black"), ("blue", "red")]]
    got = m.image_equivariance(np.eye(3), m.single_factor_pairs(rows, "hair_color"))
    assert got.status is m.Status.NO_PAIRS and got.mean_cosine is None and got.reason
    text = m.text_equivariance(np.eye(3), np.eye(3), [])
    assert text.status is m.Status.NO_PAIRS and text.mean_cosine is None


def test_a_single_pair_per_change_is_too_few_for_image_equivariance():
    rows = table({"hair_color": ["red", "green"]})
    got = m.image_equivariance(np.eye(2), m.single_factor_pairs(rows, "hair_color"))
    assert got.status is m.Status.TOO_FEW_PAIRS and got.mean_cosine is None and got.n_pairs == 1
    assert m.shuffled_pairs(m.single_factor_pairs(rows, "hair_color"), 0) == []


def test_identical_images_are_degenerate_not_nan():
    rows = table({"hair_color": ["red", "green"], "shirt_color": ["white", "black"]})
    got = m.image_equivariance(np.ones((4, 3)), m.single_factor_pairs(rows, "hair_color"))
    assert got.status is m.Status.DEGENERATE and got.mean_cosine is None and got.n_degenerate == 2
    assert m.domain_equivariance(np.ones((3, 2)), np.ones((3, 2))).status is m.Status.DEGENERATE

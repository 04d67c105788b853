"""The grid: counts with exclusion rules, seeded draws, stable order, shards that partition it exactly."""

import pytest

from blurd.factors import FACTORS, FactorError
from blurd.factors.grid import Grid, GridError, Rule, parse_shard, shard
from blurd.factors.ids import sample_id, sample_seed

HAIR_MALE = ["none", "buzzcut", "short_combed", "bald_top", "undercut"]
HAIR_FEMALE = ["bob_long", "afro_dreads"]


def blurd3d_like() -> Grid:
    return Grid(
        fixed={"camera_angle": 0},
        sweep={"gender": ["male", "female"], "hair_style": HAIR_MALE + HAIR_FEMALE,
               "beard_style": ["none", "full_beard"], "hair_color": ["red", "blue", "black"]},
        rules=[
            Rule(when={"gender": "female"}, allow={"beard_style": ["none"], "hair_style": HAIR_FEMALE}),
            Rule(when={"gender": "male"}, allow={"hair_style": HAIR_MALE}),
        ],
    )


def test_count_with_exclusions():
    grid = blurd3d_like()
    # male: 5 styles x 2 beards x 3 colours; female: 2 styles x 1 beard x 3 colours
    assert grid.count() == 5 * 2 * 3 + 2 * 1 * 3
    for s in grid:
        if s.factors["gender"] == "female":
            assert s.factors["beard_style"] == "none" and s.factors["hair_style"] in HAIR_FEMALE
        assert s.factors["camera_angle"] == 0


def test_deny_rule():
    grid = Grid(sweep={"hair_style": ["none", "buzzcut"], "hair_color": ["red", "blue"]},
                rules=[Rule(when={"hair_style": "none"}, deny={"hair_color": ["blue"]})])
    assert sorted((s.factors["hair_style"], s.factors["hair_color"]) for s in grid) == [
        ("buzzcut", "blue"), ("buzzcut", "red"), ("none", "red")]


def test_samples_are_complete_with_stable_ids_and_seeds():
    grid = Grid(sweep={"hair_color": ["red", "blue"]}, seed_salt=3, seed_from="sample")
    samples = list(grid)
    assert [s.index for s in samples] == [0, 1]
    for s in samples:
        assert len(s.factors) == len(FACTORS)
        assert s.id == sample_id(s.factors)
        assert s.seed == sample_seed(s.id, 3)
    assert [s.id for s in grid] == [s.id for s in samples]  # same order every time


def test_order_does_not_depend_on_how_the_sweep_is_written():
    a = Grid(sweep={"hair_color": ["red", "blue"], "gender": ["male", "female"]})
    b = Grid(sweep={"gender": ["male", "female"], "hair_color": ["red", "blue"]})
    assert [s.id for s in a] == [s.id for s in b]


def test_draw_n_samples_is_seeded_and_distinct():
    grid = Grid(sweep={"hair_color": list(FACTORS[5].values), "shirt_color": ["red", "blue", "green"]}, samples=7,
                seed=1)
    ids = [s.id for s in grid]
    assert len(ids) == len(set(ids)) == 7
    assert ids == [s.id for s in Grid(sweep=grid.sweep, samples=7, seed=1)]
    assert ids != [s.id for s in Grid(sweep=grid.sweep, samples=7, seed=2)]
    every = {s.id for s in Grid(sweep=grid.sweep)}
    assert set(ids) <= every


def test_draw_from_a_product_too_large_to_enumerate():
    grid = Grid(sweep={f.name: list(f.values) for f in FACTORS}, samples=20, seed=5,
                rules=[Rule(when={"gender": "female"}, allow={"beard_style": ["none"]})])
    samples = list(grid)
    assert len({s.id for s in samples}) == 20
    assert all(not (s.factors["gender"] == "female" and s.factors["beard_style"] != "none") for s in samples)
    assert [s.id for s in samples] == [s.id for s in grid]
    with pytest.raises(GridError, match="grid.samples"):
        Grid(sweep={f.name: list(f.values) for f in FACTORS}).count()


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_shards_partition_the_grid(n):
    grid = blurd3d_like()
    every = [s.id for s in grid]
    parts = [[s.id for s in grid.shard(i, n)] for i in range(n)]
    assert sorted(sum(parts, [])) == sorted(every)
    assert sum(len(p) for p in parts) == len(set(every))
    assert list(shard(iter(grid), 0, 1)) == list(grid)


def test_parse_shard():
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(GridError, match="shard"):
            parse_shard(bad)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sweep": {"hair_colour": ["red"]}}, "hair_colour"),
        ({"sweep": {"hair_color": ["pink"]}}, "pink"),
        ({"sweep": {"hair_color": []}}, "no values"),
        ({"sweep": {"hair_color": ["red", "red"]}}, "twice"),
        ({"fixed": {"hair_color": "red"}, "sweep": {"hair_color": ["blue"]}}, "both fixed and swept"),
        ({"sweep": {"hair_color": ["red"]}, "samples": 0}, "positive"),
        ({"rules": [{"when": {"gender": "female"}}]}, "allow"),
        ({"rules": [{"when": {"gender": "alien"}, "allow": {"beard_style": ["none"]}}]}, "alien"),
    ],
)
def test_bad_grids_are_rejected_before_work(kwargs, message):
    with pytest.raises((GridError, FactorError), match=message):
        Grid(**kwargs)


def test_empty_and_oversampled_grids():
    empty = Grid(sweep={"gender": ["female"]}, rules=[Rule(when={"gender": "female"}, deny={"gender": ["female"]})])
    with pytest.raises(GridError, match="empty"):
        empty.count()
    with pytest.raises(GridError, match="holds only 2"):
        Grid(sweep={"gender": ["male", "female"]}, samples=3).count()

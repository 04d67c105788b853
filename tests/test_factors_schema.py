"""The factor table: twenty factors with DESIGN.md's values, validation errors that list the valid choices."""

import json
from pathlib import Path

import pytest

from blurd.factors import FACTOR_BY_NAME, FACTORS, FactorError, FactorKind, validate_assignment
from blurd.factors.ids import canonical_json, sample_id, sample_seed
from blurd.factors.parts import PART_BY_NAME, PARTS, Label
from blurd.factors.schema import COLOURS

TEN = ["white", "black", "red", "orange", "yellow", "green", "cyan", "blue", "violet", "magenta"]
DESIGN_VALUES = {
    "age": [30, 70],
    "gender": ["male", "female"],
    "race": ["caucasian", "asian", "hispanic", "african"],
    "hair_style": ["none", "buzzcut", "short_combed", "bald_top", "undercut", "bob_long", "afro_dreads"],
    "beard_style": ["none", "full_beard"],
    "hair_color": TEN,
    "beard_color": TEN,
    "shirt_color": TEN,
    "tie_color": TEN,
    "eye_color": ["brown", "blue", "green"],
    "eyeshadow_color": ["none", *TEN],
    "eyeliner_color": ["none", *TEN],
    "lipstick_color": ["none", *TEN],
    "eyebrow_color": ["black", "brown", "blonde", "grey"] + [c for c in TEN if c != "black"],
    "world_background": ["studio", "daylight", "sunset", "indoor"],
    "world_rotation": [0, 45, 90],
    "camera_angle": [-30, -15, 0, 15, 30],
    "focal_length": [35, 50, 85],
    "light_strength": ["low", "medium", "high"],
    "light_warmth": [3200, 4500, 5600, 6500],
}


def test_twenty_factors_with_design_values():
    assert len(FACTORS) == 20
    assert {f.name: list(f.values) for f in FACTORS} == DESIGN_VALUES


def test_each_factor_is_complete():
    for f in FACTORS:
        assert f.label and f.description and f.kind in FactorKind
        assert f.default in f.values
        if f.kind is FactorKind.COLOUR:
            for v in f.values:
                rgb = f.rgb(v)
                assert (rgb is None) == (v == "none"), (f.name, v)
                assert rgb is None or all(0.0 <= c <= 1.0 for c in rgb)
            assert f.part in PART_BY_NAME, f"colour factor {f.name} must name the mask part it paints"
        if f.is_numeric:
            lo, hi = f.value_range
            assert all(lo <= v <= hi for v in f.values)


def test_colour_names_mean_distinct_rgb():
    assert len(set(COLOURS.values())) == 10
    assert FACTOR_BY_NAME["hair_color"].rgb("red") == COLOURS["red"]


def test_unknown_factor_lists_valid_factors():
    with pytest.raises(FactorError) as err:
        validate_assignment({"hair_colour": "red"})
    assert "hair_colour" in str(err.value) and "hair_color" in str(err.value)


def test_unknown_value_lists_valid_values():
    with pytest.raises(FactorError) as err:
        validate_assignment({"hair_color": "pink"})
    message = str(err.value)
    assert "'pink'" in message and "magenta" in message and "hair_color" in message


@pytest.mark.parametrize(
    "bad, words",
    [({"age": 200}, ["age", "18..90"]), ({"camera_angle": "left"}, ["camera_angle", "not a number"]),
     ({"focal_length": True}, ["focal_length"]), ({"gender": 1}, ["gender", "male"])],
)
def test_bad_numbers_and_types(bad, words):
    with pytest.raises(FactorError) as err:
        validate_assignment(bad)
    assert all(w in str(err.value) for w in words)


def test_every_problem_reported_at_once():
    with pytest.raises(FactorError) as err:
        validate_assignment({"hair_color": "pink", "race": "martian"})
    assert "pink" in str(err.value) and "martian" in str(err.value)


def test_canonical_values_make_ids_independent_of_spelling():
    a = sample_id({"age": "70", "hair_color": "Red ", "camera_angle": 15.0})
    b = sample_id({"age": 70, "hair_color": "red", "camera_angle": 15})
    assert a == b
    assert sample_id({}) == sample_id(validate_assignment({}, complete=True))
    assert json.loads(canonical_json({}))["focal_length"] == 50


def test_ids_and_seeds_match_checked_in_table():
    table = json.loads((Path(__file__).parent / "data" / "known_ids.json").read_text())
    for case in table["cases"]:
        sid = sample_id(case["factors"])
        assert sid == case["id"], case["factors"]
        assert sample_seed(sid) == case["seed"]
        assert sample_seed(sid, 7) == case["seed_salt_7"]
        assert 0 <= case["seed"] < 2**32


def test_parts_and_labels():
    assert [p.name for p in PARTS] == ["skin", "eyes", "eyebrows", "lips", "hair", "beard", "shirt", "tie",
                                       "background"]
    assert {p.name: int(p.label) for p in PARTS} == {"skin": 1, "eyes": 2, "eyebrows": 3, "lips": 4, "hair": 5,
                                                     "beard": 5, "shirt": 6, "tie": 6, "background": 0}
    assert [int(label) for label in Label] == list(range(7))
    indices = [p.pass_index for p in PARTS]
    assert len(set(indices)) == len(indices)

"""Prompt and caption text for known factor sets (the paper's templates)."""

import pytest

from blurd.factors import FACTORS, FactorError
from blurd.factors.captions import class_phrase, multi_caption, single_caption
from blurd.factors.prompt import NEGATIVE_PROMPT, build_negative_prompt, build_prompt

SUFFIX = "8k uhd, dslr, soft lighting, high quality, film grain, Fujifilm XT3"


def test_default_prompt_follows_paper_template():
    assert build_prompt({}) == (
        "RAW photo of a 30 y.o. Caucasian man with black short combed haircut, brown eyes, wearing a white shirt "
        f"and blue tie, background is a photo studio, {SUFFIX}"
    )


def test_prompt_for_woman_with_makeup():
    values = {"gender": "female", "age": 70, "race": "asian", "hair_style": "bob_long", "hair_color": "red",
              "lipstick_color": "red", "eyeshadow_color": "blue", "shirt_color": "green", "tie_color": "black",
              "world_background": "sunset"}
    assert build_prompt(values) == (
        "RAW photo of a 70 y.o. Asian woman with red long bob haircut, brown eyes, red lipstick and blue eyeshadow, "
        f"wearing a green shirt and black tie, background is the outdoors at sunset, {SUFFIX}"
    )


def test_prompt_bald_with_beard():
    text = build_prompt({"hair_style": "none", "beard_style": "full_beard", "beard_color": "white",
                         "race": "african"})
    assert text.startswith("RAW photo of a 30 y.o. African man with a bald head and a white full beard, brown eyes,")


def test_custom_templates():
    custom = "portrait, {hair_color} hair, {gender_noun}"
    assert build_prompt({"hair_color": "red"}, custom) == "portrait, red hair, man"
    with pytest.raises(FactorError, match=r"\{hair_colour\}"):
        build_prompt({}, "{hair_colour}")
    assert build_negative_prompt() == NEGATIVE_PROMPT
    assert build_negative_prompt("blurry") == "blurry"


@pytest.mark.parametrize(
    "factor, value, caption",
    [
        ("hair_color", "red", "A picture of a person with red hair."),
        ("age", 70, "A picture of a 70 year old person."),
        ("gender", "female", "A picture of a woman."),
        ("race", "asian", "A picture of an Asian person."),
        ("hair_style", "none", "A picture of a bald person."),
        ("hair_style", "undercut", "A picture of a person with an undercut."),
        ("beard_style", "full_beard", "A picture of a person with a full beard."),
        ("shirt_color", "blue", "A picture of a person wearing a blue shirt."),
        ("lipstick_color", "none", "A picture of a person without lipstick."),
        ("world_background", "studio", "A picture of a person in a photo studio."),
        ("camera_angle", -15, "A picture of a person photographed from 15 degrees to their right."),
        ("camera_angle", 0, "A picture of a person photographed from the front."),
        ("focal_length", 85, "A picture of a person photographed with an 85mm lens."),
        ("light_warmth", 3200, "A picture of a person in warm 3200 K light."),
    ],
)
def test_single_factor_captions(factor, value, caption):
    assert single_caption(factor, value) == caption


def test_class_phrases_are_distinct_per_factor():
    for f in FACTORS:
        phrases = [class_phrase(f.name, v) for v in f.values]
        assert len(set(phrases)) == len(phrases), f.name


def test_single_caption_template():
    assert single_caption("eye_color", "green", "a photo of {}, a type of person.") == (
        "a photo of a person with green eyes, a type of person."
    )


def test_multi_factor_caption():
    values = {"gender": "female", "age": 70, "race": "asian", "hair_style": "bob_long", "hair_color": "red",
              "shirt_color": "blue", "tie_color": "red", "world_background": "daylight"}
    names = ["age", "race", "gender", "hair_style", "hair_color", "beard_style", "shirt_color", "tie_color",
             "world_background"]
    assert multi_caption(values, names) == (
        "A picture of a 70 year old Asian woman with red long bob hair and no beard, wearing a blue shirt and a red "
        "tie, in the outdoors in daylight."
    )
    bearded = multi_caption({"beard_style": "full_beard", "beard_color": "white", "hair_style": "none"},
                            ["gender", "hair_style", "beard_style", "beard_color"])
    assert bearded == "A picture of a man with a bald head and a white full beard."


def test_multi_caption_of_all_factors_mentions_every_value():
    text = multi_caption({"eye_color": "green", "light_strength": "high", "camera_angle": 30})
    for word in ("green eyes", "bright", "30 degrees to their left", "50mm", "5600 K"):
        assert word in text


def test_multi_caption_rejects_unknown_factor():
    with pytest.raises(FactorError, match="hair_colour"):
        multi_caption({}, ["hair_colour"])

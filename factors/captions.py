"""Classification captions: one phrase per factor value ("a person with red hair") and the multi-factor caption.

Single-factor captions put the phrase into a template, the paper's "A picture of {}."; the multi-factor caption
describes a whole assignment ("A picture of a 70 year old Asian woman with red long bob hair, ...").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .phrases import (
    BACKGROUND_PLACE,
    GENDER_NOUN,
    HAIR_STYLE_WORDS,
    LIGHT_STRENGTH_WORD,
    RACE_ADJECTIVE,
    side_phrase,
    warmth_word,
    with_article,
)
from .schema import FACTOR_NAMES, Value
from .validate import canonical_value, validate_assignment

CAPTION_TEMPLATE = "A picture of {}."

_HAIR_STYLE_PHRASE = {
    "none": "a bald person",
    "buzzcut": "a person with a buzzcut",
    "short_combed": "a person with short combed hair",
    "bald_top": "a person who is bald on top",
    "undercut": "a person with an undercut",
    "bob_long": "a person with a long bob",
    "afro_dreads": "a person with afro dreadlocks",
}


def _makeup(word: str) -> Callable[[Value], str]:
    return lambda v: f"a person without {word}" if v == "none" else f"a person wearing {v} {word}"


_PHRASES: dict[str, Callable[[Value], str]] = {
    "age": lambda v: f"a {v} year old person",
    "gender": lambda v: with_article(GENDER_NOUN[str(v)]),
    "race": lambda v: f"{with_article(RACE_ADJECTIVE[str(v)])} person",
    "hair_style": lambda v: _HAIR_STYLE_PHRASE[str(v)],
    "beard_style": lambda v: "a person without a beard" if v == "none" else "a person with a full beard",
    "hair_color": lambda v: f"a person with {v} hair",
    "beard_color": lambda v: f"a person with a {v} beard",
    "eye_color": lambda v: f"a person with {v} eyes",
    "eyebrow_color": lambda v: f"a person with {v} eyebrows",
    "shirt_color": lambda v: f"a person wearing a {v} shirt",
    "tie_color": lambda v: f"a person wearing a {v} tie",
    "eyeshadow_color": _makeup("eyeshadow"),
    "eyeliner_color": _makeup("eyeliner"),
    "lipstick_color": _makeup("lipstick"),
    "world_background": lambda v: f"a person in {BACKGROUND_PLACE[str(v)]}",
    "world_rotation": lambda v: f"a person with the background turned {v} degrees",
    "camera_angle": lambda v: f"a person photographed {side_phrase(v)}",
    "focal_length": lambda v: f"a person photographed with {with_article(f'{v}mm')} lens",
    "light_strength": lambda v: f"a person in {LIGHT_STRENGTH_WORD[str(v)]} light",
    "light_warmth": lambda v: f"a person in {warmth_word(v)} {v} K light",
}
assert set(_PHRASES) == set(FACTOR_NAMES), "every factor needs a caption phrase"


def class_phrase(factor_name: str, value: Any) -> str:
    """The words naming one factor value as a class, e.g. ``class_phrase("hair_color", "red")``."""
    return _PHRASES[factor_name](canonical_value(factor_name, value))


def single_caption(factor_name: str, value: Any, template: str = CAPTION_TEMPLATE) -> str:
    """A single-factor zero-shot caption: ``template`` with the class phrase in its ``{}``."""
    return template.format(class_phrase(factor_name, value))


def _join_and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def multi_caption(values: Mapping[str, Any], factor_names: Iterable[str] | None = None) -> str:
    """A caption describing every factor in ``factor_names`` (default: all twenty) of one assignment."""
    v = validate_assignment(values, complete=True)
    names = set(FACTOR_NAMES if factor_names is None else factor_names)
    unknown = names - set(FACTOR_NAMES)
    if unknown:
        canonical_value(sorted(unknown)[0], None)  # raises the standard unknown-factor error

    person = []
    if "age" in names:
        person.append(f"{v['age']} year old")
    if "race" in names:
        person.append(RACE_ADJECTIVE[v["race"]])
    person.append(GENDER_NOUN[v["gender"]] if "gender" in names else "person")
    subject = with_article(" ".join(person))

    having: list[str] = []
    if {"hair_style", "hair_color"} & names:
        if "hair_style" in names and v["hair_style"] == "none":
            having.append("a bald head")
        else:
            style = HAIR_STYLE_WORDS[v["hair_style"]] if "hair_style" in names else ""
            colour = v["hair_color"] if "hair_color" in names else ""
            having.append(" ".join(w for w in (colour, style, "hair") if w))
    if "beard_style" in names and v["beard_style"] == "none":
        having.append("no beard")
    elif {"beard_style", "beard_color"} & names and v["beard_style"] != "none":
        colour = v["beard_color"] if "beard_color" in names else ""
        having.append(with_article(" ".join(w for w in (colour, "full beard") if w)))
    for name, noun in (("eye_color", "eyes"), ("eyebrow_color", "eyebrows")):
        if name in names:
            having.append(f"{v[name]} {noun}")
    makeup = (("eyeshadow_color", "eyeshadow"), ("eyeliner_color", "eyeliner"), ("lipstick_color", "lipstick"))
    for name, noun in makeup:
        if name in names:
            having.append(f"no {noun}" if v[name] == "none" else f"{v[name]} {noun}")

    wearing = [f"a {v[n]} {noun}" for n, noun in (("shirt_color", "shirt"), ("tie_color", "tie")) if n in names]

    setting: list[str] = []
    if "world_background" in names:
        setting.append(f"in {BACKGROUND_PLACE[v['world_background']]}")
    if "world_rotation" in names:
        setting.append(f"with the background turned {v['world_rotation']} degrees")
    shot = []
    if "camera_angle" in names:
        shot.append(side_phrase(v["camera_angle"]))
    if "focal_length" in names:
        shot.append(f"with {with_article(str(v['focal_length']) + 'mm')} lens")
    if shot:
        setting.append("photographed " + " ".join(shot))
    light = []
    if "light_strength" in names:
        light.append(LIGHT_STRENGTH_WORD[v["light_strength"]])
    if "light_warmth" in names:
        light.append(f"{warmth_word(v['light_warmth'])} {v['light_warmth']} K")
    if light:
        setting.append(f"in {' '.join(light)} light")

    text = f"A picture of {subject}"
    if having:
        text += " with " + _join_and(having)
    if wearing:
        text += ", wearing " + _join_and(wearing)
    if setting:
        text += ", " + ", ".join(setting)
    return text + "."

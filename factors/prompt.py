"""The generation prompt built from factors (the paper's template) and its negative prompt; both configurable.

A template is a ``str.format`` string. Its fields are every factor name (the raw canonical value, e.g.
``{hair_color}``) plus the phrases in ``PHRASE_FIELDS`` that read naturally in English (``{hair}``, ``{beard}``...).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from .errors import FactorError
from .phrases import BACKGROUND_PLACE, GENDER_NOUN, HAIR_STYLE_WORDS, RACE_ADJECTIVE
from .schema import FACTOR_NAMES
from .validate import validate_assignment

MAX_TEMPLATE_LENGTH = 2000  # characters; far beyond CLIP's 77 tokens, far below a runaway template
PROMPT_TEMPLATE = (
    "RAW photo of a {age} y.o. {race_word} {gender_noun} with {hair}{beard}, {eyes}{makeup}, "
    "wearing a {shirt_color} shirt and {tie_color} tie, background is {background}, "
    "8k uhd, dslr, soft lighting, high quality, film grain, Fujifilm XT3"
)
NEGATIVE_PROMPT = (
    "deformed iris, deformed pupils, semi-realistic, cgi, 3d, render, sketch, cartoon, drawing, anime, text, "
    "cropped, out of frame, worst quality, low quality, jpeg artifacts, ugly, duplicate, morbid, mutilated, "
    "poorly drawn face, mutation, deformed, blurry, bad anatomy, bad proportions, cloned face, disfigured, "
    "gross proportions, long neck"
)
PHRASE_FIELDS = ("race_word", "gender_noun", "hair", "beard", "eyes", "makeup", "background")
MAKEUP_FACTORS = (("lipstick_color", "lipstick"), ("eyeshadow_color", "eyeshadow"), ("eyeliner_color", "eyeliner"))


def _join_and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def prompt_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every field a template may use, for a (possibly partial) factor assignment; defaults fill the rest."""
    v = validate_assignment(values, complete=True)
    hair = (
        "a bald head"
        if v["hair_style"] == "none"
        else f"{v['hair_color']} {HAIR_STYLE_WORDS[v['hair_style']]} haircut"
    )
    beard = f" and a {v['beard_color']} full beard" if v["beard_style"] == "full_beard" else ""
    makeup = [f"{v[name]} {word}" for name, word in MAKEUP_FACTORS if v[name] != "none"]
    return {
        **v,
        "race_word": RACE_ADJECTIVE[v["race"]],
        "gender_noun": GENDER_NOUN[v["gender"]],
        "hair": hair,
        "beard": beard,
        "eyes": f"{v['eye_color']} eyes",
        "makeup": (", " + _join_and(makeup)) if makeup else "",
        "background": BACKGROUND_PLACE[v["world_background"]],
    }


def check_template(template: str, what: str = "prompt template") -> None:
    """Raise FactorError naming any field the template uses that does not exist, with the valid ones."""
    valid = set(FACTOR_NAMES) | set(PHRASE_FIELDS)
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise FactorError(f"{what} is {len(template)} characters long; keep it under {MAX_TEMPLATE_LENGTH} (CLIP reads "
                          f"77 tokens)")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise FactorError(f"{what} is not a valid format string ({exc}); write fields as {{hair_color}}") from None
    fields = {name for _, name, _, _ in parsed if name is not None}
    styled = [name for _, name, spec, conversion in parsed if name is not None and (spec or conversion)]
    if styled:  # "{hair_color:>30000000}" would build a 30 MB prompt per image
        raise FactorError(f"{what} formats field {{{styled[0]}}} with a conversion or format spec; write fields "
                          f"plainly, e.g. {{{styled[0].split('!')[0].split(':')[0]}}}")
    unknown = sorted(f for f in fields if f not in valid)
    if unknown:
        raise FactorError(
            f"{what} uses unknown field(s) {', '.join('{' + u + '}' for u in unknown)}; "
            f"valid fields are the factor names and {', '.join(PHRASE_FIELDS)}"
        )


def build_prompt(values: Mapping[str, Any], template: str | None = None) -> str:
    """The positive prompt for a factor assignment (the paper's template unless ``template`` is given)."""
    template = template or PROMPT_TEMPLATE
    check_template(template)
    return template.format_map(prompt_fields(values))


def build_negative_prompt(template: str | None = None) -> str:
    """The negative prompt; a custom one is used as given (it takes no factor fields)."""
    return NEGATIVE_PROMPT if template is None else template

"""How each factor value reads in English: the words shared by generation prompts and classification captions."""

from __future__ import annotations

import re

from .schema import Value

RACE_ADJECTIVE = {"caucasian": "Caucasian", "asian": "Asian", "hispanic": "Hispanic", "african": "African"}
GENDER_NOUN = {"male": "man", "female": "woman"}
HAIR_STYLE_WORDS = {
    "buzzcut": "buzzcut",
    "short_combed": "short combed",
    "bald_top": "balding",
    "undercut": "undercut",
    "bob_long": "long bob",
    "afro_dreads": "afro dreadlock",
}
BACKGROUND_PLACE = {
    "studio": "a photo studio",
    "daylight": "the outdoors in daylight",
    "sunset": "the outdoors at sunset",
    "indoor": "a warm indoor room",
}
LIGHT_STRENGTH_WORD = {"low": "dim", "medium": "moderate", "high": "bright"}


def article(word: str) -> str:
    """'a' or 'an' for the word that follows: by its first letter, or by how a number is spoken (an 85mm lens)."""
    w = word.lower()
    spoken_vowel = w[:1] in "aeiou" or w.startswith("8") or re.match(r"(11|18)(\D|$)", w) is not None
    return "an" if spoken_vowel else "a"


def with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def warmth_word(kelvin: Value) -> str:
    """Warm, neutral or cool for a colour temperature, as a photographer would say it."""
    k = float(kelvin)
    return "warm" if k < 4000 else ("cool" if k > 6000 else "neutral")


def side_phrase(degrees: Value) -> str:
    """Where the camera stands: 'from the front', or 'from 30 degrees to their left' (positive = subject's left)."""
    d = float(degrees)
    if d == 0:
        return "from the front"
    side = "left" if d > 0 else "right"
    return f"from {abs(d):g} degrees to their {side}"

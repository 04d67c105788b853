"""The pure core (factors/) as the diffusion package uses it: errors and prompt building."""

from __future__ import annotations

from ..factors import errors, prompt

BlurdError = errors.BlurdError
PresetError = errors.PresetError


def check_template(template: str, what: str) -> None:
    """Raise a BlurdError when a prompt template names fields factors.prompt does not fill."""
    prompt.check_template(template, what)


def build_prompts(factor_values: dict, prompt_template: str | None, negative_template: str | None) -> tuple[str, str]:
    """The positive and negative prompt for one sample's factors (factors.prompt owns the wording)."""
    return prompt.build_prompt(factor_values, prompt_template), prompt.build_negative_prompt(negative_template)


__all__ = ["BlurdError", "PresetError", "build_prompts", "check_template"]

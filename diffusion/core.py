"""The pure core (factors/) as the diffusion package sees it.

Inside the extension the core is the sibling package ``..factors``; the tests and the worker process put the
repository root on ``sys.path`` so that ``factors`` is top-level. Only this module knows about the two cases.
"""

from __future__ import annotations

try:
    from ..factors import errors, layout
except ImportError:  # imported as a top-level package: repository root on sys.path (tests, worker process)
    from factors import errors, layout  # type: ignore[no-redef]

BlurdError = errors.BlurdError
PresetError = errors.PresetError


def check_template(template: str, what: str) -> None:
    """Raise a BlurdError when a prompt template names fields factors.prompt does not fill."""
    try:
        from ..factors import prompt
    except ImportError:
        from factors import prompt  # type: ignore[no-redef]
    prompt.check_template(template, what)


def build_prompts(factor_values: dict, prompt_template: str | None, negative_template: str | None) -> tuple[str, str]:
    """The positive and negative prompt for one sample's factors (factors.prompt owns the wording)."""
    try:
        from ..factors import prompt
    except ImportError:
        from factors import prompt  # type: ignore[no-redef]
    return prompt.build_prompt(factor_values, prompt_template), prompt.build_negative_prompt(negative_template)


__all__ = ["BlurdError", "PresetError", "build_prompts", "check_template", "layout"]

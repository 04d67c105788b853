"""The [render] table the tests' tiny presets share: a small square image, few samples, no denoiser, one thread."""

from __future__ import annotations


def render_table(size: int = 32, samples: int = 1, palette_cells: int = 4) -> str:
    return (f"[render]\nresolution = [{size}, {size}]\nsamples = {samples}\ndenoise = false\nthreads = 1\n"
            f"palette_cells = {palette_cells}\n")

"""Strand hair of the built-in human: numpy growth (growth.py, no bpy) and its Blender objects and materials.

Grow once per identity and cache: ``grow(style, body, density, seed) -> Strands``; then
``make_hair_object(name, strands, hair_material(strands.part))``. Colour factors drive the materials through the
knobs in palette.KNOBS; hair needs the light paths in shading.LIGHT_PATHS.
"""

"""Blender operators and the factor PropertyGroup (bpy). Each module exposes ``classes``; see ../__init__.py."""

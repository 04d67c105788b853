"""Sidebar UI (bpy). Each module exposes ``classes``; registration is in ../__init__.py."""

"""Stable Diffusion stage: the worker process (torch + diffusers, never bpy) and its client (no torch).

Pure modules, importable anywhere: ``modes`` (the one table of modes), ``settings`` (DiffusionSettings),
``protocol`` (the JSON-lines wire format), ``errors`` and ``client`` (starts and talks to the worker).
The ``worker`` subpackage and ``random_models`` import torch and run only in the worker's Python.
"""

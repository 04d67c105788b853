"""The dataset layer: the one place that knows a BLURD dataset folder.

``layout`` (paths, the pass table), ``files`` (the atomic writer), ``record`` (sample.json as a dataclass and "is
this sample / this mode done"), ``manifest`` (append and repair), ``locks`` (who may write what), ``hygiene``
(temporary files of dead writers). Pure Python: no bpy, no torch, so Blender, the worker, the batch, the
benchmark and the exports all read and write datasets through it.
"""

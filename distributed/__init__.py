"""Run a preset on a Ray cluster: the same dataset as the local sweep, rendered, diffused and embedded in parallel.

``python -m blurd.distributed --preset P --out DIR [--address auto]``. ``cli`` reads the command line,
``cluster`` connects to Ray and sizes the worker pools from its resources, ``actors`` holds the long-lived
render, diffusion and embedding workers, ``pipeline`` streams samples through them and keeps the dataset's
guarantees (manifest, resume, retries), ``progress`` draws the bars and the summary. Ray is an optional extra
(requirements-ray.txt); importing this package does not import it.
"""

"""The diffusion worker: a plain Python process (torch + diffusers, never bpy) serving the JSON-lines protocol.

Run as ``python -m blurd.diffusion.worker`` by a Python that imports ``blurd`` (the client sees to it).
One action per module: ``generate``, ``info``; ``server`` reads requests and routes them; ``models`` checks and
loads the configured pipeline once; ``conditioning`` reads a sample folder; ``colour_adapter`` composes a
T2I-Adapter beside the ControlNets.
"""

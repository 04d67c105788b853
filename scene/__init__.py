"""bpy side of BLURD: the built-in human scene, factor bindings, render passes and the sweep engine."""

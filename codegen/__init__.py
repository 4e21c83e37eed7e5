"""Backends: espresso and ML Program bundle writers, .mlmodel/.mlpackage export, the Cython emitter."""

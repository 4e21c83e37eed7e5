"""Backends: espresso bundle writer, Cython emitter + build cache, runtime executor."""

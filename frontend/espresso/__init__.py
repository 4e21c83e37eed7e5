"""Reader for compiled NeuralNetwork `.mlmodelc` (espresso) bundles, at the data level.

`format` holds the facts; `bundle.read_bundle` reads every file of a bundle. The reader is
imported lazily so that the writers can use the facts without loading it.
"""

__all__ = ["EspressoBundle", "read_bundle"]


def __getattr__(name):
    if name in __all__:
        from mlir_coreml.frontend.espresso import bundle
        return getattr(bundle, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

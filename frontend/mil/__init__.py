"""Reader for `model.mil`, the text form of an ML Program inside a compiled `.mlmodelc`."""
from mlir_coreml.frontend.mil.text import MilProgram, parse_mil

__all__ = ["MilProgram", "parse_mil"]

"""Textual pipelines: parsing, typed options, suggestions for typos, formatting back."""
from dataclasses import dataclass

import pytest

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.passes.base import ModulePass
from mlir_coreml.passes.pipeline import format_pipeline, parse_pipeline
from mlir_coreml.passes.registry import all_pass_names, register_pass


@register_pass
@dataclass(frozen=True)
class OptionsDemo(ModulePass):
    name = "options-demo"
    skip: tuple[str, ...] = ()
    min_size: int = 16
    scale: float = 1.0
    aggressive: bool = False

    def run(self, module, ctx):
        pass


def test_generic_passes_are_registered():
    assert {"canonicalize", "cse", "dce", "constant-fold", "infer-shapes"} <= set(all_pass_names())


def test_options_are_converted_to_field_types():
    (p,) = parse_pipeline("options-demo{skip=softmax,relu min-size=8 scale=0.5 aggressive=true}")
    assert p == OptionsDemo(skip=("softmax", "relu"), min_size=8, scale=0.5, aggressive=True)


def test_pipeline_formats_back_to_text():
    text = "canonicalize,cse,options-demo{skip=softmax,relu min-size=8}"
    assert format_pipeline(parse_pipeline(text)) == text


@pytest.mark.parametrize("text, message", [
    ("canonicalise", "unknown pass 'canonicalise'; did you mean 'canonicalize'?"),
    ("options-demo{min-sise=3}", "has no option 'min-sise'; did you mean 'min-size'?"),
    ("options-demo{min-size=abc}", "'abc' is not a valid int"),
    ("cse,,dce", "malformed pipeline"),
])
def test_bad_pipelines_explain_themselves(text, message):
    with pytest.raises(MlirCoremlError, match=message.replace("?", r"\?").replace("(", r"\(")):
        parse_pipeline(text)


def test_empty_pipeline_has_no_passes():
    assert parse_pipeline("") == [] and parse_pipeline("  ") == []

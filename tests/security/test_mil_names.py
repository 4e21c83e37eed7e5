"""Threat: names crafted as code in an ML Program (docs/threat-model.md, "writing").

model.mil has no quoting for names, so a name that is not an identifier must be refused when
the bundle is written — never written as text that reads back as another program. Names come
from hypothesis; a written bundle must read back with the very same names.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlir_coreml
from mlir_coreml.codegen.mlprogram_bundle import write_mlprogram_bundle
from mlir_coreml.errors import MlirCoremlError

NAMES = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
                  st.sampled_from(["my input", "x) -> (y", 'a"b', "x;\n", "1abc", "a-b", "é", "x = add(x = y)"]),
                  st.text(min_size=1, max_size=10))


@pytest.fixture(scope="module")
def package(model_zoo):
    path, _, _ = model_zoo.get("layer_conv", "mlprogram_fp32")
    return path


def _main(module):
    return next(op for op in module.walk() if op.op_name == "func.func")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_input_names_are_written_exactly_or_refused(package, tmp_path_factory, name):
    module = mlir_coreml.load(package)
    arg = _main(module).body.args[0]
    arg.name = name
    out = tmp_path_factory.mktemp("named") / "m.mlmodelc"
    try:
        write_mlprogram_bundle(module, out)
    except MlirCoremlError as e:
        assert "\n" not in str(e) and "model.mil" in str(e)
        assert not out.exists()
        return
    again = mlir_coreml.load(out)
    assert _main(again).body.args[0].name == name

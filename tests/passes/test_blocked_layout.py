"""blocked-layout: the rewritten module computes what the NCHW one did (reference interpreter),
and the report names every region and Winograd decision (its FileCheck tests show the IR)."""
import json
import os

import pytest

from tests.passes.equivalence import assert_equivalent, ir_cases, parse

FOLDER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "filecheck", "core")
CASES = {name: ir_cases(os.path.join(FOLDER, name))[0] for name in ("blocked_layout.mlir",
                                                                    "blocked_layout_winograd.mlir")}


@pytest.mark.parametrize("options", ["", "{winograd=true}", "{depthwise=false pools=false}", "{min-convs=1}"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_blocked_module_computes_the_same(case, options):
    assert_equivalent(parse(CASES[case]), f"blocked-layout{options}", rtol=1e-4, atol=1e-4)


def test_report_lists_regions_and_winograd_decisions(tmp_path):
    from mlir_coreml.passes.manager import PassManager

    path = tmp_path / "blocked.json"
    PassManager.from_pipeline(f"blocked-layout{{report={path}}}").run(parse(CASES["blocked_layout_winograd.mlir"]))
    report = json.loads(path.read_text())
    assert [(r["first"], r["last"], r["convs"], r["converted"]) for r in report["regions"]] == \
        [("a", "b", 2, True), ("d", "e", 2, True), ("f", "narrow", 2, True)]
    decisions = {r["conv"]: r["blockable"] for r in report["winograd_convs"]}
    assert decisions == {"wide": False, "narrow": True}
    text_path = tmp_path / "blocked.txt"
    PassManager.from_pipeline(f"blocked-layout{{report={text_path}}}").run(parse(CASES["blocked_layout.mlir"]))
    text = text_path.read_text()
    assert "2 regions, 1 converted" in text and "NCHW (fewer than 2 convs)" in text

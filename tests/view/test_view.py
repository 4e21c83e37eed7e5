"""`view MODEL -o model.html`: one self-contained page whose SVG has a node per op (plus inputs
and outputs), node data with shapes, weights, locations and FLOPs, colours from a partition
report, fused groups and the profile; every model format opens. A headless Chromium renders
MobileNetV2 and the transformer without script errors."""
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

import mlir_coreml
from mlir_coreml.cli import main
from mlir_coreml.codegen.view import build_graph, parse_report, render_view, report_json
from mlir_coreml.codegen.view.report import Segment
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.opdef import ConstantLike
from tests.samples import BUNDLES

pytest.importorskip("networkx")


class Page(HTMLParser):
    """The parts of the page the tests look at."""

    def __init__(self, text):
        super().__init__()
        self.svgs, self.nodes, self.scripts, self.external, self.stack = [], [], {}, [], []
        self._script = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg":
            self.svgs.append(attrs)
        if tag == "g" and attrs.get("class") == "node":
            self.nodes.append((len(self.svgs) - 1, int(attrs["data-id"])))
        if attrs.get("src") or attrs.get("href") or tag in ("link", "iframe", "img"):
            self.external.append((tag, attrs))
        if tag == "script":
            self._script = attrs.get("id", "code")
            self.scripts[self._script] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script:
            self.scripts[self._script] += data


def _ops(module):
    fn = next(op for op in module.walk() if op.op_name == "func.func" and op.attributes["sym_name"].value == "main")
    return [op for op in fn.body.ops if not op.has_trait(ConstantLike) and op.op_name != "func.return"], fn


def check_page(text, module, panes=1):
    page = Page(text)
    assert len(page.svgs) == panes and not page.external and "http" not in text
    data = json.loads(page.scripts["graph-data"])
    json.loads(page.scripts["legend-data"])
    ops, fn = _ops(module)
    expected = len(ops) + len(fn.arguments) + len(fn.return_op.operands)
    assert len(data[-1]) == expected and sum(1 for p, _ in page.nodes if p == panes - 1) == expected
    records = [r for r in data[-1] if r["kind"] not in ("input", "output")]
    assert all(r["outputs"] and r["colours"]["kind"].startswith("#") for r in records)
    return page, data, records


@pytest.fixture(scope="module")
def mobilenet(model_zoo):
    return model_zoo.get("mobilenet_v2_small", "nn_fp16")[0]


@pytest.fixture(scope="module")
def transformer(model_zoo):
    return model_zoo.get("transformer_small", "mlprogram")[0]


def test_nodes_carry_shapes_weights_locations_and_flops(mobilenet):
    module = mlir_coreml.load(mobilenet)
    _, _, records = check_page(render_view(module, "mnv2"), module)
    convs = [r for r in records if "convolution" in r["kind"]]
    assert convs and all(r["location"] and r["weights"] for r in convs)
    assert {w["precision"] for r in convs for w in r["weights"]} == {"f16"}
    assert all(w["bytes"] > 0 for r in convs for w in r["weights"])
    lowered = mlir_coreml.compile_model(mobilenet).module
    _, _, records = check_page(render_view(lowered, "lowered"), lowered)
    assert sum(r["flops"] or 0 for r in records) > 1e6


def test_every_format_opens(tmp_path, mobilenet, transformer):
    compiled = mlir_coreml.compile_model(transformer)
    saved = compiled.save(tmp_path / "transformer.mlir")
    assert main(["lower", str(mobilenet), "-o", str(tmp_path / "ours.mlmodelc")]) == 0
    for path in [mobilenet, transformer, saved, tmp_path / "ours.mlmodelc", *BUNDLES[:1]]:
        out = tmp_path / "view.html"
        assert main(["view", str(path), "-o", str(out)]) == 0, path
        check_page(out.read_text(), mlir_coreml.load(str(path)))


def test_partition_report_colours_device_segments(tmp_path, mobilenet):
    module = mlir_coreml.load(mobilenet)
    ops, _ = _ops(module)
    names = [str(op.location) for op in ops]
    segments = [Segment(0, "ane", tuple(names[:5]), "convs on the ANE"), Segment(1, "cpu", tuple(names[5:7]))]
    report = tmp_path / "partition.json"
    report.write_text(report_json(segments))
    assert parse_report(json.loads(report.read_text())) == segments
    out = tmp_path / "view.html"
    assert main(["view", str(mobilenet), "--report", str(report), "-o", str(out)]) == 0
    text = out.read_text()
    assert '<option value="device" selected>' in text
    _, _, records = check_page(text, module)
    by_location = {r["location"]: r for r in records}
    assert by_location[names[0]]["device"] == "ane" and by_location[names[0]]["reason"] == "convs on the ANE"
    assert by_location[names[6]]["colours"]["device"] != by_location[names[0]]["colours"]["device"]
    assert "device" not in by_location[names[8]]


@pytest.mark.parametrize("report,message", [
    ('{"segments": [{"device": "tpu", "ops": []}]}', 'segments\\[0\\].*"device" must be one of'),
    ('{"segments": [{"device": "cpu", "ops": ["a"]}, {"device": "ane", "ops": ["a"]}]}', "'a' is in segments 0 and 1"),
    ("{not json", "not JSON"),
])
def test_bad_report_is_one_clear_error(tmp_path, mobilenet, capsys, report, message):
    path = tmp_path / "bad.json"
    path.write_text(report)
    out = tmp_path / "view.html"
    assert main(["view", str(mobilenet), "--report", str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.json" in err and re.search(message, err)
    assert not out.exists()


def test_profile_heat_and_fused_groups(tmp_path, mobilenet):
    out = tmp_path / "view.html"
    assert main(["view", str(mobilenet), "--profile", "-o", str(out)]) == 0
    text = out.read_text()
    page = Page(text)
    records = [r for r in json.loads(page.scripts["graph-data"])[0] if "share" in r]
    assert records and sum(r["share"] for r in records) == pytest.approx(1.0)
    assert {r["colours"]["profile"] for r in records} != {"#ffffff"}
    grouped = [r for r in json.loads(page.scripts["graph-data"])[0] if "group" in r]
    # fuse-epilogue folds the clip (relu6) after a conv into the conv's attributes: that conv
    # is its own fused group, and no clip op is left to draw (blocked-layout makes it a
    # conv2d_blocked on MobileNetV2's chain)
    assert any(r["kind"] in ("conv2d", "conv2d_blocked") and "clip" in json.dumps(r["attributes"])
               for r in grouped)
    assert len({r["group"] for r in grouped}) == len(grouped)


def test_before_after_shows_two_panes(tmp_path, mobilenet):
    out = tmp_path / "view.html"
    assert main(["view", str(mobilenet), "-p", "nn-to-core,canonicalize", "--before-after", "-o", str(out)]) == 0
    page = Page(out.read_text())
    data = json.loads(page.scripts["graph-data"])
    assert len(page.svgs) == 2 and data[0][1]["title"].startswith("nn.") and data[1][1]["title"].startswith("core.")


def test_layout_is_layered(mobilenet):
    graph = build_graph(mlir_coreml.load(mobilenet))
    position = {n.id: (n.x, n.y) for n in graph.nodes}
    assert all(position[a][1] < position[b][1] for a, b, _ in graph.edges)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (.ci/run installs it)")
@pytest.mark.parametrize("which", ["mobilenet", "transformer"])
def test_chromium_renders_without_script_errors(tmp_path, request, which):
    model = request.getfixturevalue(which)
    out, shot = tmp_path / "view.html", tmp_path / "view.png"
    assert main(["view", str(model), "--profile", "-o", str(out)]) == 0
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,800",
                           f"--screenshot={shot}", "--enable-logging=stderr", "--v=0", out.as_uri()],
                          capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert any("graph-view-ready" in line for line in console), done.stderr[-2000:]
    assert not [line for line in console if "Uncaught" in line or "Error" in line]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

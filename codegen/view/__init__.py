"""`view MODEL -o model.html`: the model's graph as one self-contained HTML page.

graph.py turns a function into positioned nodes (networkx layout), report.py defines the
partition report JSON, html.py draws the page. This module decides what each node is
coloured by: op kind, precision, device segment (from a report), fused group and measured
time share (both from the executor's schedule, given by the caller: codegen does not run models).
"""
from __future__ import annotations

from mlir_coreml.codegen.view.graph import Graph, build_graph
from mlir_coreml.codegen.view.html import (DEFAULT_COLOUR, DEVICE_COLOURS, KIND_FAMILIES, PALETTE,
                                           PRECISION_COLOURS, node_colours, render_html)
from mlir_coreml.codegen.view.report import Segment, load_report, parse_report, report_json
from mlir_coreml.errors import MlirCoremlError

KIND = dict(KIND_FAMILIES)
__all__ = ["Segment", "load_report", "parse_report", "report_json", "render_view", "build_graph"]


def _node_infos(graph: Graph, segments, times, groups) -> dict[int, dict]:
    by_location = {name: s for s in segments for name in s.ops}
    total = sum(times.values()) or 0.0
    shares = {op: t / total for op, t in times.items()} if total else {}
    max_share = max(shares.values(), default=0.0) or 1.0
    # an op a fused step absorbed has no time of its own: it shows its step's
    group_share = {groups[op]: share for op, share in shares.items() if op in groups}
    infos = {}
    for node in graph.nodes:
        info: dict = {"max_share": max_share}
        segment = by_location.get(node.location)
        if segment is not None:
            info.update(device=segment.device, segment=segment.id, reason=segment.reason)
        if node.op is not None and node.op in groups:
            info["group"] = groups[node.op]
        if node.op is not None and node.op in times:
            info.update(time_ms=times[node.op] * 1e3, share=shares.get(node.op, 0.0))
        elif info.get("group") in group_share:
            info["step_share"] = group_share[info["group"]]
        info["colours"] = node_colours(node, info)
        infos[node.id] = info
    return infos


def _legend(groups) -> dict[str, dict[str, str]]:
    return {
        "kind": {"conv": KIND["conv"], "linear / matmul": KIND["linear"], "pool": KIND["pool"],
                 "norm / softmax": KIND["norm"], "data movement": KIND["reshape"], "other": DEFAULT_COLOUR},
        "precision": dict(PRECISION_COLOURS, other="#d9d9d9"),
        "device": dict(DEVICE_COLOURS, unassigned="#f0f0f0"),
        "fusion": {f"group {k}": PALETTE[k % len(PALETTE)] for k in sorted(set(groups.values()))[:6]}
        | {"not fused": "#f0f0f0"},
        "profile": {"0%": "#ffffff", "max share": "#ff3737", "not timed": "#f0f0f0"},
    }


def _summary(graph: Graph, times) -> str:
    ops = [n for n in graph.nodes if n.op is not None]
    flops = sum(n.flops or 0 for n in ops)
    weight_bytes = sum(w["bytes"] for n in ops for w in n.weights)
    text = f"{len(ops)} ops, {flops / 1e9:.3f} GFLOP, weights {weight_bytes / 1e6:.2f} MB"
    if times:
        text += f", {sum(times.values()) * 1e3:.2f} ms per run (executor, 1 op at a time)"
    return text


def render_view(module, title: str, *, before=None, segments=(), times=None, groups=None) -> str:
    """The HTML page of `module` (and of `before`, side by side, when given)."""
    times, groups = times or {}, groups or {}
    try:
        graph = build_graph(module, "after" if before is not None else title)
        panes = [] if before is None else [build_graph(before, "before")]
    except ImportError as e:
        raise MlirCoremlError(f"the graph view needs {e.name}: pip install 'mlir_coreml[view]'") from None
    panes.append(graph)
    rendered = [(g, _node_infos(g, segments, times if g is graph else {}, groups if g is graph else {}))
                for g in panes]
    mode = "profile" if times else "device" if segments else "kind"
    return render_html(title, rendered, _legend(groups), _summary(graph, times), mode)


def view_model(path: str, *, pipeline: str | None = None, report: str | None = None, before_after: bool = False,
               profiler=None) -> str:
    """Load `path`, apply `pipeline`, and render it. `profiler(path, pipeline)` -> (module,
    op -> seconds, op -> fused group) supplies the compiled module and its measured times."""
    from mlir_coreml.frontend import load_model
    from mlir_coreml.passes.manager import PassManager

    module = load_model(path)
    before = module.clone() if before_after else None
    times = groups = None
    segments = load_report(report) if report else ()
    if profiler is not None:
        module, times, groups = profiler(path, pipeline)
    elif pipeline:
        PassManager.from_pipeline(pipeline).run(module)
    return render_view(module, path, before=before, segments=segments, times=times, groups=groups)

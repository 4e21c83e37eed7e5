"""A function of the IR as the graph view draws it: one node per op (constants become the
weights of the ops that read them), one per input and output, edges along SSA uses, and
positions from networkx (layers are the topological generations, laid out by
`multipartite_layout`)."""
from __future__ import annotations

from dataclasses import dataclass, field

from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.ir.types import TensorType

NODE_W, NODE_H = 190, 54   # px: a node box
ROW, COLUMN = 84, 220      # px between layers, between nodes of a layer
MAX_ATTR_TEXT = 160
F16_LIKE = ("f16", "bf16")


@dataclass
class Node:
    id: int
    kind: str                  # op name without dialect, "input" or "output"
    title: str                 # full op name / value name
    location: str = ""
    outputs: list[str] = field(default_factory=list)   # result types
    weights: list[dict] = field(default_factory=list)  # {name, type, precision, bytes}
    attributes: dict = field(default_factory=dict)
    flops: int | None = None
    precision: str = ""        # element type of the (first) result
    op: object = None          # the IR op (None for inputs/outputs)
    x: float = 0.0
    y: float = 0.0


@dataclass
class Graph:
    name: str
    nodes: list[Node]
    edges: list[tuple[int, int, str]]   # (from, to, value type)

    @property
    def width(self) -> float:
        return max((n.x for n in self.nodes), default=0) + NODE_W

    @property
    def height(self) -> float:
        return max((n.y for n in self.nodes), default=0) + NODE_H


def main_function(module):
    funcs = [op for op in module.walk() if op.op_name == "func.func" and op.regions and op.regions[0].blocks]
    named = [f for f in funcs if f.attributes["sym_name"].value == "main"]
    return (named or funcs or [None])[0]


def _bytes(t: TensorType) -> int:
    if not (isinstance(t, TensorType) and t.is_static):
        return 0
    return t.num_elements * (2 if str(t.element) in F16_LIKE else t.element.numpy_dtype.itemsize)


def _attr_text(attr) -> str:
    try:
        value = attr.value
    except NotImplementedError:
        value = attr
    text = str(value)
    return text if len(text) <= MAX_ATTR_TEXT else text[:MAX_ATTR_TEXT] + "..."


def _flops(op) -> int | None:
    estimate = getattr(op, "flops", None)
    if estimate is None:
        return None
    try:
        return int(estimate())
    except Exception:  # an estimate that needs static shapes the op does not have
        return None


def _op_node(index: int, op, producers: dict) -> Node:
    weights = []
    for i, value in enumerate(op.operands):
        owner = producers.get(value)
        if owner is not None and owner.has_trait(ConstantLike):
            weights.append({"name": value.name or f"operand {i}", "type": str(value.type),
                            "precision": str(getattr(value.type, "element", "")), "bytes": _bytes(value.type)})
    first = op.results[0].type if op.results else None
    return Node(index, op.op_name.split(".", 1)[-1], op.op_name,
                location=str(op.location) if op.location is not None else "",
                outputs=[str(r.type) for r in op.results], weights=weights,
                attributes={k: _attr_text(a) for k, a in op.attributes.items()},
                flops=_flops(op), precision=str(getattr(first, "element", "")), op=op)


def build_graph(module, name: str = "") -> Graph:
    """The graph of `module`'s main function, positioned."""
    fn = main_function(module)
    nodes, edges, source = [], [], {}
    if fn is None:
        return Graph(name, nodes, edges)
    for arg in fn.arguments:
        node = Node(len(nodes), "input", arg.name or f"input {len(nodes)}", outputs=[str(arg.type)],
                    precision=str(getattr(arg.type, "element", "")))
        nodes.append(node)
        source[arg] = node.id
    producers = {}
    for op in fn.body.ops:
        for r in op.results:
            producers[r] = op
        if op.has_trait(ConstantLike):
            continue
        if op.has_trait(Terminator):
            for i, value in enumerate(op.operands):
                out = Node(len(nodes), "output", value.name or f"output {i}", outputs=[str(value.type)],
                           precision=str(getattr(value.type, "element", "")))
                nodes.append(out)
                if value in source:
                    edges.append((source[value], out.id, str(value.type)))
            continue
        node = _op_node(len(nodes), op, producers)
        nodes.append(node)
        edges += [(source[v], node.id, str(v.type)) for v in op.operands if v in source]
        for r in op.results:
            source[r] = node.id
    graph = Graph(name, nodes, edges)
    place(graph)
    return graph


def place(graph: Graph) -> None:
    """Node positions: networkx's layered (multipartite) layout over topological generations,
    scaled to pixel spacing."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in graph.nodes)
    g.add_edges_from((a, b) for a, b, _ in graph.edges)
    for layer, ids in enumerate(nx.topological_generations(g)):
        for i in ids:
            g.nodes[i]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal")
    layers: dict[int, list[int]] = {}
    for i in g.nodes:
        layers.setdefault(g.nodes[i]["layer"], []).append(i)
    widest = max((len(ids) for ids in layers.values()), default=1)
    for layer, ids in layers.items():
        ids.sort(key=lambda i: pos[i][0])
        offset = (widest - len(ids)) * COLUMN / 2
        for rank, i in enumerate(ids):
            graph.nodes[i].x = offset + rank * COLUMN
            graph.nodes[i].y = layer * ROW

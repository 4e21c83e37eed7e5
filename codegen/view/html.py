"""The graph view as one self-contained HTML file: inline SVG per graph (two side by side for
--before-after), the node data as embedded JSON, and a small script for pan/zoom, search, the
colour mode and the side panel. Nothing is fetched at view time. A URL fragment such as
`#mode=profile&node=12` opens the page in that colour mode with that node selected."""
from __future__ import annotations

import html
import json

from mlir_coreml.codegen.view.graph import NODE_H, NODE_W, Graph, Node

PALETTE = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
           "#bc80bd", "#ccebc5", "#ffed6f", "#d9d9d9")
DEVICE_COLOURS = {"cpu": "#80b1d3", "gpu": "#b3de69", "ane": "#fdb462"}
PRECISION_COLOURS = {"f32": "#80b1d3", "f16": "#fdb462", "bf16": "#fb8072"}
KIND_FAMILIES = (("conv", "#80b1d3"), ("linear", "#bebada"), ("matmul", "#bebada"), ("inner", "#bebada"),
                 ("pool", "#8dd3c7"), ("norm", "#fccde5"), ("softmax", "#fccde5"), ("reshape", "#e5e5e5"),
                 ("transpose", "#e5e5e5"), ("concat", "#e5e5e5"), ("slice", "#e5e5e5"), ("input", "#ffffff"),
                 ("output", "#ffffff"))
NONE_COLOUR, DEFAULT_COLOUR = "#f0f0f0", "#ccebc5"
MODES = ("kind", "precision", "device", "fusion", "profile")


def heat(share: float) -> str:
    """White (no time) to red (the largest share), on a square-root scale so small ops show."""
    level = max(0.0, min(1.0, share)) ** 0.5
    g = int(255 - 200 * level)
    return f"#ff{g:02x}{g:02x}"


def _kind_colour(node: Node) -> str:
    return next((c for key, c in KIND_FAMILIES if key in node.kind), DEFAULT_COLOUR)


def node_colours(node: Node, info: dict) -> dict[str, str]:
    """One fill per colour mode."""
    precision = info.get("precision") or node.precision
    group = info.get("group")
    return {
        "kind": _kind_colour(node),
        "precision": PRECISION_COLOURS.get(precision, "#d9d9d9" if precision else NONE_COLOUR),
        "device": DEVICE_COLOURS.get(info.get("device"), NONE_COLOUR),
        "fusion": PALETTE[group % len(PALETTE)] if group is not None else NONE_COLOUR,
        "profile": heat(info.get("share", info.get("step_share", 0.0)) / info["max_share"])
        if "share" in info or "step_share" in info else NONE_COLOUR,
    }


def _label_lines(node: Node, info: dict) -> list[str]:
    lines = [node.kind if node.kind not in ("input", "output") else f"{node.kind} {node.title}"]
    if node.outputs:
        lines.append(node.outputs[0][:34])
    if node.weights:
        total = sum(w["bytes"] for w in node.weights)
        precisions = "/".join(sorted({w["precision"] for w in node.weights}))
        lines.append(f"weights {precisions} {_size(total)}")
    elif info.get("share") is not None:
        lines.append(f"{100 * info['share']:.1f}% of time")
    return lines[:3]


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def render_svg(graph: Graph, infos: dict[int, dict], pane: int) -> str:
    parts = [f'<svg class="graph" id="graph-{pane}" data-pane="{pane}" viewBox="-20 -20 {graph.width + 40:.0f} '
             f'{graph.height + 40:.0f}" preserveAspectRatio="xMidYMin meet"><g class="viewport">']
    by_id = {n.id: n for n in graph.nodes}
    for a, b, label in graph.edges:
        s, t = by_id[a], by_id[b]
        x1, y1, x2, y2 = s.x + NODE_W / 2, s.y + NODE_H, t.x + NODE_W / 2, t.y
        mid = (y1 + y2) / 2
        parts.append(f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} '
                     f'{x2:.0f},{y2:.0f}"><title>{html.escape(label)}</title></path>')
    for node in graph.nodes:
        info = infos[node.id]
        fill = info["colours"]["kind"]
        parts.append(f'<g class="node" data-id="{node.id}" transform="translate({node.x:.0f},{node.y:.0f})">'
                     f'<rect width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}"/>')
        for k, line in enumerate(_label_lines(node, info)):
            cls = "label" if k == 0 else "detail"
            parts.append(f'<text class="{cls}" x="8" y="{16 + k * 15}">{html.escape(line)}</text>')
        parts.append("</g>")
    parts.append("</g></svg>")
    return "".join(parts)


def node_record(node: Node, info: dict) -> dict:
    record = {"id": node.id, "kind": node.kind, "title": node.title, "location": node.location,
              "outputs": node.outputs, "weights": node.weights, "attributes": node.attributes,
              "flops": node.flops, "precision": node.precision, "colours": info["colours"]}
    for key in ("device", "segment", "reason", "group", "time_ms", "share", "step_share"):
        if info.get(key) is not None:
            record[key] = info[key]
    return record


def _embed(data) -> str:
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def render_html(title: str, panes: list[tuple[Graph, dict[int, dict]]], legend: dict[str, dict[str, str]],
                summary: str, mode: str = "kind") -> str:
    svgs = "".join(f'<section class="pane"><h2>{html.escape(g.name)}</h2>{render_svg(g, infos, i)}</section>'
                   for i, (g, infos) in enumerate(panes))
    data = [[node_record(n, infos[n.id]) for n in g.nodes] for g, infos in panes]
    options = "".join(f'<option value="{m}"{" selected" if m == mode else ""}>{m}</option>' for m in MODES)
    return (PAGE.replace("%TITLE%", html.escape(title)).replace("%SUMMARY%", html.escape(summary))
            .replace("%OPTIONS%", options).replace("%PANES%", svgs)
            .replace("%DATA%", _embed(data)).replace("%LEGEND%", _embed(legend)))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%TITLE%</title>
<style>
body{margin:0;font:13px system-ui,sans-serif;display:flex;flex-direction:column;height:100vh}
header{display:flex;gap:12px;align-items:center;padding:6px 10px;border-bottom:1px solid #ccc;background:#fafafa}
header h1{font-size:15px;margin:0}
#legend span{display:inline-block;margin-right:8px}
#legend i{display:inline-block;width:11px;height:11px;margin-right:3px;border:1px solid #999;vertical-align:middle}
main{flex:1;display:flex;min-height:0}
.pane{flex:1;display:flex;flex-direction:column;border-right:1px solid #ddd;min-width:0}
.pane h2{font-size:13px;margin:4px 8px}
svg.graph{flex:1;width:100%;cursor:grab;background:#fff}
.edge{fill:none;stroke:#999;stroke-width:1.3}
.node rect{stroke:#555;stroke-width:1}
.node{cursor:pointer}
.node.hit rect{stroke:#d00;stroke-width:3}
.node.dim{opacity:.3}
.node.selected rect{stroke:#00f;stroke-width:3}
text.label{font-weight:600;font-size:12px}
text.detail{font-size:10.5px;fill:#333}
aside{width:320px;overflow:auto;padding:8px;border-left:1px solid #ccc;background:#fcfcfc}
aside table{border-collapse:collapse;width:100%}
aside td{border-top:1px solid #eee;padding:2px 4px;vertical-align:top;word-break:break-all}
</style></head><body>
<header><h1>%TITLE%</h1>
<label>colour by <select id="mode">%OPTIONS%</select></label>
<input id="search" type="search" placeholder="search op, layer, type (Enter: next)">
<span id="legend"></span><span id="summary">%SUMMARY%</span></header>
<main>%PANES%<aside id="panel"><p>Click a node for its attributes, weights, source location and FLOPs.
Drag to pan, wheel to zoom.</p></aside></main>
<script type="application/json" id="graph-data">%DATA%</script>
<script type="application/json" id="legend-data">%LEGEND%</script>
<script>
(function(){
"use strict";
const data=JSON.parse(document.getElementById("graph-data").textContent);
const legend=JSON.parse(document.getElementById("legend-data").textContent);
const esc=s=>String(s).replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
const views=[];
document.querySelectorAll("svg.graph").forEach(svg=>{
  const vb=svg.getAttribute("viewBox").split(" ").map(Number);
  const v={svg,x:vb[0],y:vb[1],w:vb[2],h:vb[3],home:vb.slice()};
  const apply=()=>svg.setAttribute("viewBox",[v.x,v.y,v.w,v.h].join(" "));
  v.apply=apply;views.push(v);
  const box=svg.getBoundingClientRect();
  if(box.width>0&&box.height>0&&v.h>v.w*box.height/box.width){v.w=Math.max(v.w,900);v.h=v.w*box.height/box.width;apply();}
  let drag=null;
  svg.addEventListener("mousedown",e=>{drag={x:e.clientX,y:e.clientY};svg.style.cursor="grabbing";});
  window.addEventListener("mouseup",()=>{drag=null;svg.style.cursor="grab";});
  svg.addEventListener("mousemove",e=>{if(!drag)return;const r=svg.getBoundingClientRect();
    const s=Math.max(v.w/r.width,v.h/r.height);v.x-=(e.clientX-drag.x)*s;v.y-=(e.clientY-drag.y)*s;
    drag={x:e.clientX,y:e.clientY};apply();});
  svg.addEventListener("wheel",e=>{e.preventDefault();const r=svg.getBoundingClientRect();
    const f=e.deltaY>0?1.15:1/1.15;const px=v.x+(e.clientX-r.left)/r.width*v.w,py=v.y+(e.clientY-r.top)/r.height*v.h;
    v.w*=f;v.h*=f;v.x=px-(px-v.x)*f;v.y=py-(py-v.y)*f;apply();},{passive:false});
  svg.querySelectorAll("g.node").forEach(g=>g.addEventListener("click",e=>{e.stopPropagation();
    select(+svg.dataset.pane,+g.dataset.id);}));
});
function row(k,v){return "<tr><td>"+esc(k)+"</td><td>"+esc(v)+"</td></tr>";}
function select(pane,id){
  document.querySelectorAll("g.node.selected").forEach(g=>g.classList.remove("selected"));
  const g=document.querySelector('#graph-'+pane+' g.node[data-id="'+id+'"]');if(g)g.classList.add("selected");
  const n=data[pane][id];let h="<h3>"+esc(n.title)+"</h3><table>";
  h+=row("source location",n.location||"-");
  n.outputs.forEach((t,i)=>{h+=row("result "+i,t);});
  h+=row("FLOPs",n.flops==null?"-":n.flops.toLocaleString());
  if(n.device)h+=row("device",n.device+" (segment "+n.segment+")"+(n.reason?": "+n.reason:""));
  if(n.group!=null)h+=row("fused group",n.group);
  if(n.time_ms!=null)h+=row("time",n.time_ms.toFixed(3)+" ms ("+(100*n.share).toFixed(1)+"%)");
  else if(n.step_share!=null)h+=row("time","in its fused step ("+(100*n.step_share).toFixed(1)+"%)");
  n.weights.forEach(w=>{h+=row("weight "+w.name,w.type+", "+w.precision+", "+w.bytes.toLocaleString()+" bytes");});
  Object.keys(n.attributes).forEach(k=>{h+=row(k,n.attributes[k]);});
  document.getElementById("panel").innerHTML=h+"</table>";
}
function recolour(mode){
  document.querySelectorAll("svg.graph").forEach(svg=>{const nodes=data[+svg.dataset.pane];
    svg.querySelectorAll("g.node").forEach(g=>{g.querySelector("rect").setAttribute("fill",nodes[+g.dataset.id].colours[mode]);});});
  const l=legend[mode]||{};
  document.getElementById("legend").innerHTML=Object.keys(l).map(k=>'<span><i style="background:'+l[k]+'"></i>'+esc(k)+"</span>").join("");
}
const mode=document.getElementById("mode");
mode.addEventListener("change",()=>recolour(mode.value));
let hits=[],at=-1;
const search=document.getElementById("search");
search.addEventListener("input",()=>{const q=search.value.trim().toLowerCase();hits=[];at=-1;
  document.querySelectorAll("svg.graph").forEach(svg=>{const nodes=data[+svg.dataset.pane];
    svg.querySelectorAll("g.node").forEach(g=>{const n=nodes[+g.dataset.id];
      const text=(n.kind+" "+n.title+" "+n.location+" "+n.outputs.join(" ")).toLowerCase();
      const hit=q!==""&&text.indexOf(q)>=0;g.classList.toggle("hit",hit);g.classList.toggle("dim",q!==""&&!hit);
      if(hit)hits.push([+svg.dataset.pane,g]);});});});
search.addEventListener("keydown",e=>{if(e.key!=="Enter"||!hits.length)return;at=(at+1)%hits.length;
  const [pane,g]=hits[at];const v=views[pane];const t=g.transform.baseVal.consolidate().matrix;
  v.x=t.e-v.w/2;v.y=t.f-v.h/3;v.apply();select(pane,+g.dataset.id);});
const hash=new URLSearchParams(location.hash.slice(1));
if(hash.get("mode")){mode.value=hash.get("mode");}
recolour(mode.value);
if(hash.get("node")!==null){select(+(hash.get("pane")||data.length-1),+hash.get("node"));}
window.graphViewReady=true;console.log("graph-view-ready");
})();
</script></body></html>
"""

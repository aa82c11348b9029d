"""The derivation graph as a picture: DOT text, and SVG/PNG through graphviz's ``dot`` program.

Criteria that hold are green with a solid border and ✓; those that do not are red, dashed, ✗.
Edges run from a criterion to the conditions below it; their colour says whether that
condition did its part (green solid), failed it (red dashed), or was an any-of branch nobody
needed (grey dotted). Case facts are blue notes at the bottom; a legend sits by the decision.
"""
from __future__ import annotations

import html
import textwrap
from pathlib import Path

import graphviz

from spinekb.explain.graph import Edge, Explanation, Node
from spinekb.explain.model import StudyExplanation
from spinekb.explain.picture import picture_dot

GRAPH_FORMATS = ("dot", "svg", "png")
WRAP = 40
FONT = "DejaVu Sans"
INSTALL_HINT = ("the graphviz 'dot' program is not installed; install it with "
                "`apt-get install graphviz` (Debian package graphviz)")

GREEN, RED, GREY, BLUE = "#2e7d32", "#c62828", "#9e9e9e", "#3f6fb5"
FILL = {True: "#e8f5e9", False: "#fdecea", None: "#eef3fb"}
EDGE_STYLE = {
    "satisfied": {"color": GREEN, "style": "solid", "penwidth": "1.6"},
    "unsatisfied": {"color": RED, "style": "dashed", "penwidth": "1.6"},
    "not_needed": {"color": GREY, "style": "dotted", "penwidth": "1.2"},
    "info": {"color": BLUE, "style": "solid", "penwidth": "0.8"},
}


class GraphvizMissing(RuntimeError):
    """``dot`` is not installed; the DOT text was written to ``dot_path`` instead."""

    def __init__(self, dot_path: Path) -> None:
        super().__init__(f"{INSTALL_HINT}; wrote the graph as DOT to {dot_path}")
        self.dot_path = dot_path


def _lines(text: str) -> str:
    """Text wrapped at :data:`WRAP` characters, as HTML-label lines."""
    return "<BR/>".join(html.escape(line) for line in textwrap.wrap(text, WRAP)) if text else ""


def _mark(node: Node) -> str:
    """✓ or ✗ for a criterion, nothing for a fact."""
    return "" if node.met is None else ("✓ " if node.met else "✗ ")


def _label(node: Node, extra: tuple[str, ...] = ()) -> str:
    """An HTML-like label: bold mark and title, the wrapped text, small notes."""
    title = html.escape(_mark(node) + node.title)
    parts = [f"<B>{title}</B>"] if node.kind != "fact" else []
    if node.kind == "decision":
        parts = [f'<B><FONT POINT-SIZE="16">{title}</FONT></B>',
                 f'<B><FONT POINT-SIZE="16">{html.escape(node.text)}</FONT></B>']
        parts += [f'<FONT POINT-SIZE="9">{html.escape(n)}</FONT>' for n in node.notes]
        return f"<{'<BR/>'.join(parts)}>"
    if node.text:
        parts.append(_lines(node.text))
    for note in (*node.notes, *extra):
        parts.append(f'<FONT POINT-SIZE="9"><I>{_lines(note)}</I></FONT>')
    return f"<{'<BR/>'.join(parts)}>"


def _node_attrs(node: Node) -> dict[str, str]:
    """Shape and colours: green solid when a criterion holds, red dashed when not, blue facts."""
    if node.kind == "fact":
        return {"shape": "note", "style": "filled", "fillcolor": FILL[None], "color": BLUE,
                "fontsize": "10"}
    if node.kind == "alternative":
        return {"shape": "box", "style": "rounded,filled,dotted", "fillcolor": "#e3f2fd",
                "color": BLUE, "penwidth": "1.5"}
    color = GREEN if node.met else RED
    style = "rounded,filled" + ("" if node.met else ",dashed")
    attrs = {"shape": "box", "style": style, "fillcolor": FILL[bool(node.met)], "color": color,
             "penwidth": "1.5"}
    if node.kind == "pathway":
        attrs.update(penwidth="3", style=style + ",bold")
    if node.kind == "decision":
        attrs.update(penwidth="3", shape="box", margin="0.2,0.1")
    return attrs


def _legend() -> str:
    """The legend as one HTML table: node colours and edge styles."""
    def row(sample: str, words: str) -> str:
        return f"<TR>{sample}<TD ALIGN=\"LEFT\">{words}</TD></TR>"

    def box(fill: str, border: str, mark: str) -> str:
        return f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="2"><FONT COLOR="{border}">{mark}</FONT></TD>'

    def line(color: str, glyph: str) -> str:
        return f'<TD BORDER="0"><FONT COLOR="{color}"><B>{glyph}</B></FONT></TD>'

    rows = [
        '<TR><TD COLSPAN="2" BORDER="0"><B>Legend</B></TD></TR>',
        row(box(FILL[True], GREEN, "✓"), "criterion / pathway holds (green, solid)"),
        row(box(FILL[False], RED, "✗"), "does not hold (red, dashed)"),
        row(box(FILL[None], BLUE, "fact"), "case fact a leaf rule reads"),
        row(line(GREEN, "━━━"), "condition satisfied its parent"),
        row(line(RED, "╍╍╍"), "condition failed its parent"),
        row(line(GREY, "┈┈┈"), "any-of branch not needed"),
        row(line(BLUE, "───"), "reads fact / statement"),
        row('<TD BORDER="0"><B>bold</B></TD>', "pathway (approval route)"),
    ]
    return f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="3" COLOR="{GREY}">{"".join(rows)}</TABLE>>'


def build_digraph(explanation: Explanation, full: bool = False) -> graphviz.Digraph:
    """The explanation as a ``graphviz.Digraph`` (nothing rendered yet).

    Unless ``full``, a denial draws :meth:`Explanation.focused`: every candidate pathway and
    its conditions, unfolded to the case facts for the closest pathway(s) only.
    """
    x = explanation if full else explanation.focused()
    graph = graphviz.Digraph("explanation", graph_attr={
        "rankdir": "LR", "fontname": FONT, "nodesep": "0.25", "ranksep": "0.45",
        "labelloc": "t", "fontsize": "13",
        "label": f"Why CPT {x.cpt} was {x.decision} for case {x.case_id}",
    }, node_attr={"fontname": FONT, "fontsize": "11"}, edge_attr={"fontname": FONT, "fontsize": "9"})
    ids = {key: f"n{i}" for i, key in enumerate(x.nodes)}
    for key, node in x.nodes.items():
        extra: tuple[str, ...] = ()
        if key in x.cut:
            extra = ("its conditions are in the text explanation (or draw with --full)",)
        elif x.folded(key):
            extra = ("its conditions are not needed to explain",)
        graph.node(ids[key], _label(node, extra), **_node_attrs(node))
    for edge in x.edges:
        graph.edge(ids[edge.parent], ids[edge.child], **_edge_attrs(edge))
    with graph.subgraph(name="top") as top:
        top.attr(rank="source")
        top.node("legend", _legend(), shape="plaintext")
        top.node(ids[x.root])
    facts = [ids[k] for k, n in x.nodes.items() if n.kind == "fact"]
    if facts:
        with graph.subgraph(name="facts") as bottom:
            bottom.attr(rank="sink")
            for fact in facts:
                bottom.node(fact)
    return graph


def _edge_attrs(edge: Edge) -> dict[str, str]:
    """Colour and dash by whether the child did its part; the arrow points to the parent."""
    attrs = dict(EDGE_STYLE[edge.state])
    attrs["dir"] = "back"  # the arrow points up: the child feeds its parent
    if edge.relation != "reads":
        attrs["label"] = f" {edge.relation}"
        attrs["fontcolor"] = attrs["color"]
    return attrs


def render_dot(explanation: Explanation | StudyExplanation, full: bool = False) -> str:
    """The explanation as DOT text: a structured explanation's focused picture
    (:mod:`spinekb.explain.picture`), or with ``full`` its whole derivation graph; a derivation
    graph alone as :func:`build_digraph` draws it."""
    if isinstance(explanation, StudyExplanation):
        if not full:
            return picture_dot(explanation).source
        explanation = explanation.graph
    return build_digraph(explanation, full).source


def write_graph(explanation: Explanation | StudyExplanation, fmt: str, path: str | Path, full: bool = False) -> Path:
    """Write the graph as ``dot``, ``svg`` or ``png`` to ``path``; returns the path written.

    Without graphviz's ``dot`` program, writes the DOT text next to ``path`` (``.dot`` suffix)
    and raises :class:`GraphvizMissing`.
    """
    if fmt not in GRAPH_FORMATS:
        raise ValueError(f"unknown graph format {fmt!r} (choose {', '.join(GRAPH_FORMATS)})")
    path = Path(path)
    source = render_dot(explanation, full)
    if fmt == "dot":
        path.write_text(source, encoding="utf-8")
        return path
    try:
        picture = graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(source, encoding="utf-8")
        raise GraphvizMissing(dot_path) from None
    path.write_bytes(picture)
    return path

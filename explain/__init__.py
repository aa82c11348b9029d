"""Why was a study approved or denied: solver output -> one derivation graph -> text/DOT/SVG/PNG.

    >>> from spinekb.explain import explain_study, render_text, tracing_engine, write_graph
    >>> explanation = explain_study(tracing_engine(), case, "72148")  # doctest: +SKIP
    >>> print(render_text(explanation))                           # doctest: +SKIP
    >>> write_graph(explanation, "png", "why.png")                # doctest: +SKIP

The graph is built once (:mod:`spinekb.explain.build`) from the solver's atoms and the KB's
static structure; every rendering reads that one object, so text and picture cannot disagree.
"""
from __future__ import annotations

from spinekb.explain.build import UnknownStudy, explain_result, explain_study, tracing_engine
from spinekb.explain.dot import GRAPH_FORMATS, GraphvizMissing, render_dot, write_graph
from spinekb.explain.graph import Alternative, Edge, Explanation, Need, Node, Option
from spinekb.explain.output import FORMATS, render, write_explanation
from spinekb.explain.text import render_text

__all__ = [
    "Alternative", "Edge", "Explanation", "FORMATS", "GRAPH_FORMATS", "GraphvizMissing", "Need", "Node",
    "Option", "UnknownStudy", "explain_result", "explain_study", "render", "render_dot", "render_text",
    "tracing_engine", "write_explanation", "write_graph",
]

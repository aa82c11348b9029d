"""Why was a study approved or denied, and what would change it: one structured explanation,
rendered as text, as a graph (DOT, SVG, PNG) and as JSON.

    >>> from spinekb.explain import explain_study, render_text, tracing_engine, write_graph
    >>> explanation = explain_study(tracing_engine(), case, "72148")  # doctest: +SKIP
    >>> print(render_text(explanation))                           # the answer first
    >>> explanation.denial_kind, explanation.what_if[0].says      # doctest: +SKIP
    >>> explanation.to_json()                                     # spinekb schema --explanation
    >>> write_graph(explanation, "png", "why.png")                # doctest: +SKIP

Stable API (the CLI, the HTTP service and FHIR/CDS Hooks callers use these names):

- :func:`explain_study` (engine, case, cpt) and :func:`explain_decided` (a case already decided)
  return a :class:`StudyExplanation`: ``answer`` (the deciding reasons of the decision record,
  with the case facts read), ``denial_kind``, ``what_if`` (the smallest edit sets, computed by
  clingo), ``documentation_needed`` (questions), ``instead``, ``pathways`` (every candidate,
  condition by condition); :func:`explanation_schema` is its JSON Schema.
- :func:`render_text`, :func:`render_dot`, :func:`write_graph`, :func:`write_explanation` render it.
- :func:`explain_result` builds the derivation graph alone (:class:`Explanation`).

The derivation graph is built once (:mod:`spinekb.explain.build`) from the solver's atoms and the
KB's static structure; the structured explanation keeps it, so text and picture cannot disagree.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from spinekb.kb.lazy import lazy_names

if TYPE_CHECKING:
    from spinekb.explain.build import UnknownStudy, explain_result, tracing_engine
    from spinekb.explain.dot import GRAPH_FORMATS, GraphvizMissing, render_dot, write_graph
    from spinekb.explain.graph import Alternative, Edge, Explanation, Need, Node, Option
    from spinekb.explain.model import StudyExplanation, explanation_schema
    from spinekb.explain.output import FORMATS, render, write_explanation
    from spinekb.explain.study import explain_decided, explain_study, whatif_solver
    from spinekb.explain.text import render_text

#: Where each public name lives: imported on first use, so that a command pays only for what it uses.
_HOME: dict[str, str] = {
    "UnknownStudy": "spinekb.explain.build",
    "explain_result": "spinekb.explain.build",
    "tracing_engine": "spinekb.explain.build",
    "GRAPH_FORMATS": "spinekb.explain.dot",
    "GraphvizMissing": "spinekb.explain.dot",
    "render_dot": "spinekb.explain.dot",
    "write_graph": "spinekb.explain.dot",
    "Alternative": "spinekb.explain.graph",
    "Edge": "spinekb.explain.graph",
    "Explanation": "spinekb.explain.graph",
    "Need": "spinekb.explain.graph",
    "Node": "spinekb.explain.graph",
    "Option": "spinekb.explain.graph",
    "StudyExplanation": "spinekb.explain.model",
    "explanation_schema": "spinekb.explain.model",
    "FORMATS": "spinekb.explain.output",
    "render": "spinekb.explain.output",
    "write_explanation": "spinekb.explain.output",
    "explain_decided": "spinekb.explain.study",
    "explain_study": "spinekb.explain.study",
    "whatif_solver": "spinekb.explain.study",
    "render_text": "spinekb.explain.text",
}

__all__ = [
    "Alternative", "Edge", "Explanation", "FORMATS", "GRAPH_FORMATS", "GraphvizMissing", "Need", "Node",
    "Option", "StudyExplanation", "UnknownStudy", "explain_decided", "explain_result", "explain_study",
    "explanation_schema", "render", "render_dot", "render_text", "tracing_engine", "whatif_solver",
    "write_explanation", "write_graph",
]


__getattr__ = lazy_names(__name__, _HOME)

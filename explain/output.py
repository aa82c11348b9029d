"""Write explanations in every format people and programs read (decisions:
:mod:`spinekb.explain.decisions`).

Explanations (``spinekb explain``): text, JSON (``spinekb schema --explanation``), DOT, SVG or PNG,
all rendered from one :class:`~spinekb.explain.model.StudyExplanation`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Union


from spinekb.explain.dot import GRAPH_FORMATS, render_dot, write_graph
from spinekb.explain.graph import Explanation
from spinekb.explain.model import StudyExplanation
from spinekb.explain.text import render_text

FORMATS = ("text", "json", *GRAPH_FORMATS)
AnyExplanation = Union[StudyExplanation, Explanation]


def render_json(explanations: Union[StudyExplanation, list[StudyExplanation]]) -> str:
    """One explanation as a JSON object, several as an array (the shape of ``spinekb schema --explanation``)."""
    if isinstance(explanations, list):
        return json.dumps([x.to_json() for x in explanations], indent=2, ensure_ascii=False) + "\n"
    return json.dumps(explanations.to_json(), indent=2, ensure_ascii=False) + "\n"


def render(explanation: AnyExplanation, fmt: str, full: bool = False, detail: bool = False,
           what_if: bool = False) -> str:
    """The explanation as ``text``, ``json`` or ``dot`` source (pictures are bytes: use
    :func:`write_explanation`)."""
    if fmt == "text":
        return render_text(explanation, detail=detail, what_if=what_if)
    if fmt == "json":
        if not isinstance(explanation, StudyExplanation):
            raise ValueError("JSON is written from a StudyExplanation (explain_study)")
        return render_json(explanation)
    if fmt == "dot":
        return render_dot(explanation, full)
    raise ValueError(f"{fmt} is a picture format: write it to a file")


def write_explanation(explanation: AnyExplanation, fmt: str, path: str | Path, full: bool = False,
                      detail: bool = False, what_if: bool = False) -> Path:
    """Write the explanation to ``path`` as ``text``, ``json``, ``dot``, ``svg`` or ``png``; returns the path.

    Pictures need graphviz's ``dot`` program: without it the DOT text is written beside
    ``path`` and :class:`spinekb.explain.dot.GraphvizMissing` is raised.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    path = Path(path)
    if fmt in ("text", "json"):
        path.write_text(render(explanation, fmt, full, detail, what_if), encoding="utf-8")
        return path
    return write_graph(explanation, fmt, path, full)


class PictureUnavailable(RuntimeError):
    """graphviz's ``dot`` program is not installed: no SVG or PNG can be drawn."""


def render_picture(explanation: Explanation, fmt: str = "svg", full: bool = False) -> bytes:
    """The derivation graph drawn in memory as ``svg`` or ``png`` bytes (for the HTTP service).

    Raises :class:`PictureUnavailable` when graphviz's ``dot`` program is missing.
    """
    import graphviz

    if fmt not in ("svg", "png"):
        raise ValueError(f"unknown picture format {fmt!r} (choose svg or png)")
    try:
        return graphviz.Source(render_dot(explanation, full)).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise PictureUnavailable("the graphviz 'dot' program is not installed (Debian package graphviz)") from None


def explanation_data(explanation: Explanation) -> dict[str, object]:
    """The explanation as plain JSON data: decision, closest pathways, what the case would need,
    alternatives, the whole graph (nodes and edges), and the text rendering."""
    from dataclasses import asdict

    data = asdict(explanation)
    data["nodes"] = list(data["nodes"].values())
    data.pop("cut", None)
    data["text"] = render_text(explanation)
    return data

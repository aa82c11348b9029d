"""Write an explanation in any of its formats: text, DOT, SVG or PNG."""
from __future__ import annotations

from pathlib import Path

from spinekb.explain.dot import GRAPH_FORMATS, render_dot, write_graph
from spinekb.explain.graph import Explanation
from spinekb.explain.text import render_text

FORMATS = ("text", *GRAPH_FORMATS)


def render(explanation: Explanation, fmt: str, full: bool = False) -> str:
    """The explanation as ``text`` or ``dot`` source (pictures are bytes: use :func:`write_explanation`)."""
    if fmt == "text":
        return render_text(explanation)
    if fmt == "dot":
        return render_dot(explanation, full)
    raise ValueError(f"{fmt} is a picture format: write it to a file")


def write_explanation(explanation: Explanation, fmt: str, path: str | Path, full: bool = False) -> Path:
    """Write the explanation to ``path`` as ``text``, ``dot``, ``svg`` or ``png``; returns the path.

    Pictures need graphviz's ``dot`` program: without it the DOT text is written beside
    ``path`` and :class:`spinekb.explain.dot.GraphvizMissing` is raised.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    path = Path(path)
    if fmt == "text":
        path.write_text(render_text(explanation), encoding="utf-8")
        return path
    return write_graph(explanation, fmt, path, full)

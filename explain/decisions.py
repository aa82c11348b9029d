"""Write decisions (``spinekb evaluate``) as people and programs read them: ``text`` (a summary
per case), ``json``, ``jsonl``. Kept apart from the explanations' renderers (graphviz and the
explanation model), which a batch does not need to import."""
from __future__ import annotations

from spinekb.bridge.batch import Outcome, Rendered, Renderer, as_json, as_json_line
from spinekb.bridge.records import CaseError
from spinekb.explain.summary import summary_text

DECISION_FORMATS = ("text", "json", "jsonl")


def as_summary(outcome: Outcome) -> Rendered:
    """An outcome as the text summary people read (nothing for a rejected input: its error line says it)."""
    if isinstance(outcome, CaseError):
        return Rendered("", outcome.line())
    return Rendered(summary_text(outcome.record, outcome.source) + "\n")


def decision_renderer(fmt: str) -> Renderer:
    """The renderer of decision format ``fmt`` (picklable: batch workers render)."""
    return {"text": as_summary, "json": as_json, "jsonl": as_json_line}[fmt]

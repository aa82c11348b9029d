"""The web explorer's page (``spinekb serve``, at ``/``): a case in, each study's decision, the
answer in words, what would change it, and the focused derivation graph (SVG, zoom and pan), all
server-rendered from the same explanation the command line prints.

    >>> html = explorer_page(["denied-no-trial"], "", [])   # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from spinekb.explain.model import StudyExplanation
from spinekb.explain.output import PictureUnavailable, render_picture
from spinekb.explain.pages import page_environment, stylesheet
from spinekb.explain.text import render_text
from spinekb.kb import GUIDELINE


@dataclass(frozen=True)
class StudyView:
    """One requested study as the explorer shows it."""

    cpt: str
    description: str
    decision: str
    text: str
    svg: Markup | None
    note: str = ""
    detail: str = ""


def study_view(explanation: StudyExplanation) -> StudyView:
    """The explorer's view of one explained study: the answer and every smallest what-if in words,
    the pathways condition by condition, and (if graphviz is there) the focused graph."""
    try:
        picture = render_picture(explanation, "svg").decode("utf-8")  # type: ignore[arg-type]
        svg: Markup | None = Markup(picture[picture.find("<svg"):])
        note = ""
    except PictureUnavailable as problem:
        svg, note = None, str(problem)
    answer = render_text(explanation, what_if=True)
    detail = render_text(explanation, detail=True)
    return StudyView(explanation.cpt, explanation.description, explanation.decision, answer, svg, note,
                     detail[len(answer):] if detail.startswith(answer) else detail)


def explorer_page(examples: list[str], case_text: str, studies: list[StudyView], error: str = "",
                  chosen: str = "", version: str = "") -> str:
    """The whole page: the form (examples, paste, upload) and the studies decided."""
    return page_environment().get_template("explorer.html.j2").render(
        css=Markup(stylesheet()), guideline=GUIDELINE, examples=examples, case_text=case_text,
        studies=studies, error=error, chosen=chosen, version=version)

"""What every HTML page of spinekb shares: the Jinja2 environment over ``explain/templates/``
(autoescaping on: guideline words, case ids and KB text can never become markup) and the one
stylesheet, embedded in each page so that it opens offline.

    >>> page_environment().get_template("report.html.j2").name
    'report.html.j2'
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


@cache
def page_environment() -> jinja2.Environment:
    """The template environment (built once per process)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def stylesheet() -> str:
    """The pages' CSS (``templates/page.css``)."""
    return (TEMPLATES / "page.css").read_text(encoding="utf-8")

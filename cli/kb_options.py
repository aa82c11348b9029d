"""``--kb DIR`` and ``--kb-ref GIT_REF``: which knowledge base a command runs on."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from spinekb.kb.knowledge import KbUnavailable, KnowledgeBase

F = TypeVar("F", bound=Callable[..., Any])


def kb_options(function: F) -> F:
    """Add ``--kb`` and ``--kb-ref`` to a command (passed as ``kb_dir`` and ``kb_ref``)."""
    function = click.option(
        "--kb-ref", "kb_ref", metavar="GIT_REF", default=None,
        help="Use kb/ as it was at this git revision of the repository (git archive).")(function)
    function = click.option(
        "--kb", "kb_dir", metavar="DIR", type=click.Path(file_okay=False), default=None,
        help="Use another KB: a folder of .lp files in the same shape as kb/ [default: the installed KB].")(function)
    return function


def chosen_kb(kb_dir: str | None, kb_ref: str | None) -> KnowledgeBase:
    """The KB named by ``--kb`` / ``--kb-ref``; exits 2 with one line when it cannot be read."""
    try:
        knowledge = KnowledgeBase.choose(kb_dir, kb_ref)
        knowledge.static  # noqa: B018 - parse and ground it now, so a broken KB fails here, in one line
    except KbUnavailable as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    return knowledge

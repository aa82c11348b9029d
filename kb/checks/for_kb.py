"""``spinekb check --kb DIR`` / ``--kb-ref REF``: the same checks over another KB.

The check program (``kb/checks/checks.lp``) is the installed one: today's checks hold any KB,
an old revision included. What the guideline text declares (``checks/checks_text.lp``) is the
KB's own when it has one, else the installed one::

    >>> from spinekb.kb.knowledge import KnowledgeBase
    >>> issues = check_kb(KnowledgeBase.installed())   # doctest: +SKIP
"""
from __future__ import annotations

from spinekb.kb.checks import Issue, run_checks
from spinekb.kb.guidetext import read_guideline
from spinekb.kb.knowledge import KnowledgeBase


def check_kb(knowledge: KnowledgeBase) -> list[Issue]:
    """Every issue of ``knowledge``, in report order (RuntimeError if it does not parse or ground)."""
    if knowledge.is_installed:
        return run_checks()
    declared = knowledge.companion("checks/checks_text.lp")
    return run_checks([*knowledge.files, declared], read_guideline(), knowledge.dir)

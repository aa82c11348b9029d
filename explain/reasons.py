"""Reasons in words: the one place that turns a typed :class:`~spinekb.bridge.records.Reason`
into the line a person reads (``spinekb evaluate``'s text, and the YAML tests' ``reasons_contain``)::

    >>> from spinekb.bridge.records import Reason
    >>> reason_lines([Reason(kind="referral", section="SP-6.1", criterion="sp6_1_plexopathy",
    ...                      target="PN-5", text="See ...")])
    ['SP-6.1 sp6_1_plexopathy: see PN-5: See ...']
"""
from __future__ import annotations

from collections.abc import Iterable

from spinekb.kb.static import static_kb
from spinekb.bridge.records import Reason


def _pathway_section(reason: Reason) -> str:
    return static_kb().section_of(reason.pathway) if reason.pathway else (reason.section or "?")


def reason_line(reason: Reason) -> str:
    """One reason as a line: section, criterion, what it does, the guideline's words."""
    head = f"{reason.section} {reason.criterion}"
    if reason.kind == "met":
        return f"{head}: every condition is met: {reason.text}"
    if reason.kind == "unmet":
        return f"{_pathway_section(reason)} {reason.pathway}: not met: {reason.criterion}: {reason.text}"
    if reason.kind == "excluded":
        return f"{head}: rules this study out: {reason.text}"
    if reason.kind == "not_indicated":
        return f"{head}: not indicated: {reason.text}"
    if reason.kind == "referral":
        return f"{head}: see {reason.target}: {reason.text}"
    if reason.kind == "alternative":
        return f"instead, CPT {reason.target} would be supported by {reason.pathway} ({reason.section})"
    if reason.kind == "conflict":
        return f"{head}: advises against what {reason.pathway} approves: {reason.text}"
    if reason.kind == "no_pathway":
        return "no pathway of the encoded sections supports this study"
    return f"{head}: {reason.text}"


def reason_lines(reasons: Iterable[Reason]) -> list[str]:
    """Every reason as a line; the presentations a denied study's pathways address (``out_of_scope``)
    are joined into one line."""
    lines: list[str] = []
    scopes = [r for r in reasons if r.kind == "out_of_scope"]
    for reason in reasons:
        if reason.kind != "out_of_scope":
            lines.append(reason_line(reason))
        elif reason is scopes[0]:
            lines.append("no pathway for this study addresses the case's presentation; the case would "
                         "need to present one of: " + "; ".join(
                             f"{r.section} {r.criterion}: {r.text}" for r in scopes))
    return lines

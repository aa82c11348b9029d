"""Short text summaries of decisions, as ``spinekb evaluate`` prints them."""
from __future__ import annotations

from spinekb.bridge.records import CaseResult
from spinekb.explain.cards import review_words
from spinekb.explain.reasons import reason_lines
from spinekb.explain.words import DENIAL_WORDS


def summary_text(result: CaseResult, source: str = "") -> str:
    """A case's decisions: one block per study with the sections, criteria and reasons."""
    lines = [f"case {result.case_id}  ({source or 'input'}; {result.kb_version})"]
    for study in result.studies:
        verdict = study.decision.upper() + (f" ({DENIAL_WORDS[study.denial_kind]})" if study.denial_kind else "")
        sections = ", ".join(study.sections) or "-"
        lines.append(f"  {study.cpt} {study.description}: {verdict}  [{sections}]  {review_words(study.review_action)}")
        if study.criteria:
            lines.append(f"    criteria: {', '.join(study.criteria)}")
        for line in reason_lines(study.reasons):
            lines.append(f"    - {line}")
    for violation in result.violations:
        lines.append(f"  ! {violation}")
    for note in result.unmapped:
        lines.append(f"  unmapped: {note}")
    for note in result.assumed:
        lines.append(f"  assumed: {note}")
    return "\n".join(lines)

"""Short text summaries of decisions, as ``spinekb evaluate`` prints them."""
from __future__ import annotations

from spinekb.bridge.records import CaseResult


def summary_text(result: CaseResult) -> str:
    """A case's decisions: one block per study with the sections, criteria and reasons."""
    lines = [f"case {result.case_id}  ({result.source or 'input'}; {result.kb_version})"]
    for study in result.studies:
        verdict = study.decision.upper()
        sections = ", ".join(study.sections) or "-"
        lines.append(f"  {study.cpt} {study.description}: {verdict}  [{sections}]")
        if study.criteria:
            lines.append(f"    criteria: {', '.join(study.criteria)}")
        for reason in study.reasons:
            lines.append(f"    - {reason}")
    for violation in result.atoms.violations:
        lines.append(f"  ! {violation}")
    return "\n".join(lines)

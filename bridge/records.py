"""Typed decision records: what the solver decided for one case, study by study."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class StudyDecision:
    """The decision for one requested study, with the criteria and words behind it."""

    cpt: str
    description: str
    decision: Literal["approved", "denied"]
    sections: list[str]
    criteria: list[str]
    reasons: list[str]
    pathways: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON record of this study."""
        return {"cpt": self.cpt, "description": self.description, "decision": self.decision,
                "sections": self.sections, "criteria": self.criteria, "reasons": self.reasons,
                "pathways": self.pathways}


@dataclass
class SolverAtoms:
    """The solver's per-case atoms, kept for explanations (nothing recomputed in Python)."""

    holds: set[str] = field(default_factory=set)
    supported: dict[str, list[str]] = field(default_factory=dict)      # cpt -> pathways
    excluded: dict[str, list[str]] = field(default_factory=dict)       # cpt -> criteria
    unmet: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (cpt, pathway) -> criteria
    gap: dict[str, dict[str, int]] = field(default_factory=dict)       # cpt -> pathway -> count
    closest: dict[str, list[str]] = field(default_factory=dict)        # cpt -> pathways
    in_scope: dict[str, list[str]] = field(default_factory=dict)       # cpt -> pathways
    alternatives: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # cpt -> (alt, pathway)
    advised_against: dict[str, list[str]] = field(default_factory=dict)  # cpt -> criteria
    redirected: list[tuple[str, str]] = field(default_factory=list)    # (criterion, target)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # (cpt, pathway, criterion)
    no_pathway: set[str] = field(default_factory=set)
    decisions: dict[str, str] = field(default_factory=dict)            # cpt -> approved/denied
    violations: list[str] = field(default_factory=list)
    traced: bool = False  # every criterion and every candidate pathway reported (Engine(trace=True))


@dataclass
class CaseResult:
    """Everything decided for one case."""

    case_id: str
    kb_version: str
    studies: list[StudyDecision]
    atoms: SolverAtoms = field(repr=False, default_factory=SolverAtoms)
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON record of the case: ``{case_id, kb_version, studies: [...]}``."""
        record: dict[str, Any] = {
            "case_id": self.case_id,
            "kb_version": self.kb_version,
            "studies": [s.to_json() for s in self.studies],
        }
        if self.atoms.violations:
            record["violations"] = list(self.atoms.violations)
        return record


@dataclass(frozen=True)
class CaseError:
    """An input that could not be evaluated: where it came from and why, in one line."""

    source: str
    message: str
    case_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON error record of the input."""
        return {"case_id": self.case_id, "source": self.source, "error": self.message}

    def line(self) -> str:
        """The one-line message a user sees."""
        return f"error: {self.source}: {self.message}"

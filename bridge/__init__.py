"""The bridge between case files and the clingo knowledge base: translate, never decide.

The Python API the CLI itself uses::

    from spinekb.bridge import Engine, load_case, evaluate_sources
    engine = Engine()                                    # KB parsed once per process
    case = load_case("examples/cases/denied-no-trial.json")
    result = engine.evaluate_one(case)                   # or engine.evaluate(many_cases)
    for study in result.studies:
        print(study.cpt, study.decision, study.criteria)

    for outcome in evaluate_sources(["examples/cases"]):  # a result or an error per input
        print(outcome.to_json())

Explanations: ``spinekb.explain.explain_study(engine, case, cpt)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from spinekb.kb.lazy import lazy_names

if TYPE_CHECKING:
    from spinekb.bridge.batch import evaluate_sources
    from spinekb.bridge.engine import Engine
    from spinekb.bridge.fhir import bundle_to_case, case_to_bundle
    from spinekb.bridge.loading import CaseInputError, load_case, read_sources
    from spinekb.bridge.models import Case
    from spinekb.bridge.records import CaseError, CaseResult, Decided, Reason, StudyDecision

#: Where each public name lives: imported on first use, so that a command pays only for what it uses.
_HOME: dict[str, str] = {
    "evaluate_sources": "spinekb.bridge.batch",
    "Engine": "spinekb.bridge.engine",
    "bundle_to_case": "spinekb.bridge.fhir",
    "case_to_bundle": "spinekb.bridge.fhir",
    "CaseInputError": "spinekb.bridge.loading",
    "load_case": "spinekb.bridge.loading",
    "read_sources": "spinekb.bridge.loading",
    "Case": "spinekb.bridge.models",
    "CaseError": "spinekb.bridge.records",
    "CaseResult": "spinekb.bridge.records",
    "Decided": "spinekb.bridge.records",
    "Reason": "spinekb.bridge.records",
    "StudyDecision": "spinekb.bridge.records",
}

__all__ = [
    "Case", "CaseError", "CaseInputError", "CaseResult", "Decided", "Engine", "Reason", "StudyDecision",
    "bundle_to_case", "case_to_bundle", "evaluate_sources", "load_case", "read_sources",
]


__getattr__ = lazy_names(__name__, _HOME)

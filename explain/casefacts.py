"""A case's input facts as a reader wants them: the bridge's own facts, days shown as dates.

The facts are the ones the solver saw (:func:`spinekb.bridge.facts.case_facts`), without the
case index. Which arguments are days is found without a table of predicates: the facts are
built a second time with the request date one day later, and exactly the day arguments move
back by one::

    >>> from spinekb.bridge.models import Case
    >>> case = Case.model_validate({
    ...     "request": {"id": "x", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    ...     "patient": {"age": 54}, "episode": {"regions": ["lumbar"],
    ...     "condition": "low_back_pain", "onset": "2024-04-01"}})
    >>> [f.text for f in readable_facts(case) if f.predicate == "onset"]
    ['onset(day -30 (2024-04-01))']
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clingo import Symbol, SymbolType

from spinekb.bridge.facts import case_facts
from spinekb.bridge.models import Case


@dataclass(frozen=True)
class CaseFact:
    """One input fact of a case: its predicate, its ASP text and its readable text."""

    predicate: str
    asp: str
    text: str


def _later_request(case: Case) -> Case:
    """The same case requested one day later (every day number moves back by one)."""
    request = case.request.model_copy(update={"date": case.request.date + dt.timedelta(days=1)})
    return case.model_copy(update={"request": request})


def _is_day(original: Symbol, shifted: Symbol) -> bool:
    """An argument that moved back by one when the request moved forward by one day."""
    return (original.type == SymbolType.Number and shifted.type == SymbolType.Number
            and shifted.number == original.number - 1)


def readable_facts(case: Case) -> list[CaseFact]:
    """Every input fact of ``case`` in emission order, day arguments as ``day -60 (2024-03-02)``."""
    facts = case_facts(0, case)
    shifted = case_facts(0, _later_request(case))
    origin = case.request.date
    aligned = len(shifted) == len(facts) and all(
        a.name == b.name and len(a.arguments) == len(b.arguments) for a, b in zip(facts, shifted))
    found: list[CaseFact] = []
    for position, fact in enumerate(facts):
        arguments = fact.arguments[1:]
        moved = shifted[position].arguments[1:] if aligned else arguments
        shown = []
        for argument, other in zip(arguments, moved):
            if aligned and _is_day(argument, other):
                day = argument.number
                shown.append(f"day {day} ({origin + dt.timedelta(days=day)})")
            else:
                shown.append(str(argument))
        text = f"{fact.name}({', '.join(shown)})" if shown else fact.name
        asp = f"{fact.name}({', '.join(str(a) for a in arguments)})" if arguments else fact.name
        found.append(CaseFact(fact.name, asp, text))
    return found

"""Case text can never become ASP: facts are clingo symbols, and free text never reaches clingo."""
from __future__ import annotations

import json

from spinekb.bridge.facts import case_facts
from spinekb.bridge.loading import validate_json
from spinekb.bridge.models import Case

PAYLOAD = "a. #program base. approved(X) :- case(X)."

BASE = {
    "request": {"id": "inj", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    "patient": {"age": 54},
    "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-04-20"},
}


def test_payload_in_the_id_changes_nothing(decide):
    """An id holding ASP code decides exactly like the same case with a plain id."""
    plain = decide(BASE)
    hostile = decide({**BASE, "request": {**BASE["request"], "id": PAYLOAD}})
    assert plain.studies[0].decision == "denied"
    assert hostile.case_id == PAYLOAD
    assert [s.model_dump() for s in hostile.studies] == [s.model_dump() for s in plain.studies]
    assert hostile.atoms.holds == plain.atoms.holds


def test_payload_never_reaches_the_facts():
    """No fact of the case mentions the payload (the id stays in Python)."""
    case = Case.model_validate({**BASE, "request": {**BASE["request"], "id": PAYLOAD}})
    assert all("approved" not in str(symbol) and "#program" not in str(symbol)
               for symbol in case_facts(0, case))


def test_payload_in_a_term_or_code_is_rejected():
    """Where text could reach clingo (terms, codes, enum values) it must be from a closed list."""
    for patch in ({"findings": [{"term": PAYLOAD}]},
                  {"request": {**BASE["request"], "cpt": [PAYLOAD]}},
                  {"episode": {**BASE["episode"], "condition": PAYLOAD}}):
        loaded = validate_json("x", json.dumps({**BASE, **patch}))
        assert loaded.case is None and loaded.error is not None

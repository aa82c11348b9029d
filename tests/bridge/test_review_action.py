"""The X12 278 review action of a study's outcome (bridge.records.review_action): A1 for an
approval, A4 where documenting unmet conditions would decide, A3 where nothing in the guideline
supports the study; on every record, in the JSON, the schema and the text."""
from __future__ import annotations

from pathlib import Path

import pytest

from spinekb.bridge.batch import evaluate_sources
from spinekb.bridge.records import Reason, StudyDecision, output_schema, review_action
from spinekb.explain.summary import summary_text

CASES = Path(__file__).resolve().parents[2] / "examples" / "cases"


def _study(decision: str, *kinds: str) -> StudyDecision:
    return StudyDecision(cpt="72148", description="MRI Lumbar without contrast", decision=decision,
                         sections=(), criteria=(), reasons=tuple(Reason(kind=k) for k in kinds))


@pytest.mark.parametrize("decision, kinds, action", [
    ("approved", ("met",), "A1"),
    ("approved", ("met", "conflict"), "A1"),
    ("denied", ("unmet",), "A4"),
    ("denied", ("unmet", "alternative", "not_indicated"), "A4"),
    ("denied", ("excluded",), "A3"),
    ("denied", ("excluded", "unmet"), "A3"),       # an exclusion no documentation can lift
    ("denied", ("no_pathway",), "A3"),
    ("denied", ("out_of_scope", "out_of_scope"), "A3"),
    ("denied", ("referral",), "A3"),               # the guideline only sends the case elsewhere
    ("denied", ("referral", "unmet"), "A4"),
    ("denied", (), "A3"),
])
def test_review_action_of_each_kind_of_outcome(decision, kinds, action):
    assert review_action(_study(decision, *kinds)) == action
    assert _study(decision, *kinds).review_action == action


def test_every_example_record_carries_its_review_action():
    """Approved examples are A1; the guideline's exclusions A3; a missing trial A4."""
    records = {o.case_id: o for o in evaluate_sources([str(CASES)])}
    for record in records.values():
        for study in record.to_json()["studies"]:
            assert study["review_action"] == ("A1" if study["decision"] == "approved" else study["review_action"])
            assert study["review_action"] in ("A1", "A3", "A4")
    assert records["denied-no-trial"].studies[0].review_action == "A4"
    assert records["denied-mr-spectroscopy"].studies[0].review_action == "A3"
    assert records["denied-positional-mri"].studies[0].review_action == "A3"
    assert {s.review_action for r in records.values() for s in r.studies} == {"A1", "A3", "A4"}
    assert "X12 278 A4 (pended)" in summary_text(records["denied-no-trial"].record)


def test_the_output_schema_declares_the_review_action():
    study = output_schema()["$defs"]["StudyDecision"]
    assert study["properties"]["review_action"]["enum"] == ["A1", "A3", "A4"]
    assert "review_action" in study["required"]


@pytest.mark.skipif("denial_kind" not in StudyDecision.model_fields, reason="issue 9's denial_kind not in this tree")
@pytest.mark.parametrize("kind, action", [("documentation", "A4"), ("not_yet", "A4"), ("not_supported", "A3")])
def test_a_denial_kind_once_filled_decides_the_review_action(kind, action):
    """Issue 9's denial_kind takes precedence over the reason kinds (here an unmet condition)."""
    study = _study("denied", "unmet").model_copy(update={"denial_kind": kind})
    assert review_action(study) == action

"""The case-fact table: every fact the bridge emits is declared once in CASE_TABLE, with its
arity and which arguments are days; and the case-format fields map to the facts the docs name."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from spinekb.bridge.facts import CASE_TABLE, case_facts
from spinekb.bridge.models import Case, level_constant

#: A case that fills every field of the format once.
FULL: dict[str, Any] = {
    "request": {"id": "full", "date": "2024-05-01", "time": "12:00", "purpose": "preoperative_planning",
                "requester": "operating_surgeon", "techniques": ["pet_ct"],
                "cpt": ["72148", {"code": "72141", "techniques": ["positional_mri"]}]},
    "patient": {"birth_date": "1960-05-02", "sex": "female"},
    "episode": {"regions": ["lumbar"], "condition": "post_operative", "onset": "2024-01-10",
                "changed": "2024-02-01"},
    "evaluations": [{"date": "2024-03-02", "mode": "in_person", "kind": "initial", "outcome": "stable",
                     "by": "spine_specialist",
                     "exam": {"muscles": [{"muscle": "hip_flexion", "side": "left", "grade": 4}],
                              "reflexes": [{"reflex": "patellar", "side": "left", "grade": 3}],
                              "sensory": [{"distribution": "sensory_level"}],
                              "signs": [{"sign": "finger_escape", "result": "positive"}],
                              "progression": ["motor"]}}],
    "findings": [{"term": "spondylolisthesis", "date": "2024-03-02", "level": "L4-5", "side": "left"}],
    "trauma": [{"date": "2024-01-10", "mechanism": ["fall_from_elevation"], "regions": ["lumbar"],
                "fall_height_feet": 3, "fall_stairs": 5}],
    "treatments": [{"kind": "yoga", "start": "2024-03-01", "directed_by": "self", "outcome": "worse"}],
    "pain_scores": [{"date": "2024-03-02", "vas": 7}],
    "prior_imaging": [{"modality": "xray", "region": "lumbar", "date": "2024-03-05", "level": "L4-L5",
                       "result": ["spondylolisthesis"], "grade": 2, "cobb_angle": 12}],
    "implants": [{"kind": "pacemaker", "mri_conditional": True}],
    "procedures": [{"kind": "fusion", "date": "2024-04-30", "time": "09:30", "region": "lumbar",
                    "level": "L5-S1", "approach": "anterior", "revision": True}],
    "plans": [{"kind": "revision_fusion", "region": "lumbar", "level": "L5-S1", "approved": True}],
}


def facts_of(data: dict[str, Any]) -> dict[str, list[list[str]]]:
    by_name: dict[str, list[list[str]]] = {}
    for symbol in case_facts(0, Case.model_validate(data)):
        by_name.setdefault(symbol.name, []).append([str(a) for a in symbol.arguments[1:]])
    return by_name


def test_every_emitted_fact_is_in_the_table_and_every_row_is_emitted():
    """One table of case predicates: nothing emitted outside it, no row that nothing emits."""
    emitted = {(s.name, len(s.arguments)) for s in case_facts(0, Case.model_validate(FULL))}
    declared = {(p.name, p.arity) for p in CASE_TABLE}
    assert emitted - declared == set(), "facts emitted but not declared in CASE_TABLE"
    assert declared - emitted == set(), "CASE_TABLE rows the full case does not emit (dead rows, or FULL misses one)"
    assert len(declared) == len(CASE_TABLE), "a predicate is declared twice"


def test_day_arguments_are_the_ones_that_move_with_the_request_date():
    """Shifting every date by a week shifts exactly the arguments the table calls days."""
    moved = copy.deepcopy(FULL)
    moved["request"]["date"] = "2024-05-08"
    before, after = facts_of(FULL), facts_of(moved)
    for row in CASE_TABLE:
        for old, new in zip(before.get(row.name, []), after.get(row.name, []), strict=True):
            changed = {i + 1 for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b}
            if row.name == "age":
                continue
            assert changed <= set(row.days) | set(row.hours), f"{row.name}: arguments {changed} moved but are not days"


def test_new_fields_become_the_documented_facts():
    facts = facts_of(FULL)
    assert ['"72141"', "positional_mri"] in facts["study_technique"]
    assert ['"72148"', "pet_ct"] in facts["study_technique"] and ['"72141"', "pet_ct"] in facts["study_technique"]
    assert sorted(facts["technique"]) == [["pet_ct"], ["positional_mri"]]
    assert facts["finding_level"] == [["spondylolisthesis", "l4_l5"]]
    assert facts["imaging_level"] == [["0", "l4_l5"]]
    assert facts["procedure_level"] == [["0", "l5_s1"]] and facts["plan_level"] == [["revision_fusion", "l5_s1"]]
    assert facts["imaging_grade"] == [["0", "2"]] and facts["imaging_cobb"] == [["0", "12"]]
    assert facts["procedure_approach"] == [["0", "anterior"]] and facts["procedure_anterior"] == [["0"]]
    assert facts["procedure_revision"] == [["0"]]
    assert facts["procedure_hours"] == [["0", "26"]]          # 2024-04-30 09:30 -> 2024-05-01 12:00
    assert facts["treatment_self_directed"] == [["0"]]
    assert facts["trauma_fall_feet"] == [["0", "3"]] and facts["trauma_fall_stairs"] == [["0", "5"]]
    assert facts["evaluation_outcome"] == [["0", "stable"]]


def test_no_onset_no_onset_fact():
    data = copy.deepcopy(FULL)
    del data["episode"]["onset"]
    assert "onset" not in facts_of(data)


@pytest.mark.parametrize("text, constant", [("L5", "l5"), ("L4-5", "l4_l5"), ("L4-L5", "l4_l5"),
                                            ("L5-S1", "l5_s1"), ("T12-L1", "t12_l1"), ("C7", "c7")])
def test_levels_are_normalised(text, constant):
    assert level_constant(text) == constant


@pytest.mark.parametrize("field, value, problem", [
    (("findings", 0, "level"), "L4 5", "not a vertebral level"),
    (("findings", 0, "level"), "left L5 pars", "not a vertebral level"),
    (("request", "time"), "12:00:00+02:00", "without a UTC offset"),
    (("procedures", 0, "time"), "09:30Z", "without a UTC offset"),
    (("treatments", 0, "directed_by"), "nurse", "Input should be"),
    (("prior_imaging", 0, "cobb_angle"), 181, "less than or equal to 180"),
])
def test_bad_new_fields_are_rejected(field, value, problem):
    data = copy.deepcopy(FULL)
    target = data
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    with pytest.raises(ValidationError, match=problem):
        Case.model_validate(data)


def test_rows_and_symbols_are_the_same_facts():
    """fact_rows (for readers) and case_facts (for clingo) come from one mapping."""
    from spinekb.bridge.facts import readable_facts

    case = Case.model_validate(FULL)
    symbols = [f"{s.name}({', '.join(str(a) for a in s.arguments[1:])})" if len(s.arguments) > 1 else s.name
               for s in case_facts(0, case)]
    assert [f.asp for f in readable_facts(case)] == symbols

"""The engine: batch and single decisions agree, closest pathways are ranked by scope, atoms parse."""
from __future__ import annotations

import copy

from spinekb.bridge.engine import Engine
from spinekb.explain.reasons import reason_lines
from spinekb.bridge.models import Case

NO_TRIAL = {
    "request": {"id": "no-trial", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    "patient": {"age": 54},
    "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-04-01"},
    "evaluations": [{"date": "2024-04-03", "mode": "in_person", "kind": "initial"}],
}


def test_closest_pathway_is_the_one_whose_scope_the_case_presents(decide):
    """Low back pain with no trial: SP-5.1's pathway is closest (2 unmet), not a red flag row (1 unmet)."""
    result = decide(NO_TRIAL)
    assert result.studies[0].decision == "denied"
    assert result.atoms.closest["72148"] == ["sp5_1_p_mri"]
    assert result.atoms.gap["72148"]["sp5_1_p_mri"] == 2
    assert min(result.atoms.gap["72148"].values()) == 1  # a red flag row misses only its flag
    assert result.studies[0].criteria == ("sp5_1_c3", "sp5_1_c4")


def test_without_any_pathway_in_scope_the_fewest_unmet_win(decide):
    """A condition no section of the slice covers: every candidate is ranked by its gap alone."""
    case = copy.deepcopy(NO_TRIAL)
    case["episode"]["condition"] = "other"
    atoms = decide(case).atoms
    assert not atoms.in_scope.get("72148")
    fewest = min(atoms.gap["72148"].values())
    assert sorted(atoms.closest["72148"]) == sorted(p for p, n in atoms.gap["72148"].items() if n == fewest)


def test_batch_chunks_decide_like_single_cases(engine):
    """Cases grounded together in one chunk decide exactly as each does alone (no leaking between cases)."""
    variants = []
    for i, (onset, mode) in enumerate([("2024-04-01", "in_person"), ("2023-12-01", "telephone"),
                                       ("2024-02-01", "in_person")]):
        case = copy.deepcopy(NO_TRIAL)
        case["request"]["id"] = f"v{i}"
        case["episode"]["onset"] = onset
        case["evaluations"][0]["mode"] = mode
        case["findings"] = [{"term": "saddle_anesthesia"}] if i == 1 else []
        variants.append(Case.model_validate(case))
    together = Engine(chunk_size=10).evaluate(variants)
    alone = [engine.evaluate_one(c) for c in variants]
    assert [r.to_json()["studies"] for r in together] == [r.to_json()["studies"] for r in alone]


def test_a_case_gives_the_same_record_alone_and_inside_a_chunk(engine):
    """Canonical order: sections, criteria and reasons do not depend on the chunk around a case."""
    cases = [Case.model_validate(dict(NO_TRIAL, request=dict(NO_TRIAL["request"], id=f"c{i}",
                                                              cpt=["72148", "72158", "72131"])))
             for i in range(3)]
    alone = Engine().evaluate_one(cases[1]).to_json()
    assert alone["studies"] == list(Engine(chunk_size=10).evaluate(cases))[1].to_json()["studies"]
    for study in alone["studies"]:
        kinds = [r["kind"] for r in study["reasons"]]
        assert kinds, study


def test_batch_record_without_pathway_in_scope_names_the_presentations_needed():
    """Batch mode: no candidate in scope -> no closest pathway; the reason names what the case
    would need to present (each candidate's scope criterion, with its section and words)."""
    case = copy.deepcopy(NO_TRIAL)
    case["episode"]["condition"] = "other"
    result = Engine().evaluate_one(Case.model_validate(case))
    study = result.studies[0]
    assert study.decision == "denied" and study.pathways == ()
    assert {r.kind for r in study.reasons} >= {"out_of_scope"}
    need = next(r for r in reason_lines(study.reasons) if r.startswith("no pathway for this study addresses"))
    assert "SP-5.1 sp5_1_applies: Low Back (Lumbar Spine) Pain without Neurological Features" in need
    assert "SP-1.2 sp1_2_cauda_equina" in need

"""What-ifs computed by clingo, and the kind of a denial.

Every reported edit set, applied to the case, makes the study approved; leaving out any one edit
does not; no set with fewer edits exists. Dates come from the KB's windows: change a window in a
copy of the KB and the what-if's dates move with it. Each denial_kind is pinned on cases built
for it, and the batch record (`spinekb evaluate`) carries the same kind as the explanation.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from spinekb.bridge.engine import Engine
from spinekb.bridge.models import Case
from spinekb.bridge.whatif import EditSet, WhatIfSolver, apply_edits
from spinekb.cli.main import main
from spinekb.explain import explain_study
from spinekb.kb import kb_dir
from spinekb.kb.knowledge import KnowledgeBase

CASES = Path(__file__).resolve().parents[2] / "examples" / "cases"


def _decision(engine: Engine, case: Case, cpt: str) -> str:
    return engine.evaluate_one(case).atoms.decisions[cpt]


def _without(edit_set: EditSet, index: int) -> EditSet:
    edits = tuple(e for i, e in enumerate(edit_set.edits) if i != index)
    return edit_set.model_copy(update={"edits": edits})


@pytest.fixture(scope="module")
def solver() -> WhatIfSolver:
    return WhatIfSolver()


def test_every_what_if_approves_and_no_edit_can_be_left_out(examples, plain_engine):
    """Applied to the case (apply_edits), every smallest set approves the study; without any one
    of its edits (a resubmission left out keeps the original request date) it stays denied."""
    applied: list[tuple[Case, str, str, tuple]] = []  # (edited case, cpt, wanted decision, label)
    for case, cpt, x in examples:
        for n, words in enumerate(x.what_if):
            edit_set = EditSet(edits=tuple(e.edit for e in words.edits), pathway=words.pathway,
                               resubmit=words.resubmit, documentation=words.documentation)
            applied.append((apply_edits(case, edit_set), cpt, "approved", (case.request.id, cpt, n)))
            for i in range(len(edit_set.edits)):
                try:
                    smaller = apply_edits(case, _without(edit_set, i))
                except ValueError:  # no such case: a visit or a treatment after the request, not resubmitted
                    continue
                applied.append((smaller, cpt, "denied", (case.request.id, cpt, n, "without", i)))
    decided = plain_engine.evaluate_chunk([edited for edited, *_ in applied])  # one grounding
    for (_, cpt, wanted, label), result in zip(applied, decided, strict=True):
        assert result.atoms.decisions[cpt] == wanted, label
    assert sum(1 for *_, wanted, _ in applied if wanted == "approved") >= 30


def test_no_smaller_set_exists(examples, engine, solver):
    """For every example denial with a what-if, no set of fewer edits approves it (a plain
    satisfiability check, apart from the optimisation that found the sets)."""
    for case, cpt, x in examples:
        if x.what_if:
            size = len(x.what_if[0].edits)
            decided = engine.evaluate_one(case)
            assert solver.feasible(case, decided, cpt, size) == (True, False), (case.request.id, cpt)


def test_batch_record_and_explanation_agree_on_the_denial_kind(examples):
    """`spinekb evaluate` (Engine(kinds=True)) gives every denial the kind the explanation gives."""
    cases = {case.request.id: case for case, _, _ in examples}
    records = {d.case_id: d.record for d in Engine(kinds=True).evaluate_chunk(list(cases.values()))}
    for case, cpt, x in examples:
        study = next(s for s in records[case.request.id].studies if s.cpt == cpt)
        assert study.denial_kind == x.denial_kind, (case.request.id, cpt)
        assert (study.denial_kind is None) == (study.decision == "approved")


def test_kinds_decided_together_equal_kinds_decided_one_by_one(examples, plain_engine, solver):
    """WhatIfSolver.kinds (denied studies as case copies in one grounding, each asked about with the
    others set aside) gives every denial the kind WhatIfSolver.kind gives it alone, in any order."""
    cases = list({case.request.id: case for case, _, _ in examples}.values())
    decided = plain_engine.evaluate_chunk(cases)
    items = [(case, one, cpt) for case, one in zip(cases, decided, strict=True) for cpt in case.request.codes]
    alone = [solver.kind(*item) for item in items]
    assert solver.kinds(items) == alone
    assert solver.kinds(items[::-1]) == alone[::-1]
    assert {"documentation", "not_yet", "not_supported", None} <= set(alone)


def _case(name: str, **changes) -> Case:
    data = json.loads((CASES / f"{name}.json").read_text())
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return Case.model_validate(data)


def test_not_yet_a_short_trial_continues_until_six_weeks_from_its_start(engine):
    """A 21-day trial (2024-04-04 to 04-25): continue it until 2024-05-16 (21 more days),
    re-evaluate on or after that day and resubmit then: not_yet."""
    x = explain_study(engine, _case("denied-no-trial"), "72148")
    assert x.denial_kind == "not_yet" and not x.documentation_needed
    actions = [e.action for e in x.what_if[0].edits]
    assert actions == ["continue_treatment", "evaluate", "resubmit"]
    assert all(e.date == dt.date(2024, 5, 16) for e in x.what_if[0].edits)
    assert "until 2024-05-16 (21 more days)" in x.what_if[0].says


def test_not_yet_an_in_person_visit_dated_from_the_sixty_day_window(engine):
    """Telemedicine only: see the patient in person on or after 2024-03-21 (request 2024-05-20,
    60 days: the KB's window), and the answer says telemedicine is not face-to-face (a reading)."""
    x = explain_study(engine, _case("denied-radiculopathy-telemedicine-only"), "72148")
    assert x.denial_kind == "not_yet"
    assert [(e.action, e.date) for e in x.what_if[0].edits] == [("evaluate", dt.date(2024, 3, 21))]
    assert "see the patient in person on or after 2024-03-21" in x.what_if[0].says.lower()
    assert any("telemedicine" in r.text for r in x.readings)


def test_not_yet_wait_for_the_week_of_severe_pain(engine):
    """Severe pain for 5 days (SP-11 wants more than a week): resubmit on or after 2024-03-18."""
    x = explain_study(engine, _case("denied-compression-fracture-severe-pain-five-days"), "72148")
    assert x.denial_kind == "not_yet"
    assert [(e.action, e.date) for e in x.what_if[0].edits] == [("resubmit", dt.date(2024, 3, 18))]


def test_documentation_an_x_ray_report_as_a_question(engine):
    """Coccydynia without x-rays: documentation; the question asks for sacrum/coccyx x-rays taken
    since the episode began and available to the requesting provider."""
    x = explain_study(engine, _case("denied-coccydynia-without-xray"), "72195")
    assert x.denial_kind == "documentation"
    question = x.documentation_needed[0].question
    assert "x-rays of the sacrum/coccyx" in question and "available to the requesting provider" in question
    assert "2023-12-22" in question


def test_documentation_a_finding_and_the_same_case_with_it_is_approved(engine, plain_engine):
    """Lumbar stenosis without a trial: documenting severe claudication (or frequent narcotic use)
    decides it; with the finding documented the study is approved."""
    case = _case("denied-lumbar-stenosis-mri-without-trial")
    x = explain_study(engine, case, "72148")
    assert x.denial_kind == "documentation"
    terms = {e.edit.term for s in x.what_if for e in s.edits}
    assert "severe_neurogenic_claudication" in terms
    data = case.model_dump(mode="json", exclude_none=True)
    data["findings"] = [*data.get("findings", []), {"term": "severe_neurogenic_claudication"}]
    assert _decision(plain_engine, Case.model_validate(data), "72148") == "approved"


@pytest.mark.parametrize("name, cpt, why", [
    ("denied-red-flag-aortic-aneurysm", "72148", "image under PVD-6"),
    ("denied-mr-spectroscopy", "76390", "rules the study out"),
    ("denied-fibromyalgia-mri-cervical-lumbar", "72148", "No pathway for this study addresses the case"),
    ("denied-positional-mri", "72148", "rules the study out"),
])
def test_not_supported_no_edit_helps_and_the_answer_says_why(engine, name, cpt, why):
    """Ruled out, experimental, no pathway for the presentation, sent elsewhere: not_supported, no
    what-if, and the text says so plainly (and what is supported instead, where anything is)."""
    from spinekb.explain import render_text

    x = explain_study(engine, _case(name), cpt)
    assert x.denial_kind == "not_supported" and not x.what_if and x.review_action == "A3"
    text = render_text(x)
    assert why in text and "nothing a provider can add or do" in text


def test_not_supported_when_the_record_already_shows_the_opposite(engine):
    """A follow-up x-ray that shows progression: no later x-ray may contradict it, so the
    follow-up MRI SP-10.2 supports only without progression is not_supported."""
    x = explain_study(engine, _case("denied-inflammatory-spondylitis-follow-up-xray-progression"), "72195")
    assert x.denial_kind == "not_supported"


def test_red_flags_are_never_invented(engine):
    """No what-if of a denial documents a red flag the record does not show (SP-1.2's findings),
    except where an SP-1.2 row itself routes the approval (a cancer history sent to SP-1.2)."""
    x = explain_study(engine, _case("denied-no-trial"), "72148")
    terms = {e.edit.term for s in x.what_if for e in s.edits if e.edit.term}
    assert not terms


def test_what_if_dates_come_from_the_kb_windows(tmp_path):
    """A copy of the KB with a seven-week trial (window(trial, 49)): the what-if continues the
    treatment a week longer. The date is the KB's, not a constant of Python."""
    folder = tmp_path / "kb"
    shutil.copytree(kb_dir(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    general = folder / "sp1_0_general.lp"
    text = general.read_text()
    assert "window(trial, 42)." in text
    general.write_text(text.replace("window(trial, 42).", "window(trial, 49)."))
    knowledge = KnowledgeBase.at(folder)
    engine = Engine(trace=True, knowledge=knowledge)
    x = explain_study(engine, _case("denied-no-trial"), "72148")
    assert x.what_if[0].resubmit == dt.date(2024, 5, 23)


def test_evaluate_json_carries_denial_kind_on_every_denied_study():
    """`spinekb evaluate --format json`: denial_kind on every denied study, none on approvals; the
    review action follows it (not_supported -> A3, else A4)."""
    names = ("denied-no-trial", "denied-mr-spectroscopy", "denied-coccydynia-without-xray",
             "mixed-mri-and-ct-only-mri-supported")
    paths = [str(CASES / f"{n}.json") for n in names]
    result = CliRunner().invoke(main, ["evaluate", *paths, "--format", "json"])
    assert result.exit_code == 0, result.output
    studies = [s for record in json.loads(result.output) for s in record["studies"]]
    kinds = {s["cpt"] + ":" + s["decision"]: s.get("denial_kind") for s in studies}
    assert kinds == {"72148:denied": "not_yet", "76390:denied": "not_supported", "72195:denied": "documentation",
                     "72148:approved": None, "72131:denied": "not_supported"}
    for s in studies:
        if s["decision"] == "denied":
            assert s["review_action"] == ("A3" if s["denial_kind"] == "not_supported" else "A4")


def test_every_window_of_the_kb_is_named_by_the_what_if_program():
    """Each window fact of the KB (window/2, sp*_window/2) is named in kb/whatif/whatif.lp, as a
    wait a resubmission can meet or as a "within" window or age it cannot: a new window needs a
    decision there (or the what-if would miss the resubmission date it calls for)."""
    import re

    from spinekb.bridge.whatif import whatif_text
    from spinekb.kb import kb_files

    text = whatif_text()
    found = {m.group(1, 2) for path in kb_files()
             for m in re.finditer(r"^\s*([a-z0-9_]*window)\(([a-z0-9_]+),", path.read_text(), re.M)}
    assert found
    missing = [f"{p}({name}, _)" for p, name in sorted(found) if not re.search(rf"\b{name}\b", text)]
    assert not missing, f"windows the what-if program does not name: {missing}"


def test_documentable_and_suspicion_terms_are_vocabulary_terms():
    """The what-if's lists of documentable findings and suspicions name only real terms."""
    import clingo

    from spinekb.bridge.whatif import whatif_text
    from spinekb.kb.vocabulary import vocabulary

    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], whatif_text())  # alone: its facts, no case
    ctl.ground([("base", [])])
    named = {str(a.symbol.arguments[0]) for sig in (("documentable", 1), ("suspicion", 1))
             for a in ctl.symbolic_atoms.by_signature(*sig)}
    assert len(named) > 40
    assert named <= set(vocabulary()), sorted(named - set(vocabulary()))


def test_every_dated_case_predicate_is_shifted_by_a_resubmission():
    """Each case predicate the what-if takes as given(F) (those with days or hours, and the
    request's own) has a rule in kb/whatif/whatif.lp that puts it back into the case: a new dated
    predicate in kb/inputs.py without one would silently vanish from every what-if."""
    import re

    from spinekb.bridge.whatif import GIVEN, whatif_text

    text = whatif_text()
    missing = sorted(name for name in GIVEN
                     if not re.search(rf"^{name}\(C,.*:- given\({name}\(", text, re.M))
    assert not missing, missing


def _base(section: str, **patch: object) -> Case:
    """The base case of tests/kb/<section>.yaml with top-level fields replaced."""
    import yaml

    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "kb" / f"{section}.yaml").read_text())["base"]
    data = {**data, **patch}
    return Case.model_validate(json.loads(json.dumps(data, default=str)))


@pytest.mark.parametrize("section, patch, cpt, kind, action", [
    # an x-ray report of the sacrum/coccyx missing: document (obtain) it
    ("sp5_2", {"prior_imaging": []}, "72195", "documentation", "obtain_imaging"),
    # an x-ray on record whose report the requester does not have: make it available
    ("sp5_2", {"prior_imaging": [{"modality": "xray", "region": "sacrum_coccyx", "date": "2024-03-02",
                                  "result": ["negative"], "available": False}]}, "72195", "documentation",
     "make_available"),
    # only 3 weeks of physical therapy: continue it, re-evaluate, resubmit
    ("sp5_1", {"treatments": [{"kind": "physical_therapy", "start": "2024-04-01", "end": "2024-04-22"}]},
     "72148", "not_yet", "continue_treatment"),
    # no treatment at all: start one, six weeks from the request
    ("sp5_1", {"treatments": []}, "72148", "not_yet", "start_treatment"),
    # a positional MRI: experimental, nothing helps
    ("sp5_1", {"request": {"id": "sp5-1", "date": "2024-05-01", "purpose": "diagnosis",
                           "cpt": [{"code": "72148", "techniques": ["positional_mri"]}]}},
     "72148", "not_supported", None),
    # a known AAA with new back pain: SP-1.2's aortic row, sent to PVD-6
    ("sp5_1", {"findings": [{"term": "known_aaa"}, {"term": "new_onset_back_or_abdominal_pain"}]},
     "72148", "not_supported", None),
])
def test_denial_kind_of_cases_built_for_it(engine, section, patch, cpt, kind, action):
    """Each kind on a case built for it from a section's YAML base case: the explanation's kind and
    first edit, and the batch record's kind (Engine(kinds=True)) agree."""
    case = _base(section, **patch)
    x = explain_study(engine, case, cpt)
    assert x.decision == "denied" and x.denial_kind == kind
    if action:
        assert action in [e.action for s in x.what_if for e in s.edits]
    else:
        assert not x.what_if
    record = next(s for s in Engine(kinds=True).evaluate_one(case).record.studies if s.cpt == cpt)
    assert record.denial_kind == kind

"""Witnesses: a case clingo finds in which a check finding happens, or the proof there is none."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from spinekb.bridge.engine import Engine
from spinekb.bridge.facts import case_facts
from spinekb.bridge.loading import load_case
from spinekb.bridge.models import Case
from spinekb.bridge.witness import case_from_facts, find_witness, write_witnesses
from spinekb.explain.book import read_witnesses
from spinekb.kb import kb_dir
from spinekb.kb.checks import Issue
from spinekb.kb.knowledge import KnowledgeBase

ROOT = Path(__file__).resolve().parents[2]
AORTIC = ("sp1_2_aortic", "sp13_1_p_cervical", "sp13_2_p_cervical", "sp16_3_p_ct", "sp2_2_p_complete_study")
AORTIC_CODES = ("72141", "72156")


def test_facts_go_back_into_the_same_case():
    """An example's facts, turned back into a case, give the same facts again."""
    case = load_case(ROOT / "examples" / "cases" / "denied-no-trial.json")
    facts = case_facts(0, case)
    again = Case.model_validate(case_from_facts(facts, case.request.id))
    assert sorted(map(str, case_facts(0, again))) == sorted(map(str, facts))


def test_a_conflict_gets_a_case_that_reproduces_it():
    """SP-1.2's aortic statement against an approving pathway: the witness decides with the conflict."""
    witness = find_witness("conflict", AORTIC, AORTIC_CODES, seconds=60)
    assert witness.status == "found", witness.note
    case = Case.model_validate(witness.case)
    decided = Engine(trace=True).evaluate_one(case)
    assert any(q == "sp1_2_aortic" for _, _, q in decided.atoms.conflicts)
    assert {"term": "suspected_aortic_dissection"} in witness.case["findings"] or \
        any(f["term"].startswith(("known_aaa", "suspected_aortic")) for f in witness.case["findings"])


def test_a_criterion_no_case_meets_gets_the_statement_that_none_exists(tmp_path):
    """A composite of a criterion and its negation: the search proves there is no case, and says where it looked."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for path in kb_dir().glob("*.lp"):
        shutil.copy(path, folder / path.name)
    (folder / "sp5_1_low_back_pain.lp").write_text(
        (folder / "sp5_1_low_back_pain.lp").read_text(encoding="utf-8")
        + '\ncriterion(sp5_1_never, "SP-5.1", "Initial clinical evaluation performed.").\nlabel(sp5_1_never).\n'
          'all_of(sp5_1_never, (sp5_1_c1; sp5_1_not_c1)).\n'
          'criterion(sp5_1_not_c1, "SP-5.1", "Initial clinical evaluation performed.").\nlabel(sp5_1_not_c1).\n'
          'none_of(sp5_1_not_c1, sp5_1_c1).\n', encoding="utf-8")
    witness = find_witness("never_satisfiable", ("sp5_1_never",), (), KnowledgeBase.at(folder), seconds=60)
    assert witness.status == "none", witness.note
    assert witness.note.startswith("no case exists within the domains searched: one case requesting")


def test_witness_files_and_the_book_links(tmp_path):
    """write_witnesses writes a case file per witness and index.json; the book finds them by check and criteria."""
    index = write_witnesses([(3, "conflict", AORTIC, AORTIC_CODES)], tmp_path / "w", seconds=60)
    assert index[0]["status"] == "found" and (tmp_path / "w" / index[0]["file"]).is_file()
    assert json.loads((tmp_path / "w" / "index.json").read_text())[0]["file"] == "03-conflict-sp1_2_aortic.json"
    issue = Issue("conflict", "warning", ("SP-1.2",), AORTIC, "aortic", codes=AORTIC_CODES)
    other = Issue("tension", "info", ("SP-2.2",), ("sp2_2_x",), "not searched")
    links = read_witnesses(tmp_path / "w", tmp_path / "site", [other, issue])
    assert links == {2: ("witnesses/03-conflict-sp1_2_aortic.json", None)}
    explained = (tmp_path / "site" / "witnesses" / "03-conflict-sp1_2_aortic.txt").read_text(encoding="utf-8")
    assert explained.startswith("$ spinekb explain 03-conflict-sp1_2_aortic.json --study ")

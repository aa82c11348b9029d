"""spinekb diff: the same cases under two KBs, the changed studies grouped by the criterion that moved."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from spinekb.bridge.revision import impact
from spinekb.cli.main import main
from spinekb.explain.impact import impact_text
from spinekb.kb.knowledge import KnowledgeBase

from kbcopies import FLIPS, ROOT


@pytest.fixture(scope="module")
def report(kb90, f2f_cases):
    """The installed KB against the 90-day copy, over the boundary cases and every example."""
    return impact([str(f2f_cases), str(ROOT / "examples" / "cases")], KnowledgeBase.installed(),
                  KnowledgeBase.at(kb90))


def test_exactly_the_cases_that_flip_and_the_criterion_that_moved(report):
    """61, 75 and 90 days flip denied -> approved; 59, 60 and 91 days and every example do not."""
    assert {c.case_id for c in report.study_changes} == FLIPS
    assert all(c.flipped and c.before.decision == "denied" and c.after.decision == "approved"
               for c in report.study_changes)
    assert (report.changed, report.flipped, report.denied_to_approved, report.unattributed) == (3, 3, 3, 0)
    assert report.cases > 50 and report.studies >= report.cases
    (group,) = report.criteria
    assert (group.criterion, group.section, group.studies, group.flipped) == ("sp1_0_face_to_face_60d", "SP-1.0", 3, 3)
    assert [r.text for r in group.removed] == ["window(face_to_face,60)."]
    assert [r.text for r in group.added] == ["window(face_to_face,90)."]
    assert all(c.status_changed[0] == "sp1_0_face_to_face_60d" and "sp1_0_face_to_face_60d" in c.now_met
               for c in report.study_changes)


def test_text_names_the_criterion_its_rules_and_the_cases(report):
    """The text report: totals, the criterion with its words and rules, each flipped case."""
    text = impact_text(report)
    assert "changed: 3 studies: 3 decision(s) flipped (3 denied -> approved, 0 approved -> denied)" in text
    assert "SP-1.0 sp1_0_face_to_face_60d (changed): 3 studies in 3 case(s)" in text
    assert "- window(face_to_face,60).   [kb/sp1_0_general.lp:" in text
    assert all(f"{case}  72148  denied -> approved" in text for case in FLIPS)


def test_cli_json_and_exit_code(kb90, f2f_cases):
    """--format json is the whole report; exit 1 when some study changed."""
    result = CliRunner().invoke(main, ["diff", "--kb", str(kb90), str(f2f_cases), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert {c["case_id"] for c in data["study_changes"]} == FLIPS
    assert [g["criterion"] for g in data["criteria"]] == ["sp1_0_face_to_face_60d"]
    assert data["other"]["version"] == KnowledgeBase.at(kb90).version


def test_cli_same_kbs_exit_0_and_needs_another_kb(f2f_cases):
    """The installed KB against itself: nothing changed, exit 0; no --kb: exit 2."""
    result = CliRunner().invoke(main, ["diff", "--kb", str(ROOT / "kb"), str(f2f_cases)])
    assert result.exit_code == 0, result.output
    assert "The two KBs have the same rules." in result.stdout and "changed: 0 studies" in result.stdout
    missing = CliRunner().invoke(main, ["diff", str(f2f_cases)])
    assert missing.exit_code == 2 and "--kb DIR or --kb-ref" in missing.stderr
    bad = CliRunner().invoke(main, ["diff", "--kb-ref", "no-such-ref-anywhere", str(f2f_cases)])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --kb-ref no-such-ref-anywhere: no such revision")


def test_evaluate_explain_and_check_take_another_kb(kb90, f2f_cases):
    """--kb on evaluate, explain and check: decisions, rule locations and the version are that KB's."""
    case = str(f2f_cases / "lbp-75.json")
    runner = CliRunner()
    installed = json.loads(runner.invoke(main, ["evaluate", case, "--format", "json"]).stdout)
    other = json.loads(runner.invoke(main, ["evaluate", case, "--format", "json", "--kb", str(kb90)]).stdout)
    assert installed[0]["studies"][0]["decision"] == "denied" and other[0]["studies"][0]["decision"] == "approved"
    assert other[0]["kb_version"] == KnowledgeBase.at(kb90).version
    explained = runner.invoke(main, ["explain", case, "--kb", str(kb90)])
    assert explained.exit_code == 0 and "APPROVED" in explained.stdout.splitlines()[0]
    assert KnowledgeBase.at(kb90).version in explained.stdout
    checked = runner.invoke(main, ["check", "--kb", str(kb90), "--format", "json"])
    assert json.loads(checked.stdout)["kb_version"] == KnowledgeBase.at(kb90).version
    missing = runner.invoke(main, ["evaluate", case, "--kb", str(f2f_cases)])
    assert missing.exit_code == 2 and "not a KB folder" in missing.stderr

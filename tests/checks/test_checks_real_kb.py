"""`spinekb check` on the installed KB: what it reports, that kb/checks/checks.lp decides nothing, and
the command's exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import clingo
import pytest
from click.testing import CliRunner
from toykb import issues_of, program

import spinekb.cli.check_cmd as check_cmd
from spinekb.kb.checks import CHECKS, CHECKS_FILE, DECLARED_FILE, SEVERITIES, failing, run_checks, summary
from spinekb.bridge.facts import case_facts
from spinekb.kb.structure import base_rules
from spinekb.bridge.loading import load_case
from spinekb.cli.main import main
from spinekb.kb.syntax import parse_program
from spinekb.kb import kb_dir, kb_files, kb_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"


@pytest.fixture(scope="module")
def real_issues():
    """The issues of the installed KB (checked once for this module)."""
    return run_checks()


def test_every_real_issue_is_well_formed(real_issues):
    """Known check, known severity, a message; sections and criteria are ids, not prose."""
    for issue in real_issues:
        assert issue.check in CHECKS and issue.severity in SEVERITIES and issue.message
        assert all(s.startswith("SP-") or "-" in s for s in issue.sections), issue
        assert all(" " not in c for c in issue.criteria), issue


def test_the_real_kb_report_names_the_text_s_dangling_sp_11_1(real_issues):
    """SP-1.2 sends pathological fractures to "SP-11.1", a section the guideline does not have."""
    see = [line for path in kb_files() for line in path.read_text(encoding="utf-8").splitlines()
           if line.startswith("see(") and '"SP-11.1"' in line]
    if not see:
        pytest.skip("no KB file encodes the SP-11.1 cross-reference yet")
    found = [i for i in issues_of("xref_unknown", real_issues) if "SP-11.1" in i.message]
    assert found and found[0].severity == "error"


def test_the_real_kb_dangling_targets_are_exactly_those_outside_the_section_list(real_issues):
    """Every xref_unknown names a target that neither sections.lp nor an external prefix knows."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], kb_text())
    ctl.ground([("base", [])])
    atoms = [a.symbol for a in ctl.symbolic_atoms if a.is_fact]
    sections = {a.arguments[0].string for a in atoms if a.name == "section" and len(a.arguments) == 2}
    prefixes = {a.arguments[0].string for a in atoms if a.name == "external_guideline"}
    targets = {a.arguments[1].string for a in atoms if a.name == "see" and len(a.arguments) == 3}
    dangling = {t for t in targets if t not in sections and t.split("-", 1)[0] not in prefixes}
    reported = {t for t in targets for i in issues_of("xref_unknown", real_issues) if f"refers to {t}:" in i.message}
    assert reported == dangling


def test_checks_lp_is_left_out_of_the_rules_that_decide_cases():
    """Its blocks are not base: the per-rule analysis of the KB sees none of its rules, nor of the
    data of kb/checks/checks_text.lp."""
    program = parse_program([*kb_files(), CHECKS_FILE, DECLARED_FILE], kb_dir())
    assert {s.location.file for s in program} >= {"checks/checks.lp", "checks/checks_text.lp"}
    assert not any(Path(r.location.file).name in ("checks.lp", "checks_text.lp") for r in base_rules(program))


def _decisions(text: str, files: list[Path]) -> set[str]:
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], text)
    with ctl.backend() as backend:
        for index, path in enumerate(files):
            for symbol in case_facts(index, load_case(path)):
                backend.add_rule([backend.add_atom(symbol)])
    ctl.ground([("base", [])])
    with ctl.solve(yield_=True) as handle:
        return {str(s) for s in next(iter(handle)).symbols(shown=True)}


def test_the_decision_program_and_its_version_exclude_the_checks(tmp_path, monkeypatch):
    """Editing a check leaves kb_version (stamped on every decision) unchanged; editing a rule of
    the decision program changes it. The check programs live in kb/checks/, outside kb_files()."""
    import spinekb.kb as kb

    assert not any(p.parent.name == "checks" for p in kb_files())
    assert "#program kb_checks." not in kb_text()
    copy = tmp_path / "kb"
    (copy / "checks").mkdir(parents=True)
    for path in kb_files():
        (copy / path.name).write_bytes(path.read_bytes())
    for path in (Path(kb.__file__).parent / "checks").glob("*.lp"):
        (copy / "checks" / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(kb, "kb_dir", lambda: copy)

    def version() -> str:
        kb.kb_version.cache_clear()
        return kb.kb_version()

    before = version()
    with (copy / "checks" / "checks.lp").open("a", encoding="utf-8") as checks:
        checks.write("\n% a new check\n")
    assert version() == before
    with (copy / "sp5_1_low_back_pain.lp").open("a", encoding="utf-8") as rules:
        rules.write("\nwindow(sp5_1_unused, 1).\n")
    assert version() != before
    kb.kb_version.cache_clear()


# -- the command -------------------------------------------------------------------------------

def test_check_exit_code_follows_the_real_report(real_issues):
    """Exit 1 exactly when the installed KB shows an error or a warning."""
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == (1 if failing(real_issues) else 0)
    assert result.stdout.startswith("spinekb check:")
    for check in {i.check for i in real_issues}:
        assert f"] {check}: " in result.stdout


def test_check_json_report_shape(real_issues):
    """--format json: kb_version, issues with their seven fields, summary counts that add up; the
    kinds of every check the KB shows, the new ones included."""
    result = CliRunner().invoke(main, ["check", "--format", "json"])
    report = json.loads(result.stdout)
    assert set(report) == {"kb_version", "issues", "summary"}
    assert report["summary"] == summary(real_issues)
    assert sum(report["summary"].values()) == len(report["issues"])
    assert all(set(i) == {"check", "severity", "sections", "criteria", "codes", "quotes", "message"}
               for i in report["issues"])
    assert all(set(q) == {"section", "words"} for i in report["issues"] for q in i["quotes"])
    kinds = {i["check"] for i in report["issues"]}
    assert kinds == {i.check for i in real_issues}
    assert {"title_cited_differently", "contents_title_differs", "uncoded_study", "threshold_differs"} <= kinds


@pytest.mark.parametrize("extra, code", [
    ((), 0),                                                          # clean
    (('see("SP-5.1", "SP-9", "See: SP-9").',), 0),                    # info only
    (('criterion(sp5_1_orphan, "SP-5.1", "w").',), 1),                # a warning
    (('pathway_study(sp5_1_p_mri, "79999").',), 1),                   # an error
])
def test_check_exit_codes_on_synthetic_kbs(monkeypatch, extra, code):
    """0 when clean or info only, 1 on any warning or error."""
    monkeypatch.setattr(check_cmd, "run_checks", lambda: run_checks(program(*extra)))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == code, result.stdout
    if code == 0 and not extra:
        assert "the KB is consistent" in result.stdout


def test_check_exits_2_with_one_line_when_the_kb_does_not_parse(monkeypatch):
    """A syntax error in the KB is a user error at the edge: one line, exit 2."""
    monkeypatch.setattr(check_cmd, "run_checks", lambda: run_checks(program("holds(C, x) :- .")))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2 and result.stderr.startswith("error: kb:")

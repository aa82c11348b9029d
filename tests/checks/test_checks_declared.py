"""The checks over what kb/checks/checks_text.lp declares about the text: studies named without a CPT
code, one kind of requirement with different numbers in different sections, and numbers the
section files state that no declared threshold accounts for; on the toy KB and on the real one."""
from __future__ import annotations

from pathlib import Path

import pytest
from toykb import issues_of, lp_file, program

from spinekb.kb.checks import failing, run_checks

# -- uncoded studies --------------------------------------------------------------------------

def test_a_declared_uncoded_study_is_info_quoting_its_section(check):
    """uncoded_study/3 is listed with its words and note, and does not fail the run."""
    issues = check('uncoded_study("SP-5.1", "Gallium scan whole body", "no code for it").')
    found = issues_of("uncoded_study", issues)
    assert [(i.severity, i.sections, i.quotes) for i in found] == [
        ("info", ("SP-5.1",), (("SP-5.1", "Gallium scan whole body"),))]
    assert "no code for it" in found[0].message and not failing(issues)


def test_no_uncoded_study_without_a_declaration(check):
    """The clean toy declares none."""
    assert issues_of("uncoded_study", check()) == []


# -- thresholds that differ across sections ---------------------------------------------------

def test_one_kind_with_different_numbers_in_two_sections_is_one_info_item(check):
    """Six weeks in SP-5.1, four weeks in SP-6.1: one issue for the kind, both numbers quoted."""
    found = issues_of("threshold_differs", check(
        'threshold_kind(trial, "length of the treatment trial").',
        'threshold(trial, "SP-5.1", 6, weeks, "6-week trial").',
        'threshold(trial, "SP-6.1", 4, weeks, "four (4) weeks").'))
    assert [(i.severity, i.sections) for i in found] == [("info", ("SP-5.1", "SP-6.1"))]
    assert found[0].message == ('length of the treatment trial: 6 weeks in SP-5.1 ("6-week trial"); '
                                '4 weeks in SP-6.1 ("four (4) weeks")')
    assert found[0].quotes == (("SP-5.1", "6-week trial"), ("SP-6.1", "four (4) weeks"))


def test_the_same_duration_in_other_units_does_not_differ(check):
    """6 weeks and 42 days, 1 year and 12 months are the same threshold."""
    issues = check('threshold(trial, "SP-5.1", 6, weeks, "a").', 'threshold(trial, "SP-6.1", 42, days, "b").',
                   'threshold(look, "SP-5.1", 1, years, "c").', 'threshold(look, "SP-6.1", 12, months, "d").')
    assert issues_of("threshold_differs", issues) == []


def test_different_numbers_within_one_section_or_of_different_kinds_do_not_differ(check):
    """Annual and three-yearly in SP-13.2 are two phases of one section; age 70 and 60 days are
    different kinds."""
    issues = check('threshold(interval, "SP-13.2", 1, years, "a").', 'threshold(interval, "SP-13.2", 3, years, "b").',
                   'threshold(age, "SP-1.2", 70, years, "c").', 'threshold(recency, "SP-5.1", 60, days, "d").')
    assert issues_of("threshold_differs", issues) == []


# -- numbers of the section files that no threshold declares ----------------------------------

def _section_file(*rules: str) -> list[Path]:
    """The toy KB with a section file of SP-5.1 (numbers are read from files named sp<section>_*)."""
    return [*program(), lp_file("sp5_1_toy.lp", "\n".join(rules) + "\n")]


def test_a_number_a_section_file_compares_with_and_no_threshold_declares_is_info():
    """``A > 70`` in kb/sp5_1_toy.lp, and a window fact of 90 days, with nothing declared."""
    issues = run_checks(_section_file("criterion(sp5_1_old, \"SP-5.1\", \"Age >70 years\").",
                                      "holds(C, sp5_1_old) :- age(C, A), A > 70.",
                                      "sp5_1_window(recent, 90)."))
    found = issues_of("threshold_undeclared", issues)
    assert sorted((i.severity, i.sections, i.message.split(" states ")[0]) for i in found) == [
        ("info", ("SP-5.1",), "kb/sp5_1_toy.lp:2"), ("info", ("SP-5.1",), "kb/sp5_1_toy.lp:3")]
    assert [i.message.split(", a number")[0] for i in found] == [
        "kb/sp5_1_toy.lp:2 states 70 (A > 70)", "kb/sp5_1_toy.lp:3 states 90 (sp5_1_window(recent,90))"]


def test_threshold_facts_are_read_as_window_facts_are_and_other_numeric_facts_are_not():
    """``sp5_1_threshold(age, 65)`` names a threshold; ``sp5_1_reflex_grade(clonus, 4)`` does not."""
    found = issues_of("threshold_undeclared", run_checks(_section_file("sp5_1_threshold(age, 65).",
                                                                       "sp5_1_reflex_grade(clonus, 4).")))
    assert [i.message.split(", a number")[0] for i in found] == [
        "kb/sp5_1_toy.lp:1 states 65 (sp5_1_threshold(age,65))"]


def test_a_number_a_declared_threshold_states_in_any_unit_is_accounted_for():
    """70 is "Age >70 years"; 90 days is "within 3 months"; a subsection's threshold counts for
    the file of its chapter."""
    issues = run_checks(_section_file(
        "holds(C, sp5_1_old) :- age(C, A), A > 70.", "sp5_1_window(recent, 90).",
        'threshold(age, "SP-5.1", 70, years, "Age >70 years").',
        'threshold(recent, "SP-5.1", 3, months, "within 3 months").'))
    assert issues_of("threshold_undeclared", issues) == []
    chapter = run_checks([*program(), lp_file("sp5_toy.lp", "holds(C, sp5_1_old) :- age(C, A), A > 70.\n"
                                              'threshold(age, "SP-5.1", 70, years, "Age >70 years").\n')])
    assert issues_of("threshold_undeclared", chapter) == []


def test_numbers_outside_section_files_are_not_read(check):
    """The toy section lives in test.lp (no section in its name): its 42 days are not read."""
    assert issues_of("threshold_undeclared", check()) == []


# -- the real KB ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_issues():
    """The issues of the installed KB."""
    return run_checks()


def test_the_real_uncoded_studies_include_the_infection_scans(real_issues):
    """SP-1.2's "3-phase bone scan complete spine" and "Gallium scan whole body" have no code."""
    quoted = {q for i in issues_of("uncoded_study", real_issues) for q in i.quotes}
    assert {("SP-1.2", "3-phase bone scan complete spine"), ("SP-1.2", "Gallium scan whole body"),
            ("SP-10.2", "MRI SI joints without contrast")} <= quoted


@pytest.mark.parametrize("section, words", [
    ("SP-16.2", "Failure of at least four (4) weeks of conservative treatment"),   # four weeks against six
    ("SP-3.2", "Age ≥65 years"),                                                    # against SP-1.2's >70
    ("SP-16.2", "demonstrating severe spinal stenosis at the level to be treated within the past twenty-four (24) "
                "months"),
    ("SP-1.3", "detailed neurologic examination (within the prior 3 months)"),       # against 60 days
])
def test_the_real_thresholds_that_differ_across_sections(real_issues, section, words):
    """Six weeks (SP-1.0) against four (SP-16.2); age >70 (SP-1.2) against >=65 (SP-3.2);
    12 months (SP-1.3) against 6 (SP-16.1) and 24 (SP-16.2); 60 days against 3 months."""
    assert any((section, words) in i.quotes for i in issues_of("threshold_differs", real_issues))


def test_the_real_recent_trial_window_is_the_same_everywhere(real_issues):
    """"recent (within 3 months)" wherever it is stated: no finding for trial_recency."""
    assert not any("how recently the failed treatment trial" in i.message
                   for i in issues_of("threshold_differs", real_issues))

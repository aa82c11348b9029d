"""kb/checks/checks.lp on small synthetic KBs: each check fires on the one flaw it is about, and the
clean toy section passes every check."""
from __future__ import annotations

from toykb import CLEAN, issues_of, lp_file, program

from spinekb.kb.checks import CHECKS, failing, run_checks, summary


def test_the_clean_toy_section_passes_every_check(check):
    """No issue at all on a consistent KB: every check can stay silent."""
    assert check() == []


# -- 1. cross-references ----------------------------------------------------------------------

def test_a_see_to_a_section_the_guideline_does_not_have_is_an_error(check):
    """SP-11.1 is not in the section list (the text has SP-11 only)."""
    found = issues_of("xref_unknown", check(
        'see("SP-5.1", "SP-11.1", "See: Pathological Spinal Compression Fractures (SP-11.1)").'))
    assert [i.severity for i in found] == ["error"]
    assert "SP-11.1" in found[0].message and "Pathological Spinal Compression" in found[0].message
    assert found[0].sections == ("SP-5.1",)


def test_a_see_to_another_guideline_is_not_dangling(check):
    """PVD-6 names the Peripheral Vascular Disease guideline, whose prefix sections.lp declares."""
    issues = check('see("SP-5.1", "PVD-6", "See: PVD-6").')
    assert issues_of("xref_unknown", issues) == []


def test_a_see_to_an_unknown_guideline_prefix_is_an_error(check):
    """XYZ is no guideline the text refers to."""
    assert issues_of("xref_unknown", check('see("SP-5.1", "XYZ-6", "See: XYZ-6").'))


def test_a_redirect_to_an_unknown_target_is_an_error_naming_its_criterion(check):
    """redirect/2 targets are cross-references too."""
    found = issues_of("xref_unknown", check('redirect(sp5_1_improving, "SP-9.1").'))
    assert found and found[0].criteria == ("sp5_1_improving",)


def test_a_see_to_a_section_not_yet_encoded_is_info_and_does_not_fail(check):
    """SP-9 exists but no file declares encoded("SP-9"): an info item, and info alone passes."""
    issues = check('see("SP-5.1", "SP-9", "See: Lumbar Spinal Stenosis (SP-9)").')
    found = issues_of("xref_not_encoded", issues)
    assert [(i.severity, i.sections) for i in found] == [("info", ("SP-5.1", "SP-9"))]
    assert issues == found and not failing(issues)


# -- 2. the code table ------------------------------------------------------------------------

def test_a_pathway_study_missing_from_the_code_table_is_an_error(check):
    """A pathway supporting a code cpt/5 does not list."""
    found = issues_of("code_unknown", check('pathway_study(sp5_1_p_mri, "79999").'))
    assert [i.severity for i in found] == ["error"] and "79999" in found[0].message
    assert found[0].criteria == ("sp5_1_p_mri",)


def test_a_cpt_string_in_a_rule_body_missing_from_the_code_table_is_an_error(check):
    """requested(C, "79998") in a rule body is found by reading the rule's syntax."""
    found = issues_of("code_unknown", check(
        'criterion(sp5_1_x, "SP-5.1", "x"). all_of(sp5_1_p_mri, sp5_1_x).',
        'holds(C, sp5_1_x) :- requested(C, "79998").'))
    assert len(found) == 1 and "79998" in found[0].message and "test.lp:" in found[0].message


def test_excludes_and_not_indicated_of_unknown_codes_are_errors(check):
    """Both statements name codes the table must know."""
    found = issues_of("code_unknown", check('excludes(sp5_1_improving, "79997").',
                                            'not_indicated(sp5_1_improving, "79996").'))
    assert sorted(m for i in found for m in ("79997", "79996") if m in i.message) == ["79996", "79997"]


def test_a_text_code_that_disagrees_with_the_table_is_a_warning(check):
    """The text calls 72159 catheter angiography; the table says MRA Spinal Canal."""
    found = issues_of("text_code_mismatch", check('text_code("SP-5.1", "72159", angiography, spine, with).'))
    assert [i.severity for i in found] == ["warning"]
    assert "angiography spine with" in found[0].message and "mra spine none" in found[0].message


def test_a_text_code_of_an_unknown_code_is_an_error_not_a_mismatch(check):
    """An unknown code has no row to disagree with."""
    issues = check('text_code("SP-5.1", "79995", mri, lumbar, without).')
    assert issues_of("code_unknown", issues) and not issues_of("text_code_mismatch", issues)


# -- 3a. declared and defined -----------------------------------------------------------------

def test_a_child_with_neither_declaration_nor_definition_is_missing(check):
    """all_of(p, sp2_3_x) where SP-2.3 is not encoded: missing, and the pathway holds in no case."""
    issues = check("all_of(sp5_1_p_mri, sp2_3_mri_contraindicated).")
    missing = issues_of("criterion_missing", issues)
    assert [(i.severity, i.criteria[0]) for i in missing] == [("error", "sp2_3_mri_contraindicated")]
    never = issues_of("never_satisfiable", issues)
    assert [i.criteria[:2] for i in never] == [("sp5_1_p_mri", "sp2_3_mri_contraindicated")]


def test_a_declared_but_undefined_child_is_an_error(check):
    """A criterion/3 fact alone does not make a criterion hold."""
    found = issues_of("criterion_undefined", check(
        'criterion(sp5_1_x, "SP-5.1", "x"). any_of(sp5_1_not_improving, sp5_1_x).'))
    assert [i.criteria[0] for i in found] == ["sp5_1_x"]


def test_a_defined_criterion_without_criterion_fact_is_undeclared(check):
    """Every criterion quotes the guideline: a holds rule alone is not enough."""
    found = issues_of("criterion_undeclared", check(
        "all_of(sp5_1_p_mri, sp5_1_y).", "holds(C, sp5_1_y) :- age(C, A), A > 18."))
    assert [i.criteria for i in found] == [("sp5_1_y",)]


def test_a_criterion_declared_but_neither_defined_nor_used_is_a_warning(check):
    """Text encoded as a criterion that nothing reads."""
    found = issues_of("criterion_unused", check('criterion(sp5_1_orphan, "SP-5.1", "some words").'))
    assert [(i.severity, i.criteria) for i in found] == [("warning", ("sp5_1_orphan",))]


def test_a_defined_leaf_nothing_uses_is_not_unused(check):
    """A leaf with a holds rule may stand alone (explanations cite it)."""
    issues = check('criterion(sp5_1_alone, "SP-5.1", "w").', "holds(C, sp5_1_alone) :- age(C, A), A > 70.")
    assert issues_of("criterion_unused", issues) == []


def test_a_criterion_that_depends_on_itself_is_an_error(check):
    """A cycle through none_of would make decide.lp unstratified."""
    found = issues_of("criterion_cycle", check('criterion(sp5_1_a, "SP-5.1", "a"). criterion(sp5_1_b, "SP-5.1", "b").',
                                              "none_of(sp5_1_a, sp5_1_b). all_of(sp5_1_b, sp5_1_a).",
                                              "all_of(sp5_1_p_mri, sp5_1_a)."))
    assert sorted(i.criteria[0] for i in found) == ["sp5_1_a", "sp5_1_b"]


# -- 3b. abstract satisfiability --------------------------------------------------------------

def test_a_pathway_needing_a_criterion_and_its_negation_holds_in_no_case(check):
    """all_of(p, improving) next to all_of(p, not_improving): no abstract model makes p hold."""
    found = issues_of("never_satisfiable", check("all_of(sp5_1_p_mri, sp5_1_improving)."))
    assert [(i.severity, i.criteria) for i in found] == [("error", ("sp5_1_p_mri",))]
    assert "contradict" in found[0].message and found[0].message.startswith("pathway SP-5.1 sp5_1_p_mri")


def test_any_of_a_criterion_and_its_negation_is_satisfiable(check):
    """The same two children under any_of can always hold."""
    issues = check('criterion(sp5_1_either, "SP-5.1", "e").',
                   'any_of(sp5_1_either, (sp5_1_improving; sp5_1_not_improving)).',
                   "all_of(sp5_1_p_mri, sp5_1_either).")
    assert issues_of("never_satisfiable", issues) == []


# -- 3c. leaves whose rules never fire --------------------------------------------------------

def test_a_leaf_testing_a_term_the_vocabulary_lacks_is_unsatisfiable(check):
    """finding(C, t) with t not a term/2: the case format never produces it."""
    issues = check('criterion(sp5_1_flag, "SP-5.1", "flag"). all_of(sp5_1_p_mri, sp5_1_flag).',
                   "holds(C, sp5_1_flag) :- finding(C, no_such_term).")
    leaf = issues_of("leaf_unsatisfiable", issues)
    assert [(i.severity, i.criteria) for i in leaf] == [("error", ("sp5_1_flag",))]
    assert "no_such_term" in leaf[0].message
    assert issues_of("unknown_term", issues)
    assert [i.criteria[:2] for i in issues_of("never_satisfiable", issues)] == [("sp5_1_p_mri", "sp5_1_flag")]


def test_a_negated_unknown_term_is_reported_but_does_not_kill_the_rule(check):
    """not finding(C, typo) is always true: a typo to report, not an unsatisfiable leaf."""
    issues = check("holds(C, sp5_1_pain) :- condition(C, low_back_pain), not finding(C, typo_term).")
    assert [i.message.count("typo_term") for i in issues_of("unknown_term", issues)] == [1]
    assert issues_of("leaf_unsatisfiable", issues) == [] and issues_of("rule_unsatisfiable", issues) == []


def test_a_leaf_reading_a_predicate_no_one_provides_is_unsatisfiable(check):
    """condtion/2 (a typo) is neither a case predicate nor derived by any rule."""
    found = issues_of("leaf_unsatisfiable", check(
        "holds(C, sp5_1_pain) :- condtion(C, low_back_pain).", base=CLEAN_WITHOUT_PAIN_RULE))
    assert len(found) == 1 and "condtion/2" in found[0].message


def test_contradictory_comparisons_make_a_rule_dead(check):
    """A > 70 and A < 18 on the same variable; other leaves' rules stay live."""
    issues = check('criterion(sp5_1_age, "SP-5.1", "age"). all_of(sp5_1_p_mri, sp5_1_age).',
                   "holds(C, sp5_1_age) :- age(C, A), A > 70, A < 18.")
    assert [i.criteria for i in issues_of("leaf_unsatisfiable", issues)] == [("sp5_1_age",)]


def test_compatible_comparisons_and_equal_bounds_are_not_contradictions(check):
    """18 <= A <= 18 has one value; A = 5, A != 6 has one too."""
    issues = check('criterion(sp5_1_age, "SP-5.1", "age"). all_of(sp5_1_p_mri, sp5_1_age).',
                   "holds(C, sp5_1_age) :- age(C, A), A >= 18, A <= 18.",
                   "holds(C, sp5_1_age) :- age(C, A), A = 5, A != 6.")
    assert issues_of("leaf_unsatisfiable", issues) == [] and issues_of("rule_unsatisfiable", issues) == []


def test_one_dead_rule_of_a_leaf_with_a_live_rule_is_a_warning(check):
    """The leaf can still hold through its other rule."""
    issues = check("holds(C, sp5_1_trial) :- age(C, A), A = 5, A = 6.")
    found = issues_of("rule_unsatisfiable", issues)
    assert [(i.severity, i.criteria) for i in found] == [("warning", ("sp5_1_trial",))]
    assert issues_of("leaf_unsatisfiable", issues) == []


# -- 4. conflicts -----------------------------------------------------------------------------

AORTIC = """
encoded("SP-1.2").
term(known_aaa, "Known abdominal aortic aneurysm.").
criterion(sp1_2_aortic, "SP-1.2", "Aortic Aneurysm or Dissection: No spine imaging indicated").
holds(C, sp1_2_aortic) :- finding(C, known_aaa).
"""


def test_a_study_one_section_approves_and_another_says_not_indicated_is_a_conflict(check):
    """SP-1.2 says no spine imaging for an aortic aneurysm; SP-5.1's pathway approves 72148."""
    found = issues_of("conflict", check(AORTIC, 'not_indicated(sp1_2_aortic, "72148").'))
    assert [(i.severity, i.sections, i.criteria) for i in found] == [
        ("warning", ("SP-1.2", "SP-5.1"), ("sp1_2_aortic", "sp5_1_p_mri"))]
    assert "No spine imaging indicated" in found[0].message and "72148" in found[0].message


def test_a_hedged_statement_beside_a_pathway_is_a_tension_not_a_conflict(check):
    """"generally not indicated" (hedged/1) against an approval is info, and does not fail the run."""
    issues = check(AORTIC, 'not_indicated(sp1_2_aortic, "72148"). hedged(sp1_2_aortic).')
    assert issues_of("conflict", issues) == []
    found = issues_of("tension", issues)
    assert [(i.severity, i.criteria) for i in found] == [("info", ("sp1_2_aortic", "sp5_1_p_mri"))]
    assert "generally advises against" in found[0].message
    assert not failing(issues)


def test_no_conflict_when_the_pathway_itself_rules_the_situation_out(check):
    """With none_of(aortic) among its conditions the pathway never holds together with it."""
    issues = check(AORTIC, 'not_indicated(sp1_2_aortic, "72148").',
                   'criterion(sp5_1_no_aortic, "SP-5.1", "no aneurysm"). none_of(sp5_1_no_aortic, sp1_2_aortic).',
                   "all_of(sp5_1_p_mri, sp5_1_no_aortic).")
    assert issues_of("conflict", issues) == []


def test_no_conflict_within_one_section_or_for_another_study(check):
    """Same-section statements and other codes are no cross-section conflict."""
    issues = check('not_indicated(sp5_1_improving, "72148").', AORTIC, 'not_indicated(sp1_2_aortic, "72146").')
    assert issues_of("conflict", issues) == []


def test_an_exclusion_of_another_section_is_reported_as_info(check):
    """excludes/2 decides (the exclusion wins): reported, not failing."""
    issues = check(AORTIC, 'excludes(sp1_2_aortic, "72148").')
    found = issues_of("overridden", issues)
    assert [(i.severity, i.criteria) for i in found] == [("info", ("sp1_2_aortic", "sp5_1_p_mri"))]
    assert not failing(issues)


# -- 5. declarations --------------------------------------------------------------------------

def test_a_pathway_without_scope_is_a_warning(check):
    """A pathway must say which presentation it addresses, or a denial cannot rank it."""
    base = program(base=CLEAN.replace("scope(sp5_1_p_mri, sp5_1_pain).", ""))
    found = issues_of("pathway_no_scope", run_checks(base))
    assert [(i.severity, i.criteria) for i in found] == [("warning", ("sp5_1_p_mri",))]
    assert issues_of("pathway_no_scope", check()) == []


def test_a_criterion_declared_twice_differently_is_an_error(check):
    """One id, one quote."""
    found = issues_of("criterion_duplicate", check('criterion(sp5_1_pain, "SP-5.1", "other words").'))
    assert [i.criteria for i in found] == [("sp5_1_pain",)] and "other words" in found[0].message


def test_a_criterion_id_naming_another_section_is_a_warning(check):
    """sp6_1_x declared in SP-5.1."""
    found = issues_of("criterion_prefix", check('criterion(sp6_1_x, "SP-5.1", "x").',
                                                "holds(C, sp6_1_x) :- age(C, 3)."))
    assert [(i.severity, i.criteria) for i in found] == [("warning", ("sp6_1_x",))] and "SP-6.1" in found[0].message


def test_criteria_of_a_section_without_encoded_is_a_warning(check):
    """SP-6.1 criteria exist, encoded("SP-6.1") does not."""
    found = issues_of("section_not_encoded", check('criterion(sp6_1_x, "SP-6.1", "x").',
                                                   "holds(C, sp6_1_x) :- age(C, 3)."))
    assert [i.sections for i in found] == [("SP-6.1",)]


def test_a_section_id_outside_the_section_list_is_an_error(check):
    """SP-99 is no section."""
    found = issues_of("section_unknown", check('encoded("SP-99").'))
    assert [i.sections for i in found] == [("SP-99",)]


def test_pathways_without_study_or_without_section(check):
    """pathway/2 without pathway_study/2, and the reverse."""
    issues = check('criterion(sp5_1_p2, "SP-5.1", "p2"). pathway(sp5_1_p2, "SP-5.1").',
                   "all_of(sp5_1_p2, sp5_1_pain).",
                   'criterion(sp5_1_p3, "SP-5.1", "p3"). pathway_study(sp5_1_p3, "72148").',
                   "all_of(sp5_1_p3, sp5_1_pain).")
    assert [i.criteria for i in issues_of("pathway_no_study", issues)] == [("sp5_1_p2",)]
    assert [i.criteria for i in issues_of("pathway_undeclared", issues)] == [("sp5_1_p3",)]


def test_mixed_and_several_none_of_children_are_warnings(check):
    """decide.lp reads the kinds of a composite, and several none_of children, as alternatives."""
    issues = check("any_of(sp5_1_p_mri, sp5_1_improving).", "none_of(sp5_1_not_improving, sp5_1_trial).")
    assert [i.criteria for i in issues_of("composite_mixed", issues)] == [("sp5_1_p_mri",)]
    assert [i.criteria for i in issues_of("none_of_several", issues)] == [("sp5_1_not_improving",)]


def test_every_issue_is_of_a_known_check_and_severity(check):
    """The Python side words every check the ASP side can derive."""
    issues = check('see("SP-5.1", "SP-11.1", "x").', 'criterion(sp5_1_orphan, "SP-5.1", "w").', AORTIC,
                   'not_indicated(sp1_2_aortic, "72148").')
    assert {i.check for i in issues} <= set(CHECKS)
    assert summary(issues) == {"error": 1, "warning": 2, "info": 0}


CLEAN_WITHOUT_PAIN_RULE = "\n".join(
    line for line in CLEAN.splitlines() if not line.startswith("holds(C, sp5_1_pain)"))


def test_run_checks_reads_the_synthetic_program_not_the_installed_kb():
    """A program's files replace the installed KB entirely."""
    assert run_checks([lp_file("test.lp", "section(\"SP-1\", \"General\"). encoded(\"SP-1\").")]) == []

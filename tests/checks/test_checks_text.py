"""The checks that read the guideline's own text (kb/guidetext.py): titles as cited, as the
chapter contents list them and as headed, and the quotations of kb/checks/checks_text.lp; on small
synthetic texts (next to the toy KB) and on the real guideline."""
from __future__ import annotations

import pytest
from toykb import issues_of, program

from spinekb.kb.checks import Issue, run_checks
from spinekb.kb.guidetext import GuidelineText, read_guideline

#: A toy guideline text: the SP-5 chapter with its contents, headings and a citation of SP-1.2,
#: broken across lines and pages as the PDF's text is. Every title agrees with sections.lp.
CLEAN_TEXT = """\
Red Flag Indications (SP-1.2)
Red Flag Indications are intended to represent the potential for life or limb threatening
conditions.
 Low Back (Lumbar Spine) Pain/Coccydynia
without Neurological Features (SP-5)

Low Back (Lumbar Spine) Pain without Neurological Features (SP-
5.1) 30
Coccydynia without Neurological Features (SP-5.2) 30
 Low Back (Lumbar Spine) Pain without Neurological Features (SP-5.1)
 Failure of recent (within 3 months) 6-week trial of provider-directed treatment (unless
presence of a red flag as defined in Red Flag

Spine Imaging Guidelines                             V1.0.2023
21 of 58
Sp
in
e
Im
ag
in
g
G
ui
de
lin
es
Indications (SP-1.2))
Coccydynia without Neurological Features (SP-5.2)
 Plain x-rays of the sacrum/coccyx are negative for fracture
"""

TOY_TITLES = {"SP-1.2": "Red Flag Indications", "SP-5": "Low Back (Lumbar Spine) Pain/Coccydynia without "
              "Neurological Features", "SP-5.1": "Low Back (Lumbar Spine) Pain without Neurological Features",
              "SP-5.2": "Coccydynia without Neurological Features"}


def text_checks(text: str, *extra: str) -> list[Issue]:
    """The issues of the toy KB plus ``extra`` lines, checked against a guideline text."""
    return run_checks(program(*extra), guideline=text)


# -- reading the text -------------------------------------------------------------------------

def test_citations_are_read_across_line_breaks_page_furniture_and_the_watermark():
    """"(SP-\\n5.1) 30" is a contents entry; the reference to SP-1.2 runs across a footer and the
    vertical watermark and still names "Red Flag Indications"; each has its section and line."""
    text = GuidelineText.parse(CLEAN_TEXT, TOY_TITLES)
    assert [(c.kind, c.target, c.title, c.section, c.line, c.page) for c in text.citations] == [
        ("heading", "SP-1.2", "Red Flag Indications", "SP-1.2", 1, None),
        ("heading", "SP-5", TOY_TITLES["SP-5"], "SP-5", 5, None),
        ("contents", "SP-5.1", TOY_TITLES["SP-5.1"], "SP-5", 7, 30),
        ("contents", "SP-5.2", TOY_TITLES["SP-5.2"], "SP-5", 9, 30),
        ("heading", "SP-5.1", TOY_TITLES["SP-5.1"], "SP-5.1", 10, None),
        ("reference", "SP-1.2", "Red Flag Indications", "SP-5.1", 28, None),
        ("heading", "SP-5.2", TOY_TITLES["SP-5.2"], "SP-5.2", 29, None),
    ]


def test_a_section_s_text_runs_to_the_next_heading_outside_it():
    """SP-5 holds SP-5.1 and SP-5.2; SP-5.1 stops at SP-5.2's heading."""
    text = GuidelineText.parse(CLEAN_TEXT, TOY_TITLES)
    assert text.contains("SP-5.1", "Failure of recent (within 3 months) 6-week trial")
    assert not text.contains("SP-5.2", "Failure of recent (within 3 months) 6-week trial")
    assert text.contains("SP-5", "sacrum/coccyx are negative") and text.contains("SP-5.2", "sacrum/coccyx")
    assert not text.contains("SP-7", "anything")


def test_a_reference_s_title_stops_at_see_at_another_citation_and_at_a_lower_case_word():
    """Without the section's own title to match, the cited title is the run of title words."""
    text = GuidelineText.parse("the text says see: Neck Trauma (SP-3.2), Upper Back Trauma (SP-4.2) and\n"
                               "as defined in Red Flags (SP-1.2)\n", {})
    assert [c.title for c in text.citations] == ["Neck Trauma", "Upper Back Trauma", "Red Flags"]
    assert {c.kind for c in text.citations} == {"reference"}


# -- 1. titles cited differently --------------------------------------------------------------

def test_the_clean_toy_text_passes_every_text_check():
    """Titles as the section list gives them: no issue at all."""
    assert text_checks(CLEAN_TEXT) == []


def test_a_title_cited_differently_from_the_heading_is_a_warning_naming_where():
    """"Red Flags (SP-1.2)" in SP-5.2's text: the citing section and line, both titles quoted."""
    issues = text_checks(CLEAN_TEXT + "See: Red Flags (SP-1.2) for appropriate imaging\n")
    found = issues_of("title_cited_differently", issues)
    assert [(i.severity, i.sections) for i in found] == [("warning", ("SP-5.2", "SP-1.2"))]
    assert found[0].quotes == (("SP-5.2", "Red Flags (SP-1.2)"), ("SP-1.2", "Red Flag Indications"))
    assert "line 31" in found[0].message


def test_a_citation_with_another_section_s_title_says_whose_title_it_is():
    """"Red Flag Indications (SP-1.3)": the title of SP-1.2 under SP-1.3's id."""
    found = issues_of("title_cited_differently", text_checks(CLEAN_TEXT + "See: Red Flag Indications (SP-1.3)\n"))
    assert len(found) == 1 and "that is the title of SP-1.2" in found[0].message


def test_a_title_broken_across_lines_or_differing_in_case_only_is_not_reported():
    """The full title across a blank line, and "red flag indications", cite SP-1.2 as headed."""
    issues = text_checks(CLEAN_TEXT + "See: Red Flag\n\nIndications (SP-1.2) and red flag indications (SP-1.2).\n")
    assert issues_of("title_cited_differently", issues) == []


def test_a_citation_of_a_section_the_guideline_lacks_is_left_to_xref_unknown():
    """"Lumbar Spinal Stenosis (SP-9.1)": no section SP-9.1, so no title to compare with."""
    assert text_checks(CLEAN_TEXT + "See also: Lumbar Spinal Stenosis (SP-9.1)\n") == []


# -- 2. contents against headings -------------------------------------------------------------

def test_contents_listing_other_words_than_the_heading_is_a_warning_quoting_both():
    """"Coccydynia (SP-5.2) 30" in the contents; the body heads it "Coccydynia without ..."."""
    text = CLEAN_TEXT.replace("Coccydynia without Neurological Features (SP-5.2) 30", "Coccydynia (SP-5.2) 30")
    found = issues_of("contents_title_differs", text_checks(text))
    assert [(i.severity, i.sections) for i in found] == [("warning", ("SP-5", "SP-5.2"))]
    assert found[0].quotes == (("SP-5", "Coccydynia (SP-5.2) 30"), ("SP-5.2", TOY_TITLES["SP-5.2"]))
    assert "(line 9, page 30)" in found[0].message and "(line 29)" in found[0].message


def test_contents_differing_only_in_letter_case_is_info():
    """"Coccydynia Without ..." against "Coccydynia without ...": info, and info alone passes."""
    text = CLEAN_TEXT.replace("Coccydynia without Neurological Features (SP-5.2) 30",
                              "Coccydynia Without Neurological Features (SP-5.2) 30")
    issues = text_checks(text)
    assert [(i.check, i.severity) for i in issues] == [("contents_title_differs", "info")]


def test_a_heading_other_than_the_section_list_s_title_is_a_warning():
    """sections.lp must give the titles as the text heads them."""
    found = issues_of("section_title_differs", text_checks(CLEAN_TEXT.replace(
        " Low Back (Lumbar Spine) Pain without Neurological Features (SP-5.1)\n",
        " Low Back (Lumbar Spine) Pain without neurological features (SP-5.1)\n")))
    assert [(i.severity, i.sections) for i in found] == [("warning", ("SP-5.1",))]


# -- declared quotations ----------------------------------------------------------------------

def test_a_declared_quotation_not_in_its_section_s_text_is_a_warning():
    """Right words under the wrong section, and words the text does not have."""
    issues = text_checks(
        CLEAN_TEXT,
        'uncoded_study("SP-5.1", "Plain x-rays of the sacrum/coccyx", "n").',
        'threshold(trial, "SP-5.1", 6, weeks, "Failure of recent (within 3 months) 6-week trial").',
        'threshold(trial, "SP-5.2", 4, weeks, "four (4) weeks").')
    found = issues_of("declared_quote_missing", issues)
    assert [i.quotes for i in found] == [(("SP-5.1", "Plain x-rays of the sacrum/coccyx"),),
                                         (("SP-5.2", "four (4) weeks"),)]


def test_no_text_no_text_checks():
    """A program checked without a guideline text gets none of the checks that read it."""
    issues = run_checks(program("uncoded_study(\"SP-5.1\", \"nowhere\", \"n\")."))
    assert issues_of("declared_quote_missing", issues) == []


# -- the real guideline -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_issues():
    """The issues of the installed KB against the repository's guideline text."""
    if read_guideline() is None:
        pytest.skip("docs/guideline/ has no guideline text")
    return run_checks()


def _pairs(check: str, issues: list[Issue]) -> set[tuple[str, ...]]:
    return {i.sections for i in issues_of(check, issues)}


def test_the_real_text_cites_sp_2_5_sp_2_10_and_the_trauma_sections_by_other_titles(real_issues):
    """"Lumbar Provocative Discography CT (SP-2.5)", "Spine PET (SP-2.10)", "Neck Trauma (SP-3.2)"."""
    pairs = _pairs("title_cited_differently", real_issues)
    assert {("SP-2.3", "SP-2.5"), ("SP-15.2", "SP-2.10"), ("SP-10.2", "SP-3.2"), ("SP-10.2", "SP-4.2"),
            ("SP-10.2", "SP-6.2")} <= pairs


def test_the_real_text_s_fibromyalgia_citation_is_the_whole_sp_10_title(real_issues):
    """"Sacro-Iliac ... and\\n\\nFibromyalgia (SP-10)" cites SP-10 by its full heading: no finding."""
    assert not any(i.sections == ("SP-2.1", "SP-10") for i in issues_of("title_cited_differently", real_issues))


def test_the_real_contents_of_sp_14_and_sp_15_drop_anterior(real_issues):
    """"Revision Spinal Deformity Surgery (SP-14.2) 50" and "Revision Fusion Surgery (SP-15.4) 53"
    are warnings; "Follow-up imaging (SP-13.2) 48" differs in case only (info)."""
    found = {i.sections[1]: i.severity for i in issues_of("contents_title_differs", real_issues)}
    assert found == {"SP-13.2": "info", "SP-14.2": "warning", "SP-15.4": "warning"}


def test_the_real_section_list_gives_the_titles_as_headed(real_issues):
    """kb/sections.lp agrees with every heading of the text."""
    assert issues_of("section_title_differs", real_issues) == []


def test_every_quotation_of_kb_checks_text_is_in_its_section(real_issues):
    """The declared uncoded studies and thresholds quote the text of the section they name."""
    assert issues_of("declared_quote_missing", real_issues) == []

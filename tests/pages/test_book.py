"""spinekb book: the guideline's text with the KB beside it, as a static offline site."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from spinekb.cli.main import main
from spinekb.explain.book import write_book
from spinekb.kb.checks import Issue
from spinekb.kb.literate import literate_guideline

from pagecheck import page_facts

F2F = "A face-to-face evaluation within the last 60 days."


@pytest.fixture(scope="module")
def book():
    return literate_guideline()


@pytest.fixture(scope="module")
def site(tmp_path_factory, book) -> tuple[Path, list[Path]]:
    """The site, with one finding quoting SP-5.1's words and one about a criterion alone."""
    issues = [Issue("threshold_differs", "info", ("SP-5.1",), (), "60 days here", quotes=(("SP-5.1", F2F),)),
              Issue("criterion_unused", "warning", ("SP-5.1",), ("sp5_1_c3",), "sp5_1_c3 is about the trial")]
    out = tmp_path_factory.mktemp("site")
    return out, write_book(out, issues=issues, guideline=literate_guideline())


def test_sections_sentences_and_criteria_are_placed(book):
    """SP-5.1's face-to-face sentence is encoded by a criterion whose card has rule, tests and words."""
    section = book.section("SP-5.1")
    sentence = next(s for s in section.sentences if s.text == F2F)
    assert sentence.status == "encoded" and sentence.criteria
    card = book.criteria[sentence.criteria[0]]
    assert F2F in card.words and card.declared is not None and card.declared.where().startswith("kb/sp")
    assert {t.shows for t in book.criteria[next(a for a, p in book.criteria.items() if "sp5_1_c2" in p.ids)].tests} \
        == {"met", "unmet"}
    assert 0.8 < section.share <= 1.0
    assert any(s.status == "not encoded" for s in book.section("SP-1.1").sentences)
    assert all(s.status == "background" for s in book.section("SP-3").sentences), "a chapter's contents"


def test_notes_are_placed(book):
    """Readings go to the criterion after them; every KB note is shown somewhere."""
    readings = sum(len(p.readings) for p in book.criteria.values())
    placed = readings + sum(len(s.notes) for s in book.sections) + sum(
        len(x.notes) for s in book.sections for x in s.sentences)
    from spinekb.kb.notes import kb_notes
    notes_in_sections = [n for n in kb_notes() if any(s.section == n.section for s in book.sections)]
    assert readings > 50 and placed == len(notes_in_sections)


def test_site_opens_offline_and_every_link_resolves(site):
    """index.html first; every in-site link names a page and id that exist; nothing from outside."""
    out, pages = site
    assert pages[0].name == "index.html" and (out / "SP-5.1.html").is_file() and (out / "search-index.js").is_file()
    ids = {page.name: page_facts(page.read_text(encoding="utf-8")).ids for page in pages if page.suffix == ".html"}
    for page in pages:
        if page.suffix != ".html":
            continue
        html = page.read_text(encoding="utf-8")
        facts = page_facts(html)
        assert [o for o in facts.outside if o != "search-index.js"] == [], page.name
        for href in _links(html):
            target, _, anchor = href.partition("#")
            target = target or page.name
            assert target in ids, (page.name, href)
            assert not anchor or anchor in ids[target], (page.name, href)


def test_findings_stand_beside_what_they_concern(site):
    """A finding quoting SP-5.1's words stands beside that sentence; one about a criterion, beside its words."""
    out, _ = site
    html = (out / "SP-5.1.html").read_text(encoding="utf-8")
    sentence = html.index(F2F)
    assert html.index("finding 1 [info] threshold_differs", sentence) > sentence
    assert "finding 2 [warning] criterion_unused" in html
    assert 'id="f1"' in (out / "findings.html").read_text(encoding="utf-8")
    assert "not encoded" in (out / "SP-1.1.html").read_text(encoding="utf-8")


def test_cli_writes_the_site(tmp_path):
    """spinekb book --no-check -o DIR: exit 0 and index.html."""
    result = CliRunner().invoke(main, ["book", "--no-check", "-o", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").is_file()


def _links(html: str) -> list[str]:
    import re
    return [h for h in re.findall(r'href="([^"]+)"', html) if not h.startswith(("http", "mailto"))]

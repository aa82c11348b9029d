"""``spinekb book``: the guideline as a static, offline, searchable site, with the KB beside it.

    >>> from spinekb.explain.book import write_book
    >>> pages = write_book("site")                      # doctest: +SKIP

``site/index.html`` lists every section with the share of its text the KB encodes; each section
page gives the guideline's text sentence by sentence: every encoded criterion's words highlighted
and linked to its card (rule ``kb/<file>.lp:<line>``, readings, the YAML tests that show it met and
unmet), sentences the KB does not encode marked (with the ``% not encoded:`` note where there is
one), and the findings of ``spinekb check`` beside the sentences they quote. ``findings.html``
lists every finding; ``search.html`` searches the text, the criteria and the notes in the browser
(the index is a script file beside the pages: no server, no network).

What is placed where comes from :mod:`spinekb.kb.literate`; this module only writes pages.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from spinekb.explain.pages import page_environment, stylesheet
from spinekb.kb import GUIDELINE
from spinekb.kb.checks import CHECKS, Issue
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.kb.literate import LiterateGuideline, PlacedCriterion, SectionText, Sentence, _letters, literate_guideline


@dataclass(frozen=True)
class Finding:
    """A check finding as the book shows it: its issue, its number, where its witness is."""

    number: int
    issue: Issue
    witness: str | None = None        # site-relative path of its witness case file
    witness_note: str | None = None   # or why there is none

    @property
    def anchor(self) -> str:
        return f"f{self.number}"


def section_file(section: str) -> str:
    """The page of a section: ``SP-5.1.html``."""
    return f"{section}.html"


def write_book(output: str | Path, knowledge: KnowledgeBase | None = None, issues: list[Issue] | None = None,
               witnesses: dict[int, tuple[str | None, str | None]] | None = None,
               guideline: LiterateGuideline | None = None) -> list[Path]:
    """Write the site to ``output`` (created if missing); the pages written, index.html first.

    ``issues``: the check findings to show (default: none); ``witnesses``: finding number ->
    (site-relative witness file, or None and why there is none)."""
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    knowledge = knowledge or KnowledgeBase.installed()
    book = guideline or literate_guideline(knowledge)
    findings = [Finding(i + 1, issue, *(witnesses or {}).get(i + 1, (None, None))) for i, issue in
                enumerate(issues or ())]
    _place_findings(book, findings)
    env = page_environment()
    common = {"guideline": GUIDELINE, "version": knowledge.version, "css": Markup(stylesheet() + _BOOK_CSS)}
    written = []
    sections = [s for s in book.sections]
    totals = _totals(sections)
    index = out / "index.html"
    index.write_text(env.get_template("book_index.html.j2").render(
        **common, sections=sections, totals=totals, findings=findings, section_file=section_file,
        pct=_pct, by_section=_findings_by_section(findings)), encoding="utf-8")
    written.append(index)
    for i, section in enumerate(sections):
        page = out / section_file(section.section)
        page.write_text(env.get_template("book_section.html.j2").render(
            **common, section=section, previous=sections[i - 1] if i else None,
            next=sections[i + 1] if i + 1 < len(sections) else None, section_file=section_file, pct=_pct,
            text=lambda sentence, s=section: _highlight(book.flat, sentence, s),
            findings={f.number: f for f in findings}, checks=CHECKS, where=_where), encoding="utf-8")
        written.append(page)
    page = out / "findings.html"
    page.write_text(env.get_template("book_findings.html.j2").render(
        **common, findings=findings, checks=CHECKS, links=_finding_links(book, findings)), encoding="utf-8")
    written.append(page)
    page = out / "search.html"
    page.write_text(env.get_template("book_search.html.j2").render(**common), encoding="utf-8")
    written.append(page)
    index_js = out / "search-index.js"
    index_js.write_text("window.SPINEKB_INDEX = " + json.dumps(_search_entries(book, findings), ensure_ascii=False)
                        + ";\n", encoding="utf-8")
    written.append(index_js)
    return written


def read_witnesses(source: Path, site: Path, issues: list[Issue]) -> dict[int, tuple[str | None, str | None]]:
    """The witnesses ``spinekb check --witnesses`` wrote to ``source`` (its index.json), copied into
    ``site/witnesses/``: finding number (in ``issues``) -> (site-relative file, or None and why).
    Findings are matched by check and criteria, not by number, so an index of another run still fits."""
    index_file = source / "index.json"
    if not index_file.is_file():
        raise FileNotFoundError(f"{source}: no index.json (write it with spinekb check --witnesses {source})")
    entries = {(e["check"], tuple(e["criteria"])): e for e in json.loads(index_file.read_text(encoding="utf-8"))}
    target = site / "witnesses"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    found: dict[int, tuple[str | None, str | None]] = {}
    for number, issue in enumerate(issues, start=1):
        entry = entries.get((issue.check, tuple(issue.criteria)))
        if entry is None:
            continue
        if entry.get("file") and (source / entry["file"]).is_file():
            shutil.copy(source / entry["file"], target / entry["file"])
            _explain_witness(target / entry["file"], issue.codes)
            found[number] = (f"witnesses/{entry['file']}", None)
        else:
            found[number] = (None, "no witness: " + entry.get("note", entry.get("status", "")))
    return found


# ---------------------------------------------------------------------------------------------


def _explain_witness(path: Path, codes: tuple[str, ...]) -> None:
    """``spinekb explain`` of a witness, beside it as ``<name>.txt`` (the study the finding is about)."""
    from spinekb.bridge.loading import load_case
    from spinekb.explain import explain_study, render_text, tracing_engine

    case = load_case(path)
    study = next((c for c in case.request.codes if c in codes), case.request.codes[0])
    text = render_text(explain_study(tracing_engine(), case, study))
    path.with_suffix(".txt").write_text(f"$ spinekb explain {path.name} --study {study}\n\n{text}", encoding="utf-8")


def _totals(sections: list[SectionText]) -> dict[str, Any]:
    letters = quoted = 0
    for section in sections:
        for sentence in section.sentences:
            if not sentence.background:
                letters += sentence.letters
                quoted += min(sentence.quoted, sentence.letters)
    return {"share": quoted / letters if letters else 0.0, "criteria": sum(len(s.criteria) for s in sections),
            "sentences": sum(1 for s in sections for x in s.sentences if not x.background),
            "not_encoded": sum(1 for s in sections for x in s.sentences if x.status == "not encoded")}


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _where(location: Any) -> str:
    return location.where() if location is not None else ""


def _highlight(flat: str, sentence: Sentence, section: SectionText) -> Markup:
    """A sentence's text with every criterion's quoted words marked and linked to its card."""
    spans = sorted(((max(s, sentence.start), min(e, sentence.end), placed)
                    for placed in section.criteria for s, e in placed.spans
                    if s < sentence.end and e > sentence.start), key=lambda span: (span[0], -span[1]))
    if not spans:
        return escape(flat[sentence.start:sentence.end])
    parts: list[str] = []
    position = sentence.start
    for start, end, placed in spans:
        start = max(start, position)
        if start >= end:
            continue
        parts.append(str(escape(flat[position:start])))
        ids = ", ".join(placed.ids[:3]) + (" …" if len(placed.ids) > 3 else "")
        parts.append(f'<a class="q" href="#{placed.anchor}" title="{escape(ids)}"><mark>'
                     f"{escape(flat[start:end])}</mark></a>")
        position = end
    parts.append(str(escape(flat[position:sentence.end])))
    return Markup("".join(parts))


def _place_findings(book: LiterateGuideline, findings: list[Finding]) -> None:
    """Each finding beside the sentence its quote is in; else beside its criteria; else its section."""
    by_section = {s.section: s for s in book.sections}
    by_id = {i: p for p in book.criteria.values() for i in p.ids}
    for finding in findings:
        issue = finding.issue
        placed_somewhere = False
        for section_id, words in issue.quotes:
            section = by_section.get(section_id)
            wanted = _letters(words)[0][:80]
            if section is None or len(wanted) < 6:
                continue
            for sentence in section.sentences:
                if wanted in _letters(sentence.text)[0] or _letters(sentence.text)[0] in wanted and \
                        sentence.letters > 20:
                    if finding.number not in sentence.findings:
                        sentence.findings.append(finding.number)
                    placed_somewhere = True
                    break
        for criterion in [] if placed_somewhere else issue.criteria[:1]:  # the finding's subject only
            placed = by_id.get(criterion)
            if placed is not None and placed.spans:
                home = next((s for s in book.sections if placed in s.criteria), None)
                if home is not None:
                    for sentence in home.sentences:
                        if sentence.start <= placed.spans[0][0] < sentence.end:
                            if finding.number not in sentence.findings:
                                sentence.findings.append(finding.number)
                            placed_somewhere = True
                            break
        if not placed_somewhere:
            for section_id in issue.sections[:1]:
                if section_id in by_section:
                    by_section[section_id].findings.append(finding.number)


def _findings_by_section(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        for section in finding.issue.sections:
            counts[section] = counts.get(section, 0) + 1
    return counts


def _finding_links(book: LiterateGuideline, findings: list[Finding]) -> dict[int, list[tuple[str, str]]]:
    """finding number -> (label, href) of every place the book shows it."""
    links: dict[int, list[tuple[str, str]]] = {f.number: [] for f in findings}
    for section in book.sections:
        for number in section.findings:
            links[number].append((section.section, section_file(section.section) + f"#f{number}"))
        for index, sentence in enumerate(section.sentences):
            for number in sentence.findings:
                links[number].append((section.section, section_file(section.section) + f"#s{index}"))
    return {n: list(dict.fromkeys(v)) for n, v in links.items()}


def _search_entries(book: LiterateGuideline, findings: Iterable[Finding]) -> list[dict[str, str]]:
    """What search.html searches: every sentence, criterion, note and finding, with its page."""
    entries: list[dict[str, str]] = []
    for section in book.sections:
        page = section_file(section.section)
        entries.append({"k": "section", "s": section.section, "t": f"{section.section} {section.title}", "u": page})
        for index, sentence in enumerate(section.sentences):
            entries.append({"k": sentence.status, "s": section.section, "t": sentence.text, "u": f"{page}#s{index}"})
        for placed in section.criteria + section.unplaced:
            entries.append({"k": "criterion", "s": placed.section, "t": f"{' '.join(placed.ids[:4])} {placed.words}",
                            "u": f"{section_file(placed.section)}#{placed.anchor}"})
            for note in placed.readings:
                entries.append({"k": "reading", "s": placed.section, "t": note.text,
                                "u": f"{section_file(placed.section)}#{placed.anchor}"})
        for note in section.notes:
            entries.append({"k": note.kind, "s": section.section, "t": note.text, "u": f"{page}#notes"})
    for finding in findings:
        entries.append({"k": f"finding ({finding.issue.check})", "s": ", ".join(finding.issue.sections),
                        "t": finding.issue.message, "u": f"findings.html#{finding.anchor}"})
    return entries


def _anchor_of(criterion: PlacedCriterion) -> str:
    return criterion.anchor


_BOOK_CSS = """
.share { display: inline-block; width: 8rem; height: .8rem; background: #e7ebef; border: 1px solid var(--line);
         vertical-align: middle; }
.share span { display: block; height: 100%; background: var(--approved); }
.text p.s { margin: .25rem 0; padding: .15rem .5rem; border-left: 4px solid transparent; }
.text p.s.encoded { border-left-color: var(--approved); }
.text p.s.partly { border-left-color: #7aa6d8; }
.text p.s.not-encoded { border-left-color: var(--denied); background: #fdf1ec; }
.text p.s.background { color: var(--muted); font-size: .92rem; }
.text p.s .tag { font-size: .75rem; text-transform: uppercase; letter-spacing: .03em; color: var(--denied);
                 margin-left: .4rem; white-space: nowrap; }
a.q { color: inherit; text-decoration: none; } a.q mark { background: var(--mark); padding: 0 .1rem; }
a.q:hover mark, a.q:focus mark { outline: 2px solid #d9b600; }
.side { display: block; margin: .2rem 0 .3rem 1rem; font-size: .88rem; }
.side.finding { color: #7a3100; } .side.note { color: var(--muted); }
.cards .criterion { display: block; min-width: 0; width: 100%; margin: .5rem 0; background: #fff; }
.criterion h4 { margin: 0 0 .2rem 0; font-size: 1rem; }
.criterion dl { margin: .2rem 0; } .criterion dt { font-weight: bold; float: left; clear: left; width: 6.5rem; }
.criterion dd { margin: 0 0 .2rem 6.8rem; }
.met { color: var(--approved); } .unmet { color: var(--denied); }
.legend span { margin-right: 1rem; }
.pager { display: flex; justify-content: space-between; margin: 1rem 0; }
#results li { margin: .4rem 0; }
"""

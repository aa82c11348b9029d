"""The guideline text read beside the KB: which words of each section the KB encodes, and how.

For every section heading of the guideline text (:mod:`spinekb.kb.guidetext`), the section's own
text (from its heading to the next heading) is cut into sentences. Every criterion's words
(``criterion/3``, verbatim but for the PDF's spacing, glyphs and hyphenation) are found in that
text by comparing letters and digits only, so a line break, a bullet or a hyphen never hides a
quote. A sentence is *encoded* when criteria quote most of it, *partly* when they quote some of it,
and *not encoded* otherwise; "Background and Supporting Information" and a chapter's contents are
*background*, outside the share. Each criterion carries its rule locations, its ``% reading:``
notes and the YAML tests (``tests/kb/*.yaml``) that show it met or unmet::

    >>> book = literate_guideline()                       # doctest: +SKIP
    >>> section = book.section("SP-5.1")                  # doctest: +SKIP
    >>> round(section.share, 2), section.sentences[0].status  # doctest: +SKIP
    (0.93, 'encoded')
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from spinekb.kb import kb_dir
from spinekb.kb.guidetext import GuidelineText, read_guideline
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.kb.notes import Note
from spinekb.kb.structure import RuleLocation, family_of

#: Part of a sentence quoted for it to count as encoded (less, but some: partly).
ENCODED_FROM = 0.6
_GLYPH = re.compile("[\ue000-\uf8ff\u2022\u2023\u25aa\u25cf\u25e6\u2043\u2219]")
_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z(\"“])")
_BACKGROUND = ("Background and Supporting Information", "References", "Evidence Discussion")
_HEADING_END = re.compile(r"\(\s*SP-\s*[0-9]+(?:\s*\.\s*[0-9]+)?\s*\)")
_DECLARED = re.compile(r"^\s*criterion\(\s*([a-z][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class TestUse:
    """A YAML criterion test that shows a criterion met or unmet."""

    file: str
    name: str
    index: int
    shows: str  # met | unmet


@dataclass
class PlacedCriterion:
    """A criterion (all ids of one family with the same words) and where its words stand."""

    family: str
    ids: list[str]
    section: str
    words: str
    label: bool
    spans: list[tuple[int, int]] = field(default_factory=list)
    declared: RuleLocation | None = None
    rules: tuple[RuleLocation, ...] = ()
    readings: list[Note] = field(default_factory=list)
    tests: list[TestUse] = field(default_factory=list)
    #: placed in another section's text than its own (a quote of a definition, say)
    found_in: str | None = None

    @property
    def anchor(self) -> str:
        return "q-" + re.sub(r"[^A-Za-z0-9_-]+", "-", self.ids[0]).strip("-")


@dataclass
class Sentence:
    """One sentence of a section's own text and how much of it the KB quotes."""

    start: int
    end: int
    text: str
    letters: int
    quoted: int
    background: bool
    criteria: list[str] = field(default_factory=list)  # anchors of the criteria quoting it
    notes: list[Note] = field(default_factory=list)    # % not encoded: notes about it
    findings: list[int] = field(default_factory=list)  # indexes of check findings about it

    @property
    def status(self) -> str:
        """``encoded``, ``partly``, ``not encoded`` or ``background``."""
        if self.background:
            return "background"
        if not self.letters or self.quoted >= ENCODED_FROM * self.letters:
            return "encoded"
        return "partly" if self.quoted else "not encoded"


@dataclass
class SectionText:
    """A section: its own text in sentences, the criteria placed in it, its notes."""

    section: str
    title: str
    start: int
    end: int
    sentences: list[Sentence] = field(default_factory=list)
    criteria: list[PlacedCriterion] = field(default_factory=list)
    #: criteria of this section whose words are not in its text (labels, words of another section)
    unplaced: list[PlacedCriterion] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # notes not tied to a sentence or criterion
    findings: list[int] = field(default_factory=list)
    encoded: bool = False

    @property
    def share(self) -> float:
        """Letters quoted by some criterion, over the letters of the section's non-background text."""
        counted = [s for s in self.sentences if not s.background]
        total = sum(s.letters for s in counted)
        return sum(min(s.quoted, s.letters) for s in counted) / total if total else 0.0


@dataclass
class LiterateGuideline:
    """Every section of the text with what the KB encodes of it."""

    flat: str
    sections: list[SectionText]
    criteria: dict[str, PlacedCriterion]

    def section(self, section: str) -> SectionText:
        return next(s for s in self.sections if s.section == section)


def literate_guideline(knowledge: KnowledgeBase | None = None, text: str | None = None,
                       tests_dir: Path | None = None) -> LiterateGuideline:
    """Place the KB's criteria, notes and tests in the guideline text (default: the repository's)."""
    knowledge = knowledge or KnowledgeBase.installed()
    raw = text if text is not None else read_guideline()
    if raw is None:
        raise FileNotFoundError("the guideline text (docs/guideline/) is not there")
    kb = knowledge.static
    guide = GuidelineText.parse(raw, kb.sections)
    flat = guide.flat
    headings = sorted((c for c in guide.citations if c.kind == "heading"), key=lambda c: c.start)
    sections: list[SectionText] = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start if i + 1 < len(headings) else len(flat)
        sections.append(SectionText(heading.target, kb.sections.get(heading.target, heading.title),
                                    heading.start, end, encoded=heading.target in kb.encoded))
    for section in sections:
        section.sentences = list(_sentences(flat, section, chapter=any(
            s.section.startswith(section.section + ".") for s in sections)))
    criteria = _criteria(knowledge, tests_dir)
    _place(flat, sections, criteria)
    _notes(knowledge.notes, sections, criteria)
    return LiterateGuideline(flat, sections, criteria)


# ---------------------------------------------------------------------------------------------


def _letters(text: str) -> tuple[str, list[int]]:
    """Lower-case letters and digits of ``text`` and the index of each in ``text``."""
    kept, where = [], []
    for i, char in enumerate(text):
        if char.isalnum() and not _GLYPH.match(char):
            kept.append(char.lower())
            where.append(i)
    return "".join(kept), where


def _sentences(flat: str, section: SectionText, chapter: bool) -> Iterator[Sentence]:
    """The section's own text after its heading, cut at bullets and sentence ends."""
    heading = _HEADING_END.search(flat, section.start)  # after "Title (SP-x.y)"
    body_start = heading.end() if heading and heading.start() < section.end else section.start
    body = flat[body_start:section.end]
    background = chapter  # a chapter's own text is its contents list
    offset = body_start
    for piece in re.split(f"({_GLYPH.pattern})", body):
        if _GLYPH.fullmatch(piece or " "):
            offset += len(piece)
            continue
        for part in _split_keep(piece):
            stripped = part.strip()
            start = offset + (len(part) - len(part.lstrip()))
            offset += len(part)
            if not stripped:
                continue
            if any(stripped.startswith(b) for b in _BACKGROUND):
                background = True
            letters = sum(1 for c in stripped if c.isalnum())
            if letters:
                yield Sentence(start, start + len(stripped), stripped, letters, 0, background)


def _split_keep(text: str) -> list[str]:
    """``text`` cut after each sentence end, every character kept."""
    parts, last = [], 0
    for match in _SENTENCE_END.finditer(text):
        parts.append(text[last:match.end()])
        last = match.end()
    parts.append(text[last:])
    return parts


def _criteria(knowledge: KnowledgeBase, tests_dir: Path | None) -> dict[str, PlacedCriterion]:
    """One entry per (family, words): every id of a parametrised criterion with the same words."""
    kb, structure = knowledge.static, knowledge.structure
    declared = _declarations(knowledge.files)
    grouped: dict[tuple[str, str], PlacedCriterion] = {}
    for criterion in kb.criteria.values():
        family = family_of(criterion.id)
        key = (family, criterion.text)
        found = grouped.get(key)
        if found is None:
            found = grouped[key] = PlacedCriterion(family, [], criterion.section, criterion.text,
                                                   kb.is_label(criterion.id), declared=declared.get(family),
                                                   rules=structure.rules_of(family))
        found.ids.append(criterion.id)
    by_id = {i: placed for placed in grouped.values() for i in placed.ids}
    for use_id, use in _yaml_tests(tests_dir or kb_dir().parent / "tests" / "kb"):
        placed = by_id.get(use_id)
        if placed is not None and use not in placed.tests:
            placed.tests.append(use)
    return {placed.anchor: placed for placed in grouped.values()}


def _declarations(files: list[Path]) -> dict[str, RuleLocation]:
    """family -> where its first ``criterion(`` fact stands."""
    found: dict[str, RuleLocation] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _DECLARED.match(line)
            if match and match.group(1) not in found:
                found[match.group(1)] = RuleLocation(path.name, number)
    return found


def _yaml_tests(folder: Path) -> Iterator[tuple[str, TestUse]]:
    """(criterion id, the test) for every met/unmet of every YAML criterion test."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        for index, test in enumerate(data.get("tests") or ()):
            expect = (test or {}).get("expect") or {}
            for shows in ("met", "unmet"):
                for criterion in expect.get(shows) or ():
                    yield str(criterion), TestUse(path.name, str(test.get("name", f"test {index + 1}")), index, shows)


def _place(flat: str, sections: list[SectionText], criteria: dict[str, PlacedCriterion]) -> None:
    """Find every criterion's words in its section's text (else anywhere), and mark the sentences."""
    letters, where = _letters(flat)
    by_section = {s.section: s for s in sections}
    order = [s.section for s in sections]
    for placed in criteria.values():
        own = by_section.get(placed.section)
        if placed.label or own is None:
            if own is not None:
                own.unplaced.append(placed)
            continue
        quote, _ = _letters(placed.words)
        if len(quote) < 4:
            own.unplaced.append(placed)
            continue
        span = _find(letters, where, quote, own.start, own.end)
        home = own
        if span is None:  # words of another section (a chapter's, a definition's)
            for name in _nearby(order, placed.section):
                other = by_section[name]
                span = _find(letters, where, quote, other.start, other.end)
                if span is not None:
                    home, placed.found_in = other, name
                    break
        if span is None:
            own.unplaced.append(placed)
            continue
        placed.spans.append(span)
        home.criteria.append(placed)
        for sentence in home.sentences:
            overlap = min(sentence.end, span[1]) - max(sentence.start, span[0])
            if overlap > 0:
                sentence.quoted += sum(1 for c in flat[max(sentence.start, span[0]):min(sentence.end, span[1])]
                                       if c.isalnum())
                sentence.criteria.append(placed.anchor)
        if home is not own:
            own.unplaced.append(placed)
    for section in sections:
        section.criteria.sort(key=lambda p: p.spans[0][0])


def _nearby(order: list[str], section: str) -> list[str]:
    """Sections to look in for a criterion's words that are not in its own: its chapter and the
    chapter's sections, then every other section."""
    chapter = section.split(".")[0]
    near = [s for s in order if s != section and (s == chapter or s.startswith(chapter + "."))]
    return near + [s for s in order if s != section and s not in near]


def _find(letters: str, where: list[int], quote: str, start: int, end: int) -> tuple[int, int] | None:
    """Where ``quote`` (letters only) stands between flat offsets ``start`` and ``end``."""
    import bisect
    low, high = bisect.bisect_left(where, start), bisect.bisect_left(where, end)
    found = letters.find(quote, low, high)
    if found < 0:
        return None
    return where[found], where[found + len(quote) - 1] + 1


def _notes(notes: tuple[Note, ...], sections: list[SectionText], criteria: dict[str, PlacedCriterion]) -> None:
    """Readings go to the criterion whose rules follow them; a not-encoded note to the sentence it
    quotes, else to its section."""
    by_section = {s.section: s for s in sections}
    rule_lines: dict[str, list[tuple[int, PlacedCriterion]]] = {}
    for placed in criteria.values():
        for location in ([placed.declared] if placed.declared else []) + list(placed.rules):
            rule_lines.setdefault(location.file, []).append((location.line, placed))
    for lines in rule_lines.values():
        lines.sort(key=lambda pair: pair[0])
    for note in notes:
        section = by_section.get(note.section)
        if note.kind == "reading":
            following = [p for line, p in rule_lines.get(note.file, []) if note.line <= line <= note.line + 12]
            if following:
                following[0].readings.append(note)
                continue
            if section is not None:
                section.notes.append(note)
            continue
        if section is None:
            continue
        sentence = _quoted_sentence(note.text, section)
        if sentence is not None:
            sentence.notes.append(note)
        else:
            section.notes.append(note)


def _quoted_sentence(text: str, section: SectionText) -> Sentence | None:
    """The sentence a note quotes ("..."), if it quotes one of the section's sentences."""
    for quote in re.findall(r"[\"“]([^\"”]{8,})[\"”]", text):
        wanted, _ = _letters(quote.rstrip(". …").replace("...", " ").replace("…", " ").split("  ")[0])
        if len(wanted) < 8:
            continue
        for sentence in section.sentences:
            if wanted[:60] in _letters(sentence.text)[0]:
                return sentence
    return None



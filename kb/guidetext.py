"""The guideline's own text, read for ``spinekb check``: its section headings, the contents list
of each chapter, and every "Title (SP-x.y)" citation, each with the section it stands in and its
line in the text file.

The text is the PDF's text (``docs/guideline/``): lines break anywhere, even inside "(SP-" and
"11.1)", and page furniture (footers, the vertical "Spine Imaging Guidelines" watermark) sits
between them. :meth:`GuidelineText.parse` drops the furniture, joins the lines into one string
with single spaces, and keeps the line number of every character::

    >>> text = GuidelineText.parse(
    ...     "Red Flag Indications (SP-1.2)\\nSee: Red Flags (SP-\\n1.2) and Definitions (SP-1.3)\\n",
    ...     {"SP-1.2": "Red Flag Indications", "SP-1.3": "Definitions"})
    >>> [(c.kind, c.target, c.title, c.section, c.line) for c in text.citations]  # doctest: +NORMALIZE_WHITESPACE
    [('heading', 'SP-1.2', 'Red Flag Indications', 'SP-1.2', 1),
     ('reference', 'SP-1.2', 'Red Flags', 'SP-1.2', 2),
     ('reference', 'SP-1.3', 'Definitions', 'SP-1.2', 3)]

A citation is a *heading* when its title opens a line and the citation ends it, a *contents*
entry when a page number follows and ends the line, and a *reference* otherwise.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from spinekb.kb import kb_dir

GUIDELINE_FILE = "spine-imaging-guidelines-v1.0.2023.txt"

#: Lines of page furniture: the footer, its rule, the copyright and address lines, "21 of 58".
_FURNITURE = re.compile(r"^(Spine Imaging Guidelines\s+V1\.0\.2023|_{10,}|©.*eviCore.*|400 Buckwalter.*"
                        r"|[0-9]+ of [0-9]+)$")
#: The vertical watermark, one to three letters a line.
_WATERMARK = "SpineImagingGuidelines"
_CITATION = re.compile(r"\(\s*SP-\s*([0-9]+(?:\s*\.\s*[0-9]+)?)\s*\)")
#: A citation of any guideline, "(SP-3.2)," or "(ONC-31.5)": no title runs across one.
_REFERENCE = re.compile(r"\([A-Z]+-[0-9.]+\)")
_PAGE = re.compile(r" ([0-9]{1,3})\b")
#: Lower-case words a title may contain ("Pain without and with Neurological Features").
_CONNECTORS = {"and", "or", "of", "the", "with", "without", "in", "to", "for", "a", "an", "on", "than",
               "e.g.", "e.g.,", "i.e.", "i.e.,", "vs."}


def guideline_path() -> Path:
    """Where the repository keeps the guideline's text (``docs/guideline/``)."""
    return kb_dir().parent / "docs" / "guideline" / GUIDELINE_FILE


def read_guideline(path: Path | None = None) -> str | None:
    """The guideline text, or None when the file is not there (an installed package has no docs/)."""
    path = path or guideline_path()
    return path.read_text(encoding="utf-8") if path.is_file() else None


def squash(words: str) -> str:
    """Words without spacing or letter case, to find a quotation whatever the line breaks did."""
    return re.sub(r"\s+", "", words).lower()


def same_words(a: str, b: str) -> bool:
    """Whether two titles have the same words, ignoring letter case, spacing and punctuation."""
    return re.sub(r"[^a-z0-9]+", " ", a.lower()).strip() == re.sub(r"[^a-z0-9]+", " ", b.lower()).strip()


@dataclass(frozen=True)
class Citation:
    """One "Title (SP-x.y)" of the text."""

    target: str
    #: the words before the citation that name it, spaced singly ("" when none do)
    title: str
    #: heading | contents | reference
    kind: str
    #: the line of the text file holding "(SP-"
    line: int
    #: the section whose body holds it (None before the first heading)
    section: str | None
    #: a contents entry's page number
    page: int | None = None
    #: where the title starts in :attr:`GuidelineText.flat`
    start: int = 0


@dataclass(frozen=True)
class GuidelineText:
    """The text as one string, its citations, and the span of every headed section."""

    flat: str
    #: the line of the text file of each character of ``flat``
    lines: tuple[int, ...]
    citations: tuple[Citation, ...]
    #: section -> (start, end) in ``flat``: from its heading to the next heading outside it
    spans: Mapping[str, tuple[int, int]]

    @classmethod
    def parse(cls, raw: str, titles: Mapping[str, str]) -> GuidelineText:
        """Read a guideline text; ``titles`` (section -> title as the section list gives it) helps
        find where a cited title starts when its words run across lines."""
        flat, lines, starts, ends = _flatten(raw)
        found = [_citation(flat, lines, starts, ends, m, titles, previous)
                 for previous, m in _with_previous(list(_CITATION.finditer(flat)))]
        headings = _first_headings(found)
        spans = _spans(headings, len(flat))
        order = sorted(headings.items(), key=lambda kv: kv[1].start)
        placed = tuple(_placed(c, order) for c in found)
        return cls(flat, tuple(lines), placed, spans)

    def heading(self, section: str) -> Citation | None:
        """The body heading of a section (None when the text has none)."""
        return next((c for c in self.citations if c.kind == "heading" and c.target == section), None)

    def contains(self, section: str, words: str) -> bool:
        """Whether the text of a section (its subsections included) holds these words."""
        start, end = self.spans.get(section, (0, 0))
        return squash(words) in squash(self.flat[start:end])


# ---------------------------------------------------------------------------------------------


def _flatten(raw: str) -> tuple[str, list[int], set[int], set[int]]:
    """One string of the text's content lines; the line of each character; where lines start and end.

    A line ending in "-" joins the next without a space ("(SP-" "11.1)", "re-" "evaluation")."""
    kept = _content_lines(raw)
    parts: list[str] = []
    lines: list[int] = []
    starts: set[int] = set()
    ends: set[int] = set()
    size = 0
    for number, line in kept:
        if parts and not parts[-1].endswith("-"):
            parts.append(" ")
            lines.append(number)
            size += 1
        starts.add(size)
        parts.append(line)
        lines.extend([number] * len(line))
        size += len(line)
        ends.add(size)
    return "".join(parts), lines, starts, ends


def _content_lines(raw: str) -> list[tuple[int, str]]:
    """(line number, words spaced singly) of every line that is not blank, furniture or watermark."""
    lines = [(n, " ".join(line.split())) for n, line in enumerate(raw.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line and not _FURNITURE.match(line)]
    kept: list[tuple[int, str]] = []
    run: list[tuple[int, str]] = []
    for n, line in lines + [(0, "")]:
        if line and len(line) <= 3 and line.isalpha():
            run.append((n, line))
            continue
        if run and "".join(text for _, text in run) != _WATERMARK:
            kept.extend(run)
        run = []
        if line:
            kept.append((n, line))
    return kept


def _with_previous(matches: list[re.Match[str]]) -> list[tuple[int, re.Match[str]]]:
    return [(matches[i - 1].end() if i else 0, m) for i, m in enumerate(matches)]


def _citation(flat: str, lines: list[int], starts: set[int], ends: set[int], m: re.Match[str],
              titles: Mapping[str, str], previous: int) -> Citation:
    target = "SP-" + re.sub(r"\s+", "", m.group(1))
    low = max(previous, m.start() - 400)
    before = flat[low:m.start()].rstrip()
    start = _title_start(before, titles.get(target, ""))
    title = before[start:].strip()
    start = low + start + (len(before[start:]) - len(before[start:].lstrip()))
    page = _PAGE.match(flat, m.end())
    if page and page.end() in ends:
        kind, number = "contents", int(page.group(1))
    elif m.end() in ends and title and start in starts and not _see(before[:start - low]):
        kind, number = "heading", None
    else:
        kind, number = "reference", None
    return Citation(target, title, kind, lines[m.start()], None, number, start)


def _title_start(before: str, known: str) -> int:
    """Where the cited title starts in the text before a citation: the section's own title when
    the text ends with it (any case or spacing), else the run of title-like words before it."""
    if known:
        pattern = r"\s*".join(re.escape(word) for word in known.split()) + r"\s*$"
        found = re.search(pattern, before, re.IGNORECASE)
        if found:
            return found.start()
    words = list(re.finditer(r"\S+", before))
    start = len(before)
    depth = 0
    for word in reversed(words):
        token = word.group()
        closing, opening = token.count(")"), token.count("(")
        if _REFERENCE.search(token) or re.fullmatch(r"[0-9]+", token) or _see(token):
            break
        if depth == 0 and (token.endswith((":", ";", ",")) or
                           (token.endswith(".") and token.lower() not in _CONNECTORS)):
            break
        depth += closing - opening
        if depth < 0:  # an opening parenthesis the title does not close: "(see: Title (SP-x))"
            break
        if depth == 0 and not (token[0].isupper() or token[0].isdigit() or token[0] == "("
                               or token.lower() in _CONNECTORS):
            break
        start = word.start()
    while True:  # a title does not start with "and", "in" ...
        first = re.match(r"\s*(\S+)\s*", before[start:])
        if not first or first.group(1).lower() not in _CONNECTORS:
            return start
        start += first.end()


def _see(text: str) -> bool:
    """Whether text ends with a "See:" or "see also" that introduces a reference."""
    return bool(re.search(r"\b(see|also)\b:?\s*\(?$", text.strip(), re.IGNORECASE))


def _first_headings(found: list[Citation]) -> dict[str, Citation]:
    headings: dict[str, Citation] = {}
    for citation in found:
        if citation.kind == "heading":
            headings.setdefault(citation.target, citation)
    return headings


def _spans(headings: Mapping[str, Citation], size: int) -> dict[str, tuple[int, int]]:
    """Each headed section's text: up to the next heading that is not one of its subsections. A
    chapter without a heading of its own (SP-1, SP-2) spans its subsections."""
    order = sorted(headings.values(), key=lambda c: c.start)
    spans: dict[str, tuple[int, int]] = {}
    for i, heading in enumerate(order):
        end = next((c.start for c in order[i + 1:] if not _within(c.target, heading.target)), size)
        spans[heading.target] = (heading.start, end)
    for section, (start, end) in list(spans.items()):
        chapter = section.split(".", 1)[0]
        if chapter not in headings:
            low, high = spans.get(chapter, (start, end))
            spans[chapter] = (min(low, start), max(high, end))
    return spans


def _within(section: str, chapter: str) -> bool:
    return section == chapter or section.startswith(chapter + ".")


def _placed(citation: Citation, headings: list[tuple[str, Citation]]) -> Citation:
    """The citation with the section whose body holds it."""
    section = None
    for target, heading in headings:
        if heading.start > citation.start:
            break
        section = target
    return Citation(citation.target, citation.title, citation.kind, citation.line, section, citation.page,
                    citation.start)

"""Every criterion quotes the guideline: its text is found, word for word, in the guideline text.

The source of truth is docs/guideline/spine-imaging-guidelines-v1.0.2023.txt (the PDF's text, kept
in the repository; SPINEKB_GUIDELINE names another copy). Both sides are compared after the
normalisations a PDF's text needs and nothing more: whitespace runs (line and page breaks, table
columns) become one space; bullet glyphs (private-use characters such as U+F0B7, and the usual
bullet signs) become spaces; a hyphen at a line end joins the two lines (kept, as in
"evidence-based", or dropped, as in a word broken by soft hyphenation); typographic quotes and
apostrophes are straight ones; "®" may be dropped.

A criterion with a ``label(Id).`` fact is exempt: its text is words of our own (a heading, a joined
list, a reading). The labels are counted, and must name declared criteria.
"""
from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import clingo

from spinekb.kb.static import render, static_kb
from spinekb.kb import kb_text

GUIDELINE_NAME = "spine-imaging-guidelines-v1.0.2023.txt"
REPO = Path(__file__).resolve().parents[2]
GUIDELINE = REPO / "docs" / "guideline" / GUIDELINE_NAME

_GLYPHS = re.compile("[\ue000-\uf8ff\u2022\u2023\u25aa\u25cf\u25e6\u2043\u2219]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str, *, keep_line_end_hyphen: bool = True) -> str:
    """Text as compared: glyphs, quotes, '®', line-end hyphens and whitespace normalised."""
    text = _GLYPHS.sub(" ", text).translate(_QUOTES).replace("\u00ae", "")
    text = re.sub(r"-[ \t]*\r?\n\s*", "-" if keep_line_end_hyphen else "", text)
    return re.sub(r"\s+", " ", text).strip()


def guideline_path() -> Path:
    """The guideline text: $SPINEKB_GUIDELINE, else the repository's copy under docs/guideline/."""
    override = os.environ.get("SPINEKB_GUIDELINE")
    return Path(override) if override else GUIDELINE


@cache
def guideline_variants() -> tuple[str, str]:
    """The normalised guideline, line-end hyphens kept and dropped."""
    raw = guideline_path().read_text(encoding="utf-8")
    return normalise(raw), normalise(raw, keep_line_end_hyphen=False)


@cache
def labels() -> frozenset[str]:
    """Ids of the criteria whose text is a label (``label(Id).``), as the KB renders them."""
    kb = static_kb()
    if hasattr(kb, "labels"):                     # once the static KB carries them
        return frozenset(kb.labels)
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], kb_text())
    ctl.ground([("base", [])])
    return frozenset(render(a.symbol.arguments[0]) for a in ctl.symbolic_atoms.by_signature("label", 1)
                     if a.is_fact)


def test_the_guideline_text_is_there():
    """The text every quote is checked against exists (CI clones the repository with it)."""
    path = guideline_path()
    assert path.is_file(), (f"guideline text not found at {path}: it belongs in the repository at "
                            f"docs/guideline/{GUIDELINE_NAME} (or set SPINEKB_GUIDELINE to a copy)")


def test_normalise_joins_what_the_pdf_breaks():
    """Line breaks, bullets, line-end hyphens, curly quotes and '®' do not tell a quote apart."""
    assert normalise("\uf0b7 CT of the Spine (SP-\n2.3) (CPT\u00ae 72125)\n\n  the provider\u2019s") \
        == "CT of the Spine (SP-2.3) (CPT 72125) the provider's"
    assert normalise("non-\ndiagnostic", keep_line_end_hyphen=False) == "nondiagnostic"


def test_every_criterion_quotes_the_guideline():
    """Each criterion's text, unless labelled, is a passage of the guideline; all failures at once."""
    test_the_guideline_text_is_there()
    kept, dropped = guideline_variants()
    exempt = labels()
    missing = sorted(
        (criterion.id, criterion.text) for criterion in static_kb().criteria.values()
        if criterion.id not in exempt
        and normalise(criterion.text) not in kept and normalise(criterion.text) not in dropped)
    print(f"{len(exempt)} of {len(static_kb().criteria)} criteria are labels (words of our own)")
    assert not missing, (
        f"{len(missing)} criteria do not quote the guideline ({len(exempt)} labels exempt); "
        "quote the text exactly, split the criterion, or mark it label(Id).:\n"
        + "\n".join(f"  {cid}: {text[:160]!r}" for cid, text in missing))


def test_every_label_names_a_criterion():
    """A label is a mark on a declared criterion, never a stray id."""
    stray = sorted(labels() - set(static_kb().criteria))
    assert not stray, f"label/1 names no criterion: {stray}"

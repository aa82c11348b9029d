"""Small synthetic KBs for the consistency checks (tests/checks): the real decide.lp, codes.lp and sections.lp,
plus one clean toy section that each test breaks in one place."""
from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from spinekb.kb.checks import Issue
from spinekb.kb import kb_dir

#: Where the toy files are written; removed when the test run ends.
_FOLDER = tempfile.TemporaryDirectory(prefix="spinekb-toykb-")

#: A toy SP-5.1 that every check passes: one pathway, three conditions, a none_of, a see/3 to an
#: encoded section and to another guideline, and a text_code that agrees with the code table.
CLEAN = """
encoded("SP-5"). encoded("SP-5.1").
see("SP-5.1", "SP-5", "See: Low Back (Lumbar Spine) Pain (SP-5)").
see("SP-5.1", "CMM-610", "For surgery criteria, see: CMM-610: Lumbar Total Disc Arthroplasty").
text_code("SP-5.1", "72148", mri, lumbar, without).
term(resolved_or_improving_pain, "Pain that has resolved or is improving.").
criterion(sp5_1_pain, "SP-5.1", "Low Back (Lumbar Spine) Pain").
holds(C, sp5_1_pain) :- condition(C, low_back_pain), region(C, lumbar).
criterion(sp5_1_trial, "SP-5.1", "six week trial of provider-directed treatment").
holds(C, sp5_1_trial) :- treatment(C, _, _, S, E), E - S >= 42.
criterion(sp5_1_improving, "SP-5.1", "resolved or improving spinal pain").
holds(C, sp5_1_improving) :- finding(C, resolved_or_improving_pain).
criterion(sp5_1_not_improving, "SP-5.1", "pain that is not improving").
none_of(sp5_1_not_improving, sp5_1_improving).
criterion(sp5_1_p_mri, "SP-5.1", "MRI Lumbar Spine without contrast (CPT 72148)").
pathway(sp5_1_p_mri, "SP-5.1").
pathway_study(sp5_1_p_mri, "72148").
scope(sp5_1_p_mri, sp5_1_pain).
all_of(sp5_1_p_mri, (sp5_1_pain; sp5_1_trial; sp5_1_not_improving)).
"""


def program(*extra: str, base: str = CLEAN) -> list[Path]:
    """The real decide/codes/sections files, then the toy section and ``extra`` lines as test.lp."""
    shared = [kb_dir() / name for name in ("codes.lp", "decide.lp", "sections.lp")]
    toy = textwrap.dedent(base) + "\n" + "\n".join(textwrap.dedent(e) for e in extra)
    return [*shared, lp_file("test.lp", toy + "\n")]


def lp_file(name: str, text: str) -> Path:
    """A toy ``.lp`` file ``name`` holding ``text``, in a folder of its own."""
    path = Path(tempfile.mkdtemp(dir=_FOLDER.name)) / name
    path.write_text(text, encoding="utf-8")
    return path


def issues_of(check: str, issues: list[Issue]) -> list[Issue]:
    """The issues of one check."""
    return [i for i in issues if i.check == check]


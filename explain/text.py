"""Explanations as plain text.

:func:`render_text` writes a :class:`~spinekb.explain.model.StudyExplanation` the way a policy
analyst reads it: the answer first (the decision, the deciding reasons with the case's own values,
the readings they rest on, what is supported instead: at most 12 lines), then what would change it
and the documentation that would decide it; ``what_if=True`` lists every edit of every smallest
set with the criterion it meets, ``detail=True`` appends every candidate pathway condition by
condition (:func:`render_graph_text`, the derivation graph as a tree down to the case facts).
"""
from __future__ import annotations

import textwrap
from typing import Union

from spinekb.explain.graph import Edge, Explanation, Need, Node, Option
from spinekb.explain.model import StudyExplanation
from spinekb.explain.words import DENIAL_MEANING, quote, shorten

WIDTH = 100
#: How long a reading may run in the answer (the whole text is in --detail and the JSON).
READING_CHARS = 150
#: How long the case facts of one reason may run in the answer.
RECORD_CHARS = 280
MET, UNMET, FACT = "✓", "✗", "·"
_TREE_RELATIONS = ("supported by", "candidate pathway")
_STATEMENT_RELATIONS = ("rules out", "not indicated", "sends to")


def _mark(node: Node) -> str:
    """✓ holds, ✗ does not, · a fact."""
    if node.met is None:
        return FACT
    return MET if node.met else UNMET


def _relation(edge: Edge) -> str:
    """How a child bears on its parent, in words."""
    if edge.relation == "none of":
        return "none of (must not hold)"
    if edge.state == "not_needed":
        return f"{edge.relation} (not needed: another branch held)"
    return edge.relation


class _TextWriter:
    """Walks the graph depth-first; a shared criterion is written out once."""

    def __init__(self, explanation: Explanation) -> None:
        self.x = explanation
        self.lines: list[str] = []
        self.written: set[str] = set()

    def criterion(self, edge: Edge | None, key: str, depth: int) -> None:
        """Write a criterion (reached by ``edge``) and, the first time, everything below it."""
        node = self.x.node(key)
        pad = "  " * depth
        relation = f"{_relation(edge)}: " if edge else ""
        label = f"pathway {node.title}" if node.kind == "pathway" else node.title
        head = f"{pad}{_mark(node)} {relation}{label}"
        if node.notes and not self._is_leaf(key):
            head += f" [{'; '.join(node.notes)}]"
        below = [e for e in self.x.below(key) if e.relation != "reads"]
        reads = [e for e in self.x.below(key) if e.relation == "reads"]
        if key in self.written:
            self.lines.append(f"{head} (shown above)")
            return
        self.written.add(key)
        if node.text:
            head += f": \u201c{node.text}\u201d"
        self.lines.extend(textwrap.wrap(head, WIDTH, subsequent_indent=pad + "      ", break_on_hyphens=False))
        if self.x.folded(key):
            self.lines.append(f"{pad}    (its conditions are not listed: not needed to explain)")
        if self._is_leaf(key):
            self.leaf(node, reads, pad + "    ")
        for child in below:
            self.criterion(child, child.child, depth + 1)

    def leaf(self, node: Node, reads: list[Edge], pad: str) -> None:
        """A leaf's rule locations, and the case facts its rules read."""
        facts = [self.x.node(e.child) for e in reads]
        absent = [f.title for f in facts if f.key.startswith("nofact:")]
        present = [f.text for f in facts if not f.key.startswith("nofact:")]
        intro = "; ".join(node.notes)
        if present or absent:
            intro += " reads:" if intro else "reads:"
        self.lines.append(pad + intro)
        self.lines.extend(f"{pad}  {text}" for text in present)
        if absent:
            self.lines.append(f"{pad}  no fact in the case of: {', '.join(absent)}")

    def _is_leaf(self, key: str) -> bool:
        """A criterion with rules of its own rather than conditions."""
        return self.x.node(key).combine == "leaf"


def _cite(option: Option) -> str:
    """``SP-5.1 sp5_1_c2: <the guideline's words>``, or a note that the KB lacks the criterion."""
    if not option.text:
        return f"{option.criterion} (no criterion text: not encoded in the KB yet)"
    return f"{option.section} {option.criterion}: {option.text}"


def _need_lines(need: Need) -> list[str]:
    """One unmet condition as "The case would need: ...", wrapped."""
    if need.combine == "exclusion":
        lines = [f"    The case would need NOT to meet: {_cite(need.criterion)}"]
    else:
        lines = [f"    The case would need: {_cite(need.criterion)}"]
    if need.options:
        lead = {"any": "one of:", "none": "and NOT to have:"}.get(need.combine, "namely:")
        lines.append(f"      {lead}")
        lines.extend(f"        - {_cite(option)}" for option in need.options)
    return [wrapped for line in lines
            for wrapped in textwrap.wrap(line, WIDTH, subsequent_indent=" " * 10,
                                         break_on_hyphens=False) or [""]]


def render_graph_text(explanation: Explanation) -> str:
    """The derivation graph as text: header, why, what would change it, then the derivation tree(s)."""
    x = explanation
    writer = _TextWriter(x)
    out = writer.lines
    root = x.node(x.root)
    out.append(f"Case {x.case_id}: CPT {x.cpt} {x.description}: {x.decision.upper()}")
    out.append(f"KB version: {x.kb_version}")
    out.extend(f"note: {n}" for n in root.notes[2:])
    out.extend(f"note: {r}" for r in x.remarks)
    out.append("")
    tree = [e for e in x.below(x.root) if e.relation in _TREE_RELATIONS]
    if x.decision == "approved":
        names = ", ".join(x.node(e.child).title for e in tree)
        out.append(f"Why approved: every condition of pathway {names} holds, "
                   "and nothing rules the study out.")
    else:
        held = [e for e in tree if e.state == "satisfied"]
        out.append(f"Why denied: {len(tree)} pathway(s) could approve CPT {x.cpt}; "
                   f"{len(held)} held" + (", but the study is ruled out." if held else "."))
    if x.needs:
        out.append("")
        out.append("What would change the outcome:")
        for pathway in dict.fromkeys(n.pathway for n in x.needs):
            needs = [n for n in x.needs if n.pathway == pathway]
            if pathway:
                out.append(f"  under the closest pathway {x.node(f'criterion:{pathway}').title} "
                           f"({len(needs)} unmet condition(s)):")
            else:
                out.append("  the study is ruled out, whatever pathway supports it:")
            for need in needs:
                out.extend(_need_lines(need))
    if x.alternatives:
        out.append("")
        out.append("Studies the case would be approved for instead:")
        for alt in x.alternatives:
            out.append(f"  CPT {alt.cpt} {alt.description}: supported by {alt.section} {alt.pathway}")
    statements = [e for e in x.below(x.root) if e.relation.startswith(_STATEMENT_RELATIONS)]
    if statements:
        out.append("")
        out.append("Statements of the guideline that applied:")
        for edge in statements:
            writer.criterion(edge, edge.child, 1)
    out.append("")
    title = "The derivation" if x.decision == "approved" else "Every candidate pathway, condition by condition"
    out.append(f"{title} ({MET} holds for this case, {UNMET} does not; under each leaf criterion, "
               "its rule and the case facts it reads):")
    for edge in tree:
        out.append("")
        writer.criterion(None, edge.child, 0)
    return "\n".join(out) + "\n"


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first]


#: The most lines the answer takes (decision, reasons with the case's values, reading, what instead).
ANSWER_LINES = 12


def answer_lines(x: StudyExplanation, budget: int = ANSWER_LINES) -> list[str]:
    """The answer in at most ``budget`` lines: the decision, then the deciding reasons with the case
    facts they read, the first reading they rest on, and what is supported instead. What does not
    fit is named in one line (the rest: ``--detail`` and the JSON)."""
    meaning = f" \u00b7 {DENIAL_MEANING[x.denial_kind]}" if x.denial_kind else ""
    head = [x.headline] + _wrap(f"Case {x.case_id}, requested {x.request_date}{meaning}.", "", "  ")
    says = [_wrap(reason.says, "- ", "  ") for reason in x.answer]
    records = [_wrap(shorten("Record: " + "; ".join(f.says for f in reason.facts), RECORD_CHARS), "  ", "    ")
               if reason.facts else [] for reason in x.answer]
    first = x.answer[0].readings[0] if x.answer and x.answer[0].readings else None
    reading = (_wrap(f"Reading: {shorten(first.text, READING_CHARS)} ({first.where})", "  ", "    ")
               if first else [])
    instead = _wrap("Instead: " + " ".join(i.says for i in x.instead), "", "  ") if x.instead else []
    # what goes in, most important first, while it fits (one line kept for "and N more")
    chosen: set[tuple[str, int]] = set()
    used = len(head)
    order = [("says", 0), ("record", 0), ("instead", 0), ("reading", 0)]
    order += [(part, i) for i in range(1, len(x.answer)) for part in ("says", "record")]
    size = {"says": lambda i: len(says[i]), "record": lambda i: len(records[i]),
            "instead": lambda i: len(instead), "reading": lambda i: len(reading)}
    for part, i in order:
        need = size[part](i)
        reserve = 1 if any(("says", j) not in chosen for j in range(len(x.answer)) if (part, i) != ("says", j)) else 0
        if need and used + need + reserve <= budget:
            chosen.add((part, i))
            used += need
    lines = list(head)
    left_out = 0
    for i in range(len(x.answer)):
        if ("says", i) in chosen:
            lines += says[i]
            if ("record", i) in chosen:
                lines += records[i]
            if i == 0 and ("reading", 0) in chosen:
                lines += reading
        else:
            left_out += 1
    if left_out:
        lines.append(f"- and {left_out} more reason{'s' if left_out != 1 else ''} (--detail, --format json)")
    if ("instead", 0) in chosen:
        lines += instead
    return lines


def what_if_lines(x: StudyExplanation, full: bool = False) -> list[str]:
    """What would change it: the smallest edit sets (each edit with what it meets, if ``full``)."""
    if x.decision == "approved":
        return []
    if not x.what_if:
        if x.denial_kind == "not_supported":
            return _wrap("What would change it: nothing a provider can add or do; the guideline does not support "
                         "this study for this case" + (" (see Instead)." if x.instead else "."), "", "  ")
        return []
    count = len(x.what_if)
    size = len(x.what_if[0].edits)
    sets = "the smallest set" if count == 1 else f"{count} smallest sets"
    head = (f"What would change it (computed by clingo: {sets}"
            f" of {size} change{'s' if size != 1 else ''}):")
    lines = [head]
    for n, edit_set in enumerate(x.what_if, 1):
        lead = f"  {n}. " if count > 1 else "  "
        if not full:
            answered = {r.pathway for r in x.answer if r.pathway}
            under = "" if edit_set.pathway in answered else \
                f"Through {edit_set.section} {edit_set.pathway} (another pathway for this presentation): "
            says = edit_set.says if not under else under + edit_set.says[:1].lower() + edit_set.says[1:]
            lines += _wrap(says, lead, " " * len(lead))
            continue
        pad = " " * len(lead)
        for n_edit, edit in enumerate(edit_set.edits):
            lines += _wrap(edit.says[:1].upper() + edit.says[1:] + ";", lead if n_edit == 0 else pad, pad + "  ")
        criteria = list(dict.fromkeys((e.section, e.criterion, e.text) for e in edit_set.edits if e.criterion))
        for section, criterion, text in criteria:
            lines += _wrap(f"\u2192 meets {section} {criterion}: {quote(text, limit=110)}", pad, pad + "  ")
        newly = [q for q in edit_set.newly_met if q != edit_set.pathway and q not in {c for _, c, _ in criteria}]
        if newly:
            lines += _wrap(f"  (newly met: {', '.join(newly)})", pad, pad + "  ")
        lines += _wrap(f"\u2192 approved under {edit_set.section} {edit_set.pathway}"
                       + (f"; resubmit on or after {edit_set.resubmit}" if edit_set.resubmit else "") + ".",
                       pad, pad + "  ")
    return lines


def documentation_lines(x: StudyExplanation) -> list[str]:
    """The documentation that would decide it, as questions."""
    if not x.documentation_needed:
        return []
    lines = ["Documentation that would decide it:"]
    for q in x.documentation_needed:
        cite = f" ({q.section} {q.criterion})" if q.criterion else ""
        lines += _wrap(q.question + cite, "  - ", "    ")
    return lines


def render_text(explanation: Union[StudyExplanation, Explanation], detail: bool = False,
                what_if: bool = False) -> str:
    """The explanation as text (a derivation graph alone is written by :func:`render_graph_text`)."""
    if isinstance(explanation, Explanation):
        return render_graph_text(explanation)
    x = explanation
    out = answer_lines(x)
    for block in (what_if_lines(x, full=what_if), documentation_lines(x)):
        if block:
            out += [""] + block
    statements = [s for s in x.statements]
    if statements:
        out += [""]
        for statement in statements:
            out += _wrap("Also: " + statement.says, "", "  ")
    more = [] if what_if or x.decision == "approved" or not x.what_if else ["--what-if: each change and what it meets"]
    more += [] if detail else ["--detail: every candidate pathway, condition by condition"]
    out += [""] + _wrap(f"KB {x.kb_version}" + "".join(f"; {m}" for m in more), "", "  ")
    if detail:
        out += ["", render_graph_text(x.graph).rstrip("\n")]
    return "\n".join(out) + "\n"

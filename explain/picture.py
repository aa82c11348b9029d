"""The picture of an explanation: the answer as a graph a person would rather look at.

The focused picture of a :class:`~spinekb.explain.model.StudyExplanation` shows the decision, the
pathway(s) that decide it (supporting, or the closest of a denial) with their conditions, the
decisive leaves emphasised with the case facts they read, the what-if edits as their own kind of
node, rule-outs, referrals and alternatives; every other candidate pathway is folded into one node
per section. It never has more than :data:`MAX_NODES` nodes (the legend aside). Every node carries
the full guideline text as a tooltip and links to its section of the guideline text; the legend
explains exactly the node and edge styles the picture uses. ``--full`` draws the whole derivation
graph instead (:mod:`spinekb.explain.dot`).
"""
from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field
from functools import cache

import graphviz

from spinekb.explain.model import StudyExplanation
from spinekb.explain.words import DENIAL_WORDS, shorten

MAX_NODES = 30
WRAP = 38
FONT = "DejaVu Sans"
GREEN, RED, GREY, BLUE, AMBER, PURPLE = "#2e7d32", "#c62828", "#9e9e9e", "#3f6fb5", "#b26a00", "#6a1b9a"

#: Node styles: graphviz attributes, and the legend's words for them.
NODE_STYLES: dict[str, tuple[dict[str, str], str]] = {
    "decision_denied": ({"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#fdecea", "color": RED,
                         "penwidth": "3"}, "the decision (denied)"),
    "decision_approved": ({"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#e8f5e9", "color": GREEN,
                           "penwidth": "3"}, "the decision (approved)"),
    "pathway_met": ({"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#e8f5e9", "color": GREEN,
                     "penwidth": "2.5"}, "pathway (approval route) that holds"),
    "pathway_unmet": ({"shape": "box", "style": "rounded,filled,bold,dashed", "fillcolor": "#fdecea", "color": RED,
                       "penwidth": "2.5"}, "closest pathway, not met"),
    "met": ({"shape": "box", "style": "rounded,filled", "fillcolor": "#e8f5e9", "color": GREEN},
            "condition that holds (\u2713)"),
    "unmet": ({"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#fdecea", "color": RED},
              "condition that does not hold (\u2717)"),
    "decisive": ({"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#fff3c4", "color": RED,
                  "penwidth": "3"}, "decisive leaf: what the denial turns on"),
    "fact": ({"shape": "note", "style": "filled", "fillcolor": "#eef3fb", "color": BLUE, "fontsize": "10"},
             "case facts the leaf read (dates from the record)"),
    "whatif": ({"shape": "cds", "style": "filled", "fillcolor": "#e3f2fd", "color": BLUE, "penwidth": "1.5"},
               "what-if: an edit that would help approve it (clingo)"),
    "exclusion": ({"shape": "octagon", "style": "filled", "fillcolor": "#fdecea", "color": RED, "penwidth": "2"},
                  "a criterion that rules the study out"),
    "statement": ({"shape": "box", "style": "rounded,filled", "fillcolor": "#fff8e1", "color": AMBER},
                  "statement of the guideline that applied"),
    "instead": ({"shape": "box", "style": "rounded,filled,dotted", "fillcolor": "#f3e5f5", "color": PURPLE,
                 "penwidth": "1.5"}, "supported instead (another study, or another guideline)"),
    "folded": ({"shape": "folder", "style": "filled", "fillcolor": "#f5f5f5", "color": GREY, "fontcolor": "#555555"},
               "other candidate pathways of a section, folded"),
    "note": ({"shape": "plaintext", "fontsize": "10", "fontcolor": "#555555"}, ""),
}
#: Edge styles: graphviz attributes, and the legend's words.
EDGE_STYLES: dict[str, tuple[dict[str, str], str]] = {
    "satisfied": ({"color": GREEN, "style": "solid", "penwidth": "1.6"}, "condition satisfied its parent"),
    "failed": ({"color": RED, "style": "dashed", "penwidth": "1.6"}, "condition failed its parent"),
    "rules_out": ({"color": RED, "style": "bold", "penwidth": "2.5"}, "rules out: the criterion excludes the study"),
    "reads": ({"color": BLUE, "style": "solid", "penwidth": "0.8", "arrowhead": "none"}, "reads: case facts of a leaf"),
    "would_meet": ({"color": BLUE, "style": "dashed", "penwidth": "1.4"},
                   "would meet / lift: the what-if edit makes the condition hold (a rule-out fail)"),
    "not_indicated": ({"color": AMBER, "style": "solid", "penwidth": "1.2"},
                      "not indicated / advises against: the text's statement"),
    "instead": ({"color": PURPLE, "style": "dotted", "penwidth": "1.4"},
                "instead / sends to: what the guideline supports instead"),
    "folded": ({"color": GREY, "style": "dotted", "penwidth": "1"}, "other candidates, folded"),
}


#: What the legend's sample of each node style says.
_SAMPLE = {"decision_denied": "DENIED", "decision_approved": "APPROVED", "pathway_met": "\u2713 pathway",
           "pathway_unmet": "\u2717 pathway", "met": "\u2713", "unmet": "\u2717", "decisive": "\u2717 decisive",
           "fact": "facts", "whatif": "what-if", "exclusion": "rule-out", "statement": "statement",
           "instead": "instead", "folded": "N pathways"}


@dataclass(frozen=True)
class PNode:
    key: str
    style: str
    title: str
    text: str = ""
    tooltip: str = ""
    section: str = ""


@dataclass(frozen=True)
class PEdge:
    parent: str
    child: str
    style: str
    label: str = ""


@dataclass
class Picture:
    """The focused picture as nodes and edges (the DOT is drawn from it)."""

    title: str
    nodes: dict[str, PNode] = field(default_factory=dict)
    edges: list[PEdge] = field(default_factory=list)

    def add(self, node: PNode) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key

    def link(self, parent: str, child: str, style: str, label: str = "") -> None:
        edge = PEdge(parent, child, style, label)
        if edge not in self.edges and parent in self.nodes and child in self.nodes:
            self.edges.append(edge)


def focused_picture(x: StudyExplanation) -> Picture:
    """The picture of the answer (at most :data:`MAX_NODES` nodes)."""
    for leaves, facts, sections in ((3, True, 4), (2, True, 3), (2, True, 2), (1, True, 1), (1, False, 0)):
        picture = _build(x, leaves, facts, sections)
        if len(picture.nodes) <= MAX_NODES:
            return picture
    return picture


def _tip(criterion: str, section: str, text: str, extra: str = "") -> str:
    return f"{section} {criterion}: {text}" + (f"\n{extra}" if extra else "")


def _build(x: StudyExplanation, max_leaves: int, with_facts: bool, max_sections: int) -> Picture:
    graph_notes = {n.key.removeprefix("criterion:"): n.notes for n in x.graph.nodes.values()}
    verdict = x.decision.upper() + (f" ({DENIAL_WORDS[x.denial_kind]})" if x.denial_kind else "")
    p = Picture(f"Why CPT {x.cpt} was {x.decision} for case {x.case_id}")
    root = p.add(PNode("decision", f"decision_{x.decision}", f"CPT {x.cpt} {x.description}", verdict,
                       tooltip=f"{x.headline}\nKB {x.kb_version}"))

    def criterion_node(criterion: str, section: str, text: str, style: str, mark: str = "") -> str:
        notes = "; ".join(graph_notes.get(criterion, ()))
        return p.add(PNode(f"c:{criterion}", style, f"{mark}{section} {criterion}", shorten(text, 110),
                           tooltip=_tip(criterion, section, text, notes), section=section))

    def facts_node(owner: str, facts: list[str], raw: list[str]) -> None:
        if not with_facts or not facts:
            return
        key = p.add(PNode(f"f:{owner}", "fact", "", "\n".join(shorten(f, 90) for f in facts[:3]),
                          tooltip="\n".join(raw) or "\n".join(facts)))
        p.link(owner, key, "reads")

    reasons = {r.criterion: r for r in x.answer if r.criterion}
    shown_pathways = [q for q in x.pathways if (q.met and x.decision == "approved") or q.closest][:2]
    for pathway in shown_pathways:
        style = "pathway_met" if pathway.met else "pathway_unmet"
        mark = "\u2713 " if pathway.met else "\u2717 "
        key = criterion_node(pathway.pathway, pathway.section, pathway.text, style, mark)
        p.link(root, key, "satisfied" if pathway.met else "failed",
               ("supported by" if x.decision == "approved" else "holds, yet ruled out") if pathway.met
               else "closest pathway")
        carried = reasons.get(pathway.pathway)
        if carried is not None and carried.kind == "met":  # an approval: the facts that carried it
            facts_node(key, [f.says for f in carried.facts], [t for f in carried.facts for t in f.facts])
        for condition in pathway.conditions:
            met_ok = condition.met != (condition.how == "none of")
            reason = reasons.get(condition.criterion)
            decisive = reason is not None and reason.kind == "unmet" and condition.criterion in reason.leaves
            ckey = criterion_node(condition.criterion, condition.section, condition.text,
                                  "met" if condition.met else ("decisive" if decisive else "unmet"),
                                  "\u2713 " if condition.met else "\u2717 ")
            p.link(key, ckey, "satisfied" if met_ok else "failed", condition.how)
            if reason is None or not reason.leaves:
                continue
            leaves = [q for q in reason.leaves if q != condition.criterion][:max_leaves]
            leaf_parent = ckey
            for leaf in leaves:
                text = x.graph.nodes.get(f"criterion:{leaf}")
                lkey = criterion_node(leaf, text.section if text else "", text.text if text else "",
                                      "decisive" if reason.kind == "unmet" else "met",
                                      "\u2717 " if reason.kind == "unmet" else "\u2713 ")
                p.link(leaf_parent, lkey, "failed" if reason.kind == "unmet" else "satisfied", "decisive")
            owner = f"c:{leaves[0]}" if leaves else ckey
            facts_node(owner, [f.says for f in reason.facts], [t for f in reason.facts for t in f.facts])
    for reason in x.answer:
        if reason.kind == "excluded" and reason.criterion:
            key = p.add(PNode(f"c:{reason.criterion}", "exclusion", f"{reason.section} {reason.criterion}",
                              shorten(reason.text, 110), tooltip=_tip(reason.criterion, reason.section or "",
                                                                     reason.text), section=reason.section or ""))
            p.link(key, root, "rules_out", "rules out")
            facts_node(key, [f.says for f in reason.facts], [t for f in reason.facts for t in f.facts])
        elif reason.kind in ("out_of_scope", "no_pathway"):
            key = p.add(PNode(f"s:{reason.kind}", "statement", "no pathway for this case"
                              if reason.kind == "out_of_scope" else "no pathway at all", shorten(reason.says, 160),
                              tooltip=reason.says))
            p.link(key, root, "failed", "why")
            facts_node(key, [f.says for f in reason.facts], [t for f in reason.facts for t in f.facts])
        elif reason.kind == "not_indicated" and reason.criterion:
            key = p.add(PNode(f"s:{reason.criterion}", "statement", f"{reason.section} {reason.criterion}",
                              shorten(reason.text, 110), tooltip=_tip(reason.criterion, reason.section or "",
                                                                     reason.text), section=reason.section or ""))
            p.link(key, root, "not_indicated", "not indicated")
    for n, instead in enumerate(x.instead):
        key = p.add(PNode(f"i:{n}", "instead", f"CPT {instead.target}" if instead.kind == "study" else instead.target,
                          shorten(instead.says, 100), tooltip=instead.says, section=instead.section or ""))
        p.link(root, key, "instead", "instead" if instead.kind == "study" else "sends to")
    if x.what_if:
        edit_set = x.what_if[0]
        for n, edit in enumerate(edit_set.edits, 1):
            key = p.add(PNode(f"w:{n}", "whatif", f"what-if {n}/{len(edit_set.edits)}", shorten(edit.says, 120),
                              tooltip=edit.says + (f"\nmeets {edit.section} {edit.criterion}: {edit.text}"
                                                   if edit.criterion else ""), section=edit.section or ""))
            target = f"c:{edit.criterion}" if f"c:{edit.criterion}" in p.nodes else \
                (f"c:{edit_set.pathway}" if f"c:{edit_set.pathway}" in p.nodes else root)
            lifts = p.nodes.get(target) is not None and p.nodes[target].style == "exclusion"
            p.link(key, target, "would_meet", "would lift" if lifts else "would meet")
        if len(x.what_if) > 1:
            key = p.add(PNode("w:more", "note", "", f"{len(x.what_if) - 1} other smallest set(s): --what-if"))
            p.link("w:1", key, "folded")
    shown = {q.pathway for q in shown_pathways}
    folded: dict[str, list] = {}
    for pathway in x.pathways:
        if pathway.pathway not in shown:
            folded.setdefault(pathway.section, []).append(pathway)
    # one node per section for the sections that matter most (a pathway that holds or addresses the
    # case, then the most pathways); the rest share one node
    order = sorted(folded, key=lambda sec: (-sum(q.met or q.addresses_case for q in folded[sec]), -len(folded[sec])))
    for section in order[:max_sections]:
        pathways = folded[section]
        held = sum(1 for q in pathways if q.met)
        scope = sum(1 for q in pathways if q.addresses_case and not q.met)
        count = f"{len(pathways)} pathway{'s' if len(pathways) != 1 else ''}"
        status = f"{held} hold{'s' if held == 1 else ''}" if held else "none holds"
        where = f", {scope} for this presentation" if scope else ", none for this presentation"
        key = p.add(PNode(f"folded:{section}", "folded", f"{section}: {count}", f"{status}{where}",
                          tooltip="\n".join(f"{q.pathway} ({'met' if q.met else f'{q.unmet} unmet'}): {q.text}"
                                            for q in pathways), section=section))
        p.link(root, key, "folded", "other candidates")
    rest = order[max_sections:]
    if rest:
        pathways = [q for sec in rest for q in folded[sec]]
        held = sum(1 for q in pathways if q.met)
        key = p.add(PNode("folded:rest", "folded", f"{len(pathways)} more pathways",
                          f"{'none holds' if not held else f'{held} hold'}: " + ", ".join(rest),
                          tooltip="\n".join(f"{q.section} {q.pathway}: {q.text}" for q in pathways)))
        p.link(root, key, "folded", "other candidates")
    return p


@cache
def _section_lines() -> dict[str, int]:
    """The line of each section's heading in the guideline text (empty without docs/)."""
    from spinekb.kb.guidetext import GuidelineText, read_guideline
    from spinekb.kb.static import static_kb

    raw = read_guideline()
    if raw is None:
        return {}
    text = GuidelineText.parse(raw, static_kb().sections)
    return {c.target: c.line for c in text.citations if c.kind == "heading"}


def section_link(section: str) -> str | None:
    """A link to a section's heading in the guideline text (file URI, ``#L<line>``), if known."""
    from spinekb.kb.guidetext import guideline_path

    line = _section_lines().get(section)
    if line is None:
        base = section.rsplit(".", 1)[0]
        line = _section_lines().get(base)
    return f"{guideline_path().as_uri()}#L{line}" if line else None


def _label(node: PNode) -> str:
    lines = "<BR/>".join(html.escape(line) for part in node.text.split("\n")
                         for line in (textwrap.wrap(part, WRAP) or [""]))
    if node.style == "fact" or node.style == "note":
        return f"<{lines}>"
    size = ' POINT-SIZE="14"' if node.style.startswith("decision") else ""
    title = f"<B><FONT{size}>{html.escape(node.title)}</FONT></B>"
    return f"<{title}<BR/>{lines}>" if lines else f"<{title}>"


def _legend(picture: Picture) -> str:
    used_nodes = list(dict.fromkeys(n.style for n in picture.nodes.values() if NODE_STYLES[n.style][1]))
    used_edges = list(dict.fromkeys(e.style for e in picture.edges))
    rows = ['<TR><TD COLSPAN="2"><B>Legend</B></TD></TR>']
    for style in used_nodes:
        attrs, words = NODE_STYLES[style]
        fill, border = attrs.get("fillcolor", "white"), attrs.get("color", GREY)
        rows.append(f'<TR><TD BGCOLOR="{fill}" BORDER="1" COLOR="{border}">'
                    f'{html.escape(_SAMPLE.get(style, ""))}</TD><TD ALIGN="LEFT">{html.escape(words)}</TD></TR>')
    glyph = {"solid": "\u2501\u2501\u2501", "dashed": "\u254d\u254d\u254d", "dotted": "\u2508\u2508\u2508",
             "bold": "\u2501\u2501\u2501"}
    for style in used_edges:
        attrs, words = EDGE_STYLES[style]
        mark = glyph.get(attrs["style"], "\u2501")
        rows.append(f'<TR><TD><FONT COLOR="{attrs["color"]}"><B>{mark}</B></FONT></TD>'
                    f'<TD ALIGN="LEFT">{html.escape(words)}</TD></TR>')
    return f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" COLOR="{GREY}">{"".join(rows)}</TABLE>>'


def picture_dot(x: StudyExplanation) -> graphviz.Digraph:
    """The focused picture as a ``graphviz.Digraph`` (tooltips, links to the guideline, a legend)."""
    picture = focused_picture(x)
    graph = graphviz.Digraph("explanation", graph_attr={
        "rankdir": "LR", "fontname": FONT, "nodesep": "0.2", "ranksep": "0.4", "labelloc": "t",
        "fontsize": "13", "label": picture.title, "tooltip": picture.title},
        node_attr={"fontname": FONT, "fontsize": "11"}, edge_attr={"fontname": FONT, "fontsize": "9"})
    ids = {key: f"n{i}" for i, key in enumerate(picture.nodes)}
    for key, node in picture.nodes.items():
        attrs = dict(NODE_STYLES[node.style][0])
        attrs["tooltip"] = node.tooltip or node.title
        link = section_link(node.section) if node.section else None
        if link:
            attrs["URL"] = link
            attrs["target"] = "_blank"
        graph.node(ids[key], _label(node), **attrs)
    for edge in picture.edges:
        attrs = dict(EDGE_STYLES[edge.style][0])
        attrs["dir"] = "back" if edge.style not in ("instead", "folded", "rules_out", "would_meet", "not_indicated") \
            and not edge.parent.startswith("s:") else "forward"
        if edge.label:
            attrs.update(label=f" {edge.label}", fontcolor=attrs["color"])
        graph.edge(ids[edge.parent], ids[edge.child], **attrs)
    with graph.subgraph(name="top") as top:
        top.attr(rank="source")
        top.node(ids["decision"])
    graph.node("legend", _legend(picture), shape="plaintext")
    return graph

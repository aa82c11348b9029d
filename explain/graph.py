"""The derivation graph: one object that the text, DOT, SVG and PNG renderings all read.

Nodes are the decision, pathways, criteria, case facts, statements that applied and
alternative studies; edges say how a child bears on its parent (``all of``, ``any of``,
``none of``, ``reads`` ...) and whether it satisfied it. Everything here is already decided:
renderers only lay it out, so the text and the picture cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

NodeKind = Literal["decision", "pathway", "criterion", "fact", "alternative"]
#: How an edge bears on its parent: the child satisfied it, failed it, was a branch of an
#: any-of that another branch already satisfied, or simply informs it (a fact, a statement).
EdgeState = Literal["satisfied", "unsatisfied", "not_needed", "info"]
#: How a criterion's children combine; ``leaf`` has rules reading case facts instead.
Combine = Literal["all", "any", "none", "leaf", ""]


@dataclass(frozen=True)
class Node:
    """One node: a decision, pathway, criterion, case fact or alternative study.

    ``met`` is whether the criterion holds in the solver's answer (``None`` for facts and
    the decision); ``notes`` carry short extra lines (rule locations, gap counts).
    """

    key: str
    kind: NodeKind
    title: str
    text: str = ""
    met: bool | None = None
    combine: Combine = ""
    section: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    """``child`` bears on ``parent`` by ``relation`` (e.g. ``any of``), in ``state``."""

    parent: str
    child: str
    relation: str
    state: EdgeState


@dataclass(frozen=True)
class Option:
    """A criterion named in a "would need" line: its id, section and guideline words."""

    criterion: str
    section: str
    text: str


@dataclass(frozen=True)
class Need:
    """One unmet condition of a closest pathway, stated as what the case would need.

    ``combine`` is the condition's own shape: for ``any`` the case needs one of ``options``;
    for ``all`` it still needs each of ``options``; for ``none`` it must not have them;
    ``exclusion`` marks a criterion that rules the study out (``pathway`` is then empty) and
    that the case would need not to meet.
    """

    pathway: str
    criterion: Option
    combine: Combine | Literal["exclusion"]
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Alternative:
    """A study of the same region the case would be approved for, and the pathway that says so."""

    cpt: str
    description: str
    pathway: str
    section: str


@dataclass
class Explanation:
    """Why a study was approved or denied for one case, as a graph rooted at the decision."""

    case_id: str
    kb_version: str
    cpt: str
    description: str
    decision: Literal["approved", "denied"]
    root: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    closest: tuple[str, ...] = ()
    needs: tuple[Need, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    remarks: tuple[str, ...] = ()
    #: Nodes whose conditions this (focused) view leaves out; empty in a full explanation.
    cut: frozenset[str] = frozenset()

    def below(self, key: str) -> list[Edge]:
        """The edges from ``key`` to its children, in the order they were added."""
        return [edge for edge in self.edges if edge.parent == key]

    def folded(self, key: str) -> bool:
        """A composite criterion shown without its conditions (not needed to explain)."""
        node = self.nodes[key]
        return (node.kind in ("pathway", "criterion") and node.combine != "leaf"
                and not self.below(key)
                and key not in self.cut)

    def focused(self) -> Explanation:
        """A smaller view for a picture: the whole derivation of the supported or closest
        pathways and of every statement, and for each other candidate pathway only its direct
        conditions (met or not). Nothing is recomputed: it is a subset of this graph."""
        detailed = {e.child for e in self.below(self.root)
                    if not (e.relation == "candidate pathway"
                            and e.child.removeprefix("criterion:") not in self.closest)}
        full = {self.root} | _reachable(self, detailed)
        keep_edges = [e for e in self.edges if e.parent in full and e.child in full]
        shown = set(full)
        for edge in self.below(self.root):
            if edge.child not in full:
                shown.add(edge.child)
                for below in self.below(edge.child):
                    keep_edges.append(below)
                    shown.add(below.child)
        kept = set(keep_edges)
        cut = frozenset(k for k in shown if any(e not in kept for e in self.below(k)))
        view = Explanation(self.case_id, self.kb_version, self.cpt, self.description,
                           self.decision, self.root,
                           {k: n for k, n in self.nodes.items() if k in shown},
                           keep_edges, self.closest, self.needs, self.alternatives, self.remarks,
                           cut)
        return view

    def node(self, key: str) -> Node:
        """The node with this key."""
        return self.nodes[key]


def _reachable(explanation: Explanation, starts: set[str]) -> set[str]:
    """``starts`` and every node below them, except below the options of an unmet any-of: those
    are shown as the options the case could meet, their own conditions left to the text."""
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        node = explanation.nodes.get(key)
        children = [e.child for e in explanation.below(key)]
        if node is not None and node.combine == "any" and node.met is False:
            seen.update(children)  # the options, not their subtrees
        else:
            stack.extend(children)
    return seen

"""The KB's rules as structure: which criteria have rules, what case facts they read, and where.

The KB's files are parsed once (:func:`spinekb.kb.syntax.kb_statements`); nothing is grounded
or solved. For every criterion *family* (the functor name of ``Q`` in a rule head ``holds(C, Q)``,
so ``sp1_0_simultaneous(lumbar)`` belongs to ``sp1_0_simultaneous``) it records the rules that
derive it, and the case predicates (:data:`spinekb.kb.inputs.CASE_PREDICATES`) those rules read,
followed through the KB's helper predicates::

    >>> from spinekb.kb.structure import kb_structure
    >>> kb = kb_structure()
    >>> "sp1_0_recent_trial" in kb.defined      # a leaf: it has a holds/2 rule of its own
    True
    >>> "sp5_1_c3" in kb.defined                # a composite: any_of facts, no holds/2 rule
    False
    >>> sorted(kb.inputs["sp1_0_recent_trial"])  # recent_trial -> trial -> treatment...
    ['treatment', 'treatment_self_directed']
    >>> kb.rules_of("sp1_0_recent_trial")[0].where()  # doctest: +ELLIPSIS
    'kb/sp1_0_general.lp:...'

A body literal ``holds(C, other)`` with a constant criterion is followed into ``other``'s rules, so
a leaf built on another leaf reports the facts of both. The generic composite rules of
``decide.lp`` (``holds(C, Q)`` with a variable ``Q``) belong to no family.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

import clingo
from clingo import ast

from spinekb.kb.inputs import CASE_PREDICATES
from spinekb.kb.syntax import RuleLocation, Statement, ast_children, base_block, kb_statements

#: A node of the dependency graph: ("pred", "name/arity") or ("family", "criterion family").
_Node = tuple[str, str]


@dataclass(frozen=True)
class KbStructure:
    """What the KB's rules say about criteria, read from their syntax (not from a solve).

    ``defined``: criterion families with at least one ``holds(C, Q)`` rule.
    ``inputs``: family -> names of the case predicates its rules read, transitively.
    ``helpers``: family -> ``name/arity`` of the KB predicates (not case input) its rules read,
    transitively (``recent_trial/4``, ``window/2``, ``holds/2`` ...).
    ``rules``: family -> locations of its ``holds`` rules, in file order.
    """

    defined: frozenset[str]
    inputs: Mapping[str, frozenset[str]]
    helpers: Mapping[str, frozenset[str]]
    rules: Mapping[str, tuple[RuleLocation, ...]] = field(repr=False)
    #: every case predicate (name) some rule of the base program reads: the facts worth emitting
    case_inputs: frozenset[str] = frozenset()

    def rules_of(self, family: str) -> tuple[RuleLocation, ...]:
        """The locations of the ``holds`` rules of a criterion family (empty if it has none)."""
        return self.rules.get(family_of(family), ())

    def inputs_of(self, criterion: str) -> frozenset[str]:
        """The case predicates read by the rules of a criterion id or family (empty if none)."""
        return self.inputs.get(family_of(criterion), frozenset())


def family_of(criterion: str) -> str:
    """The family of a criterion id as the solver renders it: ``sp1_0_simultaneous(lumbar)`` ->
    ``sp1_0_simultaneous``."""
    return criterion.split("(", 1)[0]


def _atoms(node: ast.AST) -> Iterator[ast.AST]:
    """The term of every symbolic atom at or below ``node`` (literals, conditions, aggregates)."""
    if node.ast_type == ast.ASTType.SymbolicAtom:
        yield node.symbol
        return
    for child in ast_children(node):
        yield from _atoms(child)


def _head_atoms(head: ast.AST) -> Iterator[ast.AST]:
    """The terms of the atoms a head derives (not those of its conditions)."""
    if head.ast_type == ast.ASTType.ConditionalLiteral:
        yield from _atoms(head.literal)
        return
    if head.ast_type == ast.ASTType.SymbolicAtom:
        yield head.symbol
        return
    for child in ast_children(head):
        yield from _head_atoms(child)


def _signatures(term: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """``(name/arity, term)`` of an atom's term; a pool ``p(a;b)`` or ``(p;q)`` yields each part."""
    if term.ast_type == ast.ASTType.Pool:
        for part in term.arguments:
            yield from _signatures(part)
    elif term.ast_type == ast.ASTType.UnaryOperation:  # classical negation: -p(X) is its own predicate
        yield from ((f"-{signature}", part) for signature, part in _signatures(term.argument))
    elif term.ast_type == ast.ASTType.Function and not term.external:
        yield f"{term.name}/{len(term.arguments)}", term
    elif term.ast_type == ast.ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.Function:
        yield f"{term.symbol.name}/{len(term.symbol.arguments)}", term


def _families(term: ast.AST) -> Iterator[str]:
    """The criterion families named by the 2nd argument of a ``holds/2`` term (none if a variable)."""
    if term.ast_type == ast.ASTType.Function and len(term.arguments) == 2:
        yield from _criterion_names(term.arguments[1])


def _criterion_names(term: ast.AST) -> Iterator[str]:
    """Functor names of a criterion term: ``sp1_0_x`` / ``sp1_0_x(R)`` / a pool of them."""
    if term.ast_type == ast.ASTType.Pool:
        for part in term.arguments:
            yield from _criterion_names(part)
    elif term.ast_type == ast.ASTType.Function and not term.external:
        yield term.name
    elif term.ast_type == ast.ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.Function:
        yield term.symbol.name


def _nodes(term: ast.AST) -> Iterator[_Node]:
    """Graph nodes for one atom term: a criterion family for ``holds(C, q)``, else its predicate."""
    for signature, part in _signatures(term):
        if signature == "holds/2":
            families = list(_families(part))
            if families:
                yield from (("family", f) for f in families)
                continue
        yield ("pred", signature)


def parse_structure(statements: Iterable[Statement]) -> KbStructure:
    """Build the :class:`KbStructure` of a parsed KB (:func:`spinekb.kb.syntax.parse_program`):
    only the rules of the ``base`` block decide cases."""
    reads: dict[_Node, set[_Node]] = {}
    rules: dict[str, list[RuleLocation]] = {}
    for statement in _base_rules(statements):
        rule = statement.node
        heads = {node for term in _head_atoms(rule.head) for node in _nodes(term)}
        body = {node for part in rule.body for term in _atoms(part) for node in _nodes(term)}
        # atoms in a head's condition (p(X) : q(X) :- ...) are read too
        body |= {node for term in _conditions(rule.head) for node in _nodes(term)}
        for head in heads:
            reads.setdefault(head, set()).update(body)
            if head[0] == "family":
                rules.setdefault(head[1], []).append(statement.location)
    case_names = {f"{name}/{arity}": name for name, arity in CASE_PREDICATES}
    defined = frozenset(rules)
    inputs: dict[str, frozenset[str]] = {}
    helpers: dict[str, frozenset[str]] = {}
    for family in sorted(defined):
        seen = _reachable(("family", family), reads)
        inputs[family] = frozenset(case_names[n] for kind, n in seen if kind == "pred" and n in case_names)
        helpers[family] = frozenset(n for kind, n in seen if kind == "pred" and n not in case_names)
    read_anywhere = {n for body in reads.values() for kind, n in body if kind == "pred" and n in case_names}
    return KbStructure(
        defined=defined,
        inputs=MappingProxyType(inputs),
        helpers=MappingProxyType(helpers),
        rules=MappingProxyType({f: tuple(found) for f, found in rules.items()}),
        case_inputs=frozenset(case_names[n] for n in read_anywhere),
    )


def _conditions(head: ast.AST) -> Iterator[ast.AST]:
    """Atom terms of the conditions inside a head (conditional literals of a disjunction/choice)."""
    if head.ast_type == ast.ASTType.ConditionalLiteral:
        for literal in head.condition:
            yield from _atoms(literal)
        return
    for child in ast_children(head):
        yield from _conditions(child)


def _reachable(start: _Node, reads: Mapping[_Node, set[_Node]]) -> set[_Node]:
    """Every node the rules of ``start`` read, directly or through the rules of what they read."""
    seen: set[_Node] = set()
    stack = list(reads.get(start, ()))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(reads.get(node, ()))
    return seen


@cache
def kb_structure() -> KbStructure:
    """The :class:`KbStructure` of the installed KB: built once per process, or read from the
    cache on disk (:mod:`spinekb.kb.cache`) that an earlier process wrote for the same KB files
    and the same code."""
    from spinekb.kb import inputs, syntax
    from spinekb.kb.cache import cached_json, installed_key

    key = installed_key(__file__, syntax.__file__, inputs.__file__)
    data = cached_json("structure", key, lambda: structure_to_json(parse_structure(kb_statements())))
    return structure_from_json(data)


def structure_to_json(structure: KbStructure) -> dict[str, Any]:
    """A :class:`KbStructure` as plain JSON data (for the cache on disk)."""
    return {
        "defined": sorted(structure.defined),
        "inputs": {family: sorted(names) for family, names in structure.inputs.items()},
        "helpers": {family: sorted(names) for family, names in structure.helpers.items()},
        "rules": {family: [[r.file, r.line] for r in found] for family, found in structure.rules.items()},
        "case_inputs": sorted(structure.case_inputs),
    }


def structure_from_json(data: dict[str, Any]) -> KbStructure:
    """The :class:`KbStructure` that :func:`structure_to_json` wrote."""
    return KbStructure(
        defined=frozenset(data["defined"]),
        inputs=MappingProxyType({family: frozenset(names) for family, names in data["inputs"].items()}),
        helpers=MappingProxyType({family: frozenset(names) for family, names in data["helpers"].items()}),
        rules=MappingProxyType({family: tuple(RuleLocation(file, line) for file, line in found)
                                for family, found in data["rules"].items()}),
        case_inputs=frozenset(data["case_inputs"]),
    )


@dataclass(frozen=True)
class KbRule:
    """One rule (or fact) of a KB program's ``base`` block, as consistency checks read it.

    ``heads``: ``name/arity`` of the atoms it derives (``holds/2`` included).
    ``criteria``: the criterion terms of its ``holds(C, Q)`` heads, as written (``sp1_0_x``,
    ``sp1_0_simultaneous(R)``); ``families``: their functor names.
    ``needs``: ``name/arity`` of the positive body literals it cannot fire without.
    ``body``: the body literals themselves, as ``clingo.ast`` nodes.
    """

    location: RuleLocation
    heads: frozenset[str]
    criteria: tuple[str, ...]
    families: frozenset[str]
    needs: frozenset[str]
    body: tuple[ast.AST, ...] = field(repr=False)


def base_rules(statements: Iterable[Statement]) -> list[KbRule]:
    """Every rule of the ``base`` block of a parsed KB program, in file order (rules under other
    ``#program`` blocks, such as the checks of ``kb/checks/checks.lp``, are left out)."""
    return [_kb_rule(statement) for statement in _base_rules(statements)]


def _kb_rule(statement: Statement) -> KbRule:
    """One rule of the ``base`` block, as the consistency checks read it."""
    rule = statement.node
    heads = [(sig, term) for atom in _head_atoms(rule.head) for sig, term in _signatures(atom)]
    criteria = tuple(str(part) for sig, term in heads if sig == "holds/2"
                     and len(term.arguments) == 2 for part in _pool_parts(term.arguments[1])
                     if part.ast_type != ast.ASTType.Variable)
    needs = frozenset(sig for literal in rule.body
                      if literal.ast_type == ast.ASTType.Literal and literal.sign == ast.Sign.NoSign
                      and literal.atom.ast_type == ast.ASTType.SymbolicAtom
                      for sig, _ in _signatures(literal.atom.symbol))
    return KbRule(
        location=statement.location,
        heads=frozenset(sig for sig, _ in heads),
        criteria=criteria,
        families=frozenset(family_of(c) for c in criteria),
        needs=needs,
        body=tuple(rule.body),
    )


def _base_rules(statements: Iterable[Statement]) -> Iterator[Statement]:
    """The rules (facts included) of the ``base`` block."""
    return (s for s in base_block(statements) if s.node.ast_type == ast.ASTType.Rule)


def _pool_parts(term: ast.AST) -> Iterator[ast.AST]:
    """The alternatives of a pool ``(a; b)``, or the term itself."""
    if term.ast_type == ast.ASTType.Pool:
        for part in term.arguments:
            yield from _pool_parts(part)
    else:
        yield term

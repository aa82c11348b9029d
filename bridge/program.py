"""The decision program a batch grounds: the KB as written, its criteria stratified for gringo.

    >>> from spinekb.bridge.program import stratified_program
    >>> program = stratified_program()        # doctest: +SKIP
    >>> program.stratified, program.text[:40]  # doctest: +SKIP

``kb/decide.lp`` evaluates composite criteria (all_of/any_of/none_of) with three generic rules
over ``holds(C, Q)``. They are the definition, and ``spinekb explain``, the checks and the
straightforward engine ground them as written. But gringo works out which rules depend on which
by unifying atoms, and ``holds(C, Q)`` unifies with every criterion: it sees ``holds/2`` depend
on itself through the negation of ``none_of``, so it cannot finish ``holds/2`` while grounding.
Every criterion above a ``none_of`` then stays an open atom of the ground program (half the atoms
of a chunk), grounding carries them through the decision rules and the solver decides them.

This module rewrites the program mechanically, without changing what it derives:

- every ``holds(C, f(Args))`` written with a named criterion (the leaf rules of the sections and
  the few rules that read a named criterion) becomes ``holds__f(C, Args)``: one predicate per
  criterion family;
- the generic composite rules of ``decide.lp`` give way to one rule per composite criterion, read
  off the static KB's ``all_of``/``any_of``/``none_of`` facts, over those predicates;
- ``holds(C, f(X...)) :- holds__f(C, X...).`` gives every criterion back under ``holds/2`` to the
  rules that read it with a variable criterion (decisions, reasons, ``#show``).

The criteria graph is acyclic, and that is now what gringo sees: it evaluates every criterion
while grounding, and the solver has nothing left to decide. Nothing else of the KB is touched:
thresholds, windows and every rule body stay as written. A KB this rewrite cannot prove safe
(a composite fact that depends on a case, a rule deriving ``holds`` for a variable criterion
outside ``decide.lp``) is grounded as written instead, and :attr:`DecisionProgram.reason` says
why. The records are identical either way (tests/bridge/test_equivalence.py; bench/equivalence.py
on the benchmark's 10,000 cases).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import clingo
from clingo import ast

from spinekb.kb.inputs import CASE_PREDICATES
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.kb.static import StaticKB
from spinekb.kb.syntax import Statement, ast_children

#: The predicate of criterion family ``f`` is ``holds__f``.
FAMILY_PREFIX = "holds__"
#: The file whose generic ``holds(C, Q)`` rules the compiled composite rules replace.
DECIDE_FILE = "decide.lp"


@dataclass(frozen=True)
class DecisionProgram:
    """A program text to ground with a chunk's case facts."""

    text: str
    stratified: bool
    reason: str = ""  # why the KB is grounded as written, when it is


class _NotStratifiable(Exception):
    """The rewrite cannot be shown to derive what the KB as written derives."""


@cache
def stratified_program(trace: bool = False) -> DecisionProgram:
    """The installed KB, stratified (computed once per process and mode)."""
    return stratify(KnowledgeBase.installed(), trace)


def stratify(knowledge: KnowledgeBase, trace: bool = False) -> DecisionProgram:
    """The stratified form of the decision program of ``knowledge``, rewritten from its parsed
    statements and static atoms; or its text as written, with the reason, when the rewrite does
    not apply.

    ``trace=False`` (a batch): ``holds/2`` is given back only for the criteria that rules read
    with a variable criterion: pathways, their conditions and scopes, any-of branches, what
    excludes, advises against or redirects (a sixth less to ground). ``trace=True``: for every
    criterion (``#show holds/2``)."""
    try:
        return DecisionProgram(_stratified_text(knowledge.statements, knowledge.static, trace), stratified=True)
    except _NotStratifiable as problem:
        return DecisionProgram(knowledge.text, stratified=False, reason=str(problem))


def _stratified_text(statements: tuple[Statement, ...], kb: StaticKB, trace: bool) -> str:
    rename = _Rename()
    out: list[str] = []
    dropped = 0
    every_family = trace
    rules_of: dict[str, list[ast.AST]] = {}  # head predicate -> the rules deriving it
    for parsed in _one_program(statements):
        statement = parsed.node
        written = str(statement)
        if FAMILY_PREFIX in written:
            raise _NotStratifiable(f"the KB already uses a predicate named {FAMILY_PREFIX}...")
        if statement.ast_type != ast.ASTType.Rule:
            out.append(written)
            continue
        if statement.body:
            for head in _head_names(written, statement):
                rules_of.setdefault(head, []).append(statement)
        if "holds(" not in _STRINGS.sub("", written):
            out.append(written)
            continue
        criterion = _holds_head_criterion(statement.head)
        if criterion is not None and criterion.ast_type == ast.ASTType.Variable:
            if parsed.location.file != DECIDE_FILE:
                raise _NotStratifiable(f"{parsed.location.file}:{parsed.location.line} derives holds/2 for a "
                                       "variable criterion")
            dropped += 1  # a generic composite rule: compiled per criterion below
            continue
        reads_before = rename.variable_reads
        out.extend(str(_rename_rule(rename, part)) for part in statement.unpool())
        if rename.variable_reads > reads_before and parsed.location.file != DECIDE_FILE and not _guarded(statement):
            every_family = True  # a section reads holds(C, Q) for criteria no role names: give back all
    if dropped == 0:
        raise _NotStratifiable(f"{DECIDE_FILE} has no generic composite rule to compile")
    for shape in ("all_of", "any_of", "none_of"):
        if _reads_case(shape, rules_of, {}):
            raise _NotStratifiable(f"{shape} depends on case facts: composites differ from case to case")
    out.extend(_composite_rules(kb, rename.families))
    if every_family:
        for name, arity in sorted(rename.families):
            args = [f"X{i}" for i in range(arity)]
            criterion_term = f"{name}({', '.join(args)})" if arity else name
            out.append(f"holds(C, {criterion_term}) :- {FAMILY_PREFIX}{name}({', '.join(['C', *args])}).")
    else:
        for read in sorted(_read_by_role(kb)):
            out.append(f"holds(C, {read}) :- {_atom(read, rename.families)}.")
    return "\n".join(out) + "\n"


def _one_program(statements: tuple[Statement, ...]) -> Iterator[Statement]:
    """The statements as one program text reads them: clingo opens every file with
    ``#program base.``, and a ``#program`` line that leaves the block as it is is left out."""
    block = None
    for statement in statements:
        if statement.node.ast_type != ast.ASTType.Program or statement.block != block:
            yield statement
        block = statement.block


#: Static predicates whose argument at that position names criteria in a role that decide.lp
#: reads through holds(C, Q): a section rule reading holds(C, Q) with Q bound by one of them reads
#: only criteria :func:`_read_by_role` gives back.
_ROLES = {"pathway": 0, "pathway_study": 0, "excludes": 0, "not_indicated": 0, "redirect": 0, "scope": 1}


def _read_by_role(kb: StaticKB) -> set[str]:
    """The criteria the rules of decide.lp read with a variable criterion: pathways, their
    conditions and scopes, any-of branches (shown for approvals), what excludes a study, advises
    against it or redirects the case."""
    found = set(kb.pathways) | set(kb.pathway_studies) | set(kb.excludes) | set(kb.not_indicated)
    found |= set(kb.redirects) | {q for scopes in kb.scopes.values() for q in scopes}
    found |= {q for pathway in found & (set(kb.pathways) | set(kb.pathway_studies)) for q in kb.all_of.get(pathway, [])}
    found |= {q for branches in kb.any_of.values() for q in branches}
    return found


def _guarded(rule: ast.AST) -> bool:
    """Whether every variable criterion the rule reads through holds(C, Q) is bound by a positive
    body literal of a role predicate (``pathway_study(Q, _)``, ``excludes(Q, _)`` ...)."""
    bound: set[str] = set()
    for literal in rule.body:
        if literal.ast_type != ast.ASTType.Literal or literal.sign != ast.Sign.NoSign \
                or literal.atom.ast_type != ast.ASTType.SymbolicAtom:
            continue
        term = literal.atom.symbol
        if term.ast_type == ast.ASTType.Function and term.name in _ROLES and len(term.arguments) == 2:
            argument = term.arguments[_ROLES[term.name]]
            if argument.ast_type == ast.ASTType.Variable:
                bound.add(argument.name)
    return set(_variable_criteria(rule)) <= bound


def _variable_criteria(node: ast.AST) -> Iterator[str]:
    """The names of the variables that stand for the criterion of a holds(C, Q) atom below ``node``."""
    if node.ast_type == ast.ASTType.SymbolicAtom:
        term = node.symbol
        if term.ast_type == ast.ASTType.Function and term.name == "holds" and len(term.arguments) == 2 \
                and term.arguments[1].ast_type == ast.ASTType.Variable:
            yield term.arguments[1].name
        return
    for child in ast_children(node):
        yield from _variable_criteria(child)


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_CASE_NAMES = frozenset(name for name, _ in CASE_PREDICATES)
_SIMPLE_HEAD = re.compile(r"^(-?[a-z_][A-Za-z0-9_']*)(?:\(|\s*:-)")


def _head_names(written: str, rule: ast.AST) -> list[str]:
    """The predicate names a rule derives, read off its text when its head is one plain atom
    (walking the AST costs more), else off the AST."""
    simple = _SIMPLE_HEAD.match(written)
    if simple and not written.startswith(("not ", "#")):
        return [simple[1]]
    return [signature.rsplit("/", 1)[0] for signature in _signatures_in(rule.head)]


def _rename_rule(rename: _Rename, rule: ast.AST) -> ast.AST:
    """The rule with its named ``holds`` atoms renamed (only the parts that have any: walking a
    whole rule through the AST costs more than rewriting it)."""
    head = _rename_literal(rename, rule.head) if "holds(" in str(rule.head) else rule.head
    body = [_rename_literal(rename, literal) if "holds(" in str(literal) else literal for literal in rule.body]
    return rule.update(head=head, body=body)


def _rename_literal(rename: _Rename, literal: ast.AST) -> ast.AST:
    """A plain literal directly; anything else (aggregates, conditions) through the transformer."""
    if literal.ast_type == ast.ASTType.Literal and literal.atom.ast_type == ast.ASTType.SymbolicAtom:
        return literal.update(atom=rename.visit_SymbolicAtom(literal.atom))
    return rename(literal)


def _reads_case(name: str, rules_of: dict[str, list[ast.AST]], seen: dict[str, bool]) -> bool:
    """Whether atoms of predicate ``name`` (any arity) depend, through the rules deriving them,
    on a case fact."""
    if name in _CASE_NAMES or name == "holds":
        return True
    if name in seen:
        return seen[name]
    seen[name] = False  # a cycle adds nothing
    for rule in rules_of.get(name, ()):
        reads = {s for literal in rule.body for s in _signatures_in(literal)} | set(_condition_signatures(rule.head))
        if any(_reads_case(read.rsplit("/", 1)[0], rules_of, seen) for read in reads):
            seen[name] = True
            break
    return seen[name]


def _holds_head_criterion(head: ast.AST) -> ast.AST | None:
    """The criterion term of a ``holds(C, Q)`` head, if the head is one."""
    if head.ast_type == ast.ASTType.Literal and head.atom.ast_type == ast.ASTType.SymbolicAtom:
        term = head.atom.symbol
        if term.ast_type == ast.ASTType.Function and term.name == "holds" and len(term.arguments) == 2:
            return term.arguments[1]
    return None


def _signatures_in(node: ast.AST) -> Iterator[str]:
    """``name/arity`` of every atom at or below ``node`` (heads, literals, aggregates, conditions)."""
    if node.ast_type == ast.ASTType.SymbolicAtom:
        yield from _term_signatures(node.symbol)
        return
    for child in ast_children(node):
        yield from _signatures_in(child)


def _condition_signatures(head: ast.AST) -> Iterator[str]:
    """Atoms in the conditions of a head's conditional literals (read, not derived)."""
    if head.ast_type == ast.ASTType.ConditionalLiteral:
        for literal in head.condition:
            yield from _signatures_in(literal)
        return
    for child in ast_children(head):
        yield from _condition_signatures(child)


def _term_signatures(term: ast.AST) -> Iterator[str]:
    if term.ast_type == ast.ASTType.Pool:
        for part in term.arguments:
            yield from _term_signatures(part)
    elif term.ast_type == ast.ASTType.UnaryOperation:
        yield from (f"-{s}" for s in _term_signatures(term.argument))
    elif term.ast_type == ast.ASTType.Function and not term.external:
        yield f"{term.name}/{len(term.arguments)}"
    elif term.ast_type == ast.ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.Function:
        yield f"{term.symbol.name}/{len(term.symbol.arguments)}"


class _Rename(ast.Transformer):
    """``holds(C, f(Args))`` -> ``holds__f(C, Args)`` wherever the criterion is written out."""

    def __init__(self) -> None:
        self.families: set[tuple[str, int]] = set()
        self.variable_reads = 0  # holds(C, Q) atoms left as they are (read from holds/2)

    def visit_SymbolicAtom(self, node: ast.AST) -> ast.AST:  # noqa: N802 - clingo's visitor naming
        term = node.symbol
        if term.ast_type != ast.ASTType.Function or term.name != "holds" or len(term.arguments) != 2 \
                or term.external:
            return node
        case, criterion = term.arguments
        if criterion.ast_type == ast.ASTType.Function and criterion.name and not criterion.external:
            name, args = criterion.name, list(criterion.arguments)
        elif criterion.ast_type == ast.ASTType.SymbolicTerm and criterion.symbol.type == clingo.SymbolType.Function \
                and criterion.symbol.name:
            name = criterion.symbol.name
            args = [ast.SymbolicTerm(criterion.location, a) for a in criterion.symbol.arguments]
        else:
            self.variable_reads += 1
            return node  # a variable criterion: read from holds/2
        self.families.add((name, len(args)))
        return node.update(symbol=ast.Function(term.location, FAMILY_PREFIX + name, [case, *args], 0))


@cache
def _criterion_symbol(criterion: str) -> clingo.Symbol:
    symbol = clingo.parse_term(criterion)
    if symbol.type != clingo.SymbolType.Function or not symbol.name or str(symbol) != criterion:
        raise _NotStratifiable(f"criterion {criterion!r} is not a plain term")
    return symbol


def _atom(criterion: str, families: set[tuple[str, int]]) -> str:
    """``holds__f(C, Args)`` for a ground criterion id ``f(Args)``."""
    symbol = _criterion_symbol(criterion)
    families.add((symbol.name, len(symbol.arguments)))
    return f"{FAMILY_PREFIX}{symbol.name}({', '.join(['C', *map(str, symbol.arguments)])})"


def _composite_rules(kb: StaticKB, families: set[tuple[str, int]]) -> list[str]:
    """One rule per composite criterion (all-of), or per branch (any-of, none-of), as the generic
    rules of decide.lp read them."""
    rules: list[str] = []
    for criterion, children in kb.all_of.items():
        body = ", ".join(_atom(child, families) for child in children)
        rules.append(f"{_atom(criterion, families)} :- {body}.")
    for criterion, children in kb.any_of.items():
        rules.extend(f"{_atom(criterion, families)} :- {_atom(child, families)}." for child in children)
    for criterion, children in kb.none_of.items():
        rules.extend(f"{_atom(criterion, families)} :- case(C), not {_atom(child, families)}." for child in children)
    return rules

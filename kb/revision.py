"""What a revision of the KB changes, rule by rule, criterion by criterion.

Each KB is read as its parsed statements (:func:`spinekb.kb.syntax.parse_program`; nothing is
grounded). A criterion *family* (``sp5_1_c3``;
``sp1_0_simultaneous`` for ``sp1_0_simultaneous(lumbar)``) is *defined* by

- its own rules: ``holds(C, q) :- ...`` and its declarations (``criterion/3``, ``all_of/2``,
  ``any_of/2``, ``none_of/2``, ``pathway/2``, ``pathway_study/2``, ``scope/2``, ``excludes/2``,
  ``not_indicated/2``, ``redirect/2``, ``label/1``, ``hedged/1`` naming it first), and
- the helper rules those read, followed through every body atom that can *unify* with a helper's
  head: ``window(face_to_face, W)`` reads ``window(face_to_face, 60).`` and not
  ``window(recent, 90).``. A body atom ``holds(C, other)`` is a dependency on criterion
  ``other``, which has a definition of its own, and is not followed.

Two KBs differ on a family when the texts of its definition differ (``str`` of the AST statement:
comments, spacing and line numbers do not count). Rules that define no criterion (``decide.lp``,
the code table, the section list, ``#show``) are compared as a whole::

    >>> import tempfile
    >>> from pathlib import Path
    >>> from spinekb.kb.syntax import parse_program
    >>> old, new = Path(tempfile.mkdtemp(), "old.lp"), Path(tempfile.mkdtemp(), "new.lp")
    >>> rules = 'criterion(q, "SP-1", "x"). holds(C, q) :- seen(C, D), window(w, W), D >= -W.'
    >>> _ = old.write_text("window(w, 60). " + rules), new.write_text("window(w, 90). " + rules)
    >>> diff = rule_diff(parse_program([old]), parse_program([new]))
    >>> [(c.family, c.removed[0].text, c.added[0].text) for c in diff.criteria]
    [('q', 'window(w,60).', 'window(w,90).')]
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

import clingo
from clingo import ast

from spinekb.kb.structure import _atoms, _conditions, _head_atoms, _signatures, family_of
from spinekb.kb.syntax import RuleLocation, Statement, base_block

#: Facts that declare a criterion (its first argument): part of that criterion's definition.
DECLARATIONS = frozenset({"criterion/3", "all_of/2", "any_of/2", "none_of/2", "pathway/2", "pathway_study/2",
                          "scope/2", "excludes/2", "not_indicated/2", "redirect/2", "label/1", "hedged/1"})

#: A term as a unification pattern: None matches anything (a variable, arithmetic, an interval);
#: ("c", text) a constant, number or string; ("f", name, args) a function term.
_Pattern = tuple | None


@dataclass(frozen=True)
class Rule:
    """One statement of a KB, as compared: its normalised text and where it stands."""

    text: str
    location: RuleLocation

    def where(self) -> str:
        """``kb/<file>:<line>``."""
        return self.location.where()


@dataclass
class _Parsed:
    """One KB's statements, with what they define and read."""

    rules: list[Rule] = field(default_factory=list)
    #: rule index -> criterion families it defines (its own rules)
    owns: dict[int, set[str]] = field(default_factory=dict)
    #: rule index -> head patterns (name/arity, args) of non-holds heads
    heads: dict[int, list[tuple[str, _Pattern]]] = field(default_factory=dict)
    #: rule index -> body patterns (name/arity, args) it reads, holds/2 excluded
    reads: dict[int, list[tuple[str, _Pattern]]] = field(default_factory=dict)
    #: rule index -> criterion families its body tests with holds(C, family)
    needs: dict[int, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CriterionChange:
    """A criterion family whose definition differs between two KBs."""

    family: str
    #: rules of the definition only the first KB has (with its locations)
    removed: tuple[Rule, ...]
    #: rules of the definition only the second KB has
    added: tuple[Rule, ...]

    @property
    def status(self) -> str:
        """``changed``, ``added`` (the first KB has no rule of it) or ``removed``."""
        return "changed" if self.removed and self.added else ("added" if self.added else "removed")


@dataclass(frozen=True)
class RuleDiff:
    """Every criterion family whose definition differs, and the other rules that differ."""

    criteria: tuple[CriterionChange, ...]
    #: statements defining no criterion, only in the first KB / only in the second
    other_removed: tuple[Rule, ...] = ()
    other_added: tuple[Rule, ...] = ()

    @property
    def families(self) -> frozenset[str]:
        return frozenset(c.family for c in self.criteria)

    def of(self, family: str) -> CriterionChange | None:
        """The change of one family (None when its definition is the same)."""
        return next((c for c in self.criteria if c.family == family), None)

    @property
    def empty(self) -> bool:
        return not (self.criteria or self.other_removed or self.other_added)


def rule_diff(base: Sequence[Statement], other: Sequence[Statement]) -> RuleDiff:
    """The criteria whose rules differ between two parsed KBs
    (:attr:`spinekb.kb.knowledge.KnowledgeBase.statements`)."""
    if base is other:
        return RuleDiff(criteria=())
    memo = _statement_memo()
    first, second = _parse(base, memo), _parse(other, memo)
    defs_first, defs_second = _definitions(first), _definitions(second)
    changes = []
    for family in sorted(set(defs_first) | set(defs_second)):
        a, b = defs_first.get(family, {}), defs_second.get(family, {})
        removed = tuple(a[t] for t in sorted(set(a) - set(b), key=lambda t: _order(a[t])))
        added = tuple(b[t] for t in sorted(set(b) - set(a), key=lambda t: _order(b[t])))
        if removed or added:
            changes.append(CriterionChange(family, removed, added))
    used_first = {t for d in defs_first.values() for t in d}
    used_second = {t for d in defs_second.values() for t in d}
    rest_first = {r.text: r for r in first.rules if r.text not in used_first}
    rest_second = {r.text: r for r in second.rules if r.text not in used_second}
    return RuleDiff(
        criteria=tuple(changes),
        other_removed=tuple(rest_first[t] for t in sorted(set(rest_first) - set(rest_second),
                                                          key=lambda t: _order(rest_first[t]))),
        other_added=tuple(rest_second[t] for t in sorted(set(rest_second) - set(rest_first),
                                                         key=lambda t: _order(rest_second[t]))),
    )


@cache
def _statement_memo() -> dict[str, _Analysis]:
    """What each statement text defines and reads: a pure function of the text, so one table per
    process serves every KB compared (a revision shares almost every statement with its base)."""
    return {}


def _order(rule: Rule) -> tuple[str, int]:
    return rule.location.file, rule.location.line


# ---------------------------------------------------------------------------------------------


_Analysis = tuple[set[str], list[tuple[str, _Pattern]], list[tuple[str, _Pattern]], set[str]]


def _parse(statements: Iterable[Statement], memo: dict[str, _Analysis] | None = None) -> _Parsed:
    """Read a KB's base-block statements. ``memo`` (statement text -> what it defines and reads)
    lets a second KB reuse the reading of every statement the first one has."""
    parsed = _Parsed()
    memo = {} if memo is None else memo
    for statement in base_block(statements):
        index = len(parsed.rules)
        text = " ".join(str(statement.node).split())
        parsed.rules.append(Rule(text, statement.location))
        if statement.node.ast_type != ast.ASTType.Rule:
            continue
        found = memo.get(text)
        if found is None:
            found = memo[text] = _analyse(statement.node, text)
        parsed.owns[index], parsed.heads[index], parsed.reads[index], parsed.needs[index] = found
    return parsed


def _analyse(statement: ast.AST, text: str) -> _Analysis:
    """What one rule defines (criterion families, helper heads) and reads (helper atoms, criteria)."""
    fact = _ground_fact(text)
    if fact is not None:  # most statements: read from the text, without walking the AST (slow)
        signature = f"{fact.name}/{len(fact.arguments)}"
        if signature == "holds/2":
            return {family_of(str(fact.arguments[1]))}, [], [], set()
        owns_fact = {family_of(str(fact.arguments[0]))} if signature in DECLARATIONS and fact.arguments else set()
        return owns_fact, [(signature, _symbol_pattern(fact))], [], set()
    owns: set[str] = set()
    heads: list[tuple[str, _Pattern]] = []
    head = statement.head
    simple_head = head.ast_type == ast.ASTType.Literal  # no conditions to read
    head_atoms = ([head.atom.symbol] if simple_head and head.atom.ast_type == ast.ASTType.SymbolicAtom
                  else [] if simple_head else list(_head_atoms(head)))
    for atom in head_atoms:
        for signature, term in _signatures(atom):
            if signature == "holds/2":
                owns.update(_criterion_families(term.arguments[1]))
                continue
            if signature in DECLARATIONS and term.ast_type == ast.ASTType.Function and term.arguments:
                owns.update(_criterion_families(term.arguments[0]))
            heads.append((signature, _pattern(term)))
    reads: list[tuple[str, _Pattern]] = []
    needs: set[str] = set()
    body_terms = [t for part in statement.body for t in _body_atoms(part)]
    if not simple_head:
        body_terms += _conditions(head)
    for atom in body_terms:
        for signature, term in _signatures(atom):
            if signature == "holds/2":
                needs.update(_criterion_families(term.arguments[1]))
            else:
                reads.append((signature, _pattern(term)))
    return owns, heads, reads, needs


def _body_atoms(literal: ast.AST) -> Iterator[ast.AST]:
    """The atom terms of one body literal (a plain literal read directly: walking is slow)."""
    if literal.ast_type == ast.ASTType.Literal:
        atom = literal.atom
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            yield atom.symbol
            return
        if atom.ast_type in (ast.ASTType.Comparison, ast.ASTType.BooleanConstant):
            return
    yield from _atoms(literal)


def _criterion_families(term: ast.AST) -> Iterator[str]:
    """Family names of a criterion term (none for a variable): ``q``, ``q(R)``, a pool of them."""
    if term.ast_type == ast.ASTType.Pool:
        for part in term.arguments:
            yield from _criterion_families(part)
    elif term.ast_type == ast.ASTType.Function and not term.external:
        yield term.name
    elif term.ast_type == ast.ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.Function:
        yield family_of(str(term.symbol))


def _pattern(term: ast.AST) -> _Pattern:
    """A term's pattern: a ground term is parsed from its text (reading the AST is slow)."""
    text = str(term)
    if not _MAYBE_VARIABLE.search(_STRING.sub('""', text)):
        try:
            return _symbol_pattern(clingo.parse_term(text, logger=_quiet))
        except RuntimeError:
            pass
    return _ast_pattern(term)


def _ground_fact(text: str) -> clingo.Symbol | None:
    """The atom of a statement written as a ground fact (``p(a, 1).``), None for anything else."""
    bare = _STRING.sub('""', text)
    if not bare.endswith(".") or ":-" in bare or _MAYBE_VARIABLE.search(bare) or bare.startswith(("#", "-", "{")):
        return None
    try:
        symbol = clingo.parse_term(text[:-1], logger=_quiet)
    except RuntimeError:
        return None
    return symbol if symbol.type == clingo.SymbolType.Function else None


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
#: An upper-case letter or underscore starting a token outside a string: maybe a variable.
_MAYBE_VARIABLE = re.compile(r'(?:^|[^a-z0-9_A-Z"])[A-Z_]|\.\.|;')


def _quiet(_code: object, _message: str) -> None:
    return None


def _symbol_pattern(symbol: clingo.Symbol) -> _Pattern:
    if symbol.type == clingo.SymbolType.Function and symbol.arguments:
        return ("f", symbol.name, tuple(_symbol_pattern(a) for a in symbol.arguments))
    return ("c", str(symbol))


def _ast_pattern(term: ast.AST) -> _Pattern:
    kind = term.ast_type
    if kind == ast.ASTType.SymbolicTerm:
        symbol = term.symbol
        if symbol.type == clingo.SymbolType.Function and symbol.arguments:
            return ("f", symbol.name, tuple(("c", str(a)) for a in symbol.arguments))
        return ("c", str(symbol))
    if kind == ast.ASTType.Function and not term.external:
        if not term.arguments:
            return ("c", term.name)
        return ("f", term.name, tuple(_pattern(a) for a in term.arguments))
    if (kind == ast.ASTType.UnaryOperation and term.operator_type == ast.UnaryOperator.Minus
            and term.argument.ast_type == ast.ASTType.SymbolicTerm
            and term.argument.symbol.type == clingo.SymbolType.Number):
        return ("c", str(-term.argument.symbol.number))
    return None


def _unify(a: _Pattern, b: _Pattern) -> bool:
    if a is None or b is None:
        return True
    if a[0] != b[0]:
        return False
    if a[0] == "c":
        return a[1] == b[1]
    return a[1] == b[1] and len(a[2]) == len(b[2]) and all(_unify(x, y) for x, y in zip(a[2], b[2], strict=True))


def _definitions(parsed: _Parsed) -> dict[str, dict[str, Rule]]:
    """family -> {rule text: rule} of every rule of its definition."""
    by_signature: dict[str, list[tuple[int, _Pattern]]] = {}
    for index, heads in parsed.heads.items():
        for signature, pattern in heads:
            by_signature.setdefault(signature, []).append((index, pattern))
    read_cache: dict[int, set[int]] = {}

    def read_by(index: int) -> set[int]:
        found = read_cache.get(index)
        if found is None:
            found = {other for signature, pattern in parsed.reads.get(index, ())
                     for other, head in by_signature.get(signature, ()) if _unify(pattern, head)}
            read_cache[index] = found
        return found

    own: dict[str, list[int]] = {}
    for index, families in parsed.owns.items():
        for family in families:
            own.setdefault(family, []).append(index)
    definitions: dict[str, dict[str, Rule]] = {}
    for family, start in own.items():
        seen: set[int] = set()
        stack = list(start)
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            # a helper that itself defines criteria (a declaration fact) is that criterion's rule
            stack.extend(i for i in read_by(index) if not parsed.owns.get(i) or family in parsed.owns[i])
        definitions[family] = {parsed.rules[i].text: parsed.rules[i] for i in seen}
    return definitions

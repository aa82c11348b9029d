"""Consistency checks over the KB itself: what ``spinekb check`` reports to guideline authors.

The checks are ASP, in ``kb/checks/checks.lp``: its ``kb_checks`` block derives
``kb_issue(Check, Severity, Subject)`` from the static KB atoms, and its ``check_search``
block lets every leaf criterion be freely true or false so that brave reasoning
(``--enum-mode=brave``) finds what holds in no abstract model. This module only reads
the rules' syntax (:func:`spinekb.kb.syntax.parse_program`, :func:`spinekb.kb.structure.base_rules`)
into input facts, solves, and words each issue::

    >>> issues = run_checks()
    >>> {issue.severity for issue in issues} <= set(SEVERITIES)
    True
    >>> import tempfile
    >>> toy = Path(tempfile.mkdtemp(), "toy.lp")
    >>> _ = toy.write_text('section("SP-9", "Lumbar Spinal Stenosis"). see("SP-9", "SP-9.1", "See: (SP-9.1)").')
    >>> [(i.check, i.severity) for i in run_checks([toy])]
    [('xref_unknown', 'error')]

``run_checks(files)`` checks any KB's ``.lp`` files (tests feed small synthetic KBs); the
check program of ``kb/checks/checks.lp`` is added to them. A few checks read the guideline's own text
(:mod:`spinekb.kb.guidetext`): how it cites and lists section titles, and whether the
quotations of ``kb/checks/checks_text.lp`` are where it says::

    >>> text = "Red Flag Indications (SP-1.2)\\nSee: Red Flags (SP-1.2)\\n"
    >>> _ = toy.write_text('section("SP-1.2", "Red Flag Indications").')
    >>> [(i.check, i.quotes) for i in run_checks([toy], text)]
    [('title_cited_differently', (('SP-1.2', 'Red Flags (SP-1.2)'), ('SP-1.2', 'Red Flag Indications')))]
"""
from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import clingo
from clingo import Function, Number, String, Symbol
from clingo import ast

from spinekb.kb.inputs import CASE_PREDICATES
from spinekb.kb.guidetext import Citation, GuidelineText, read_guideline, same_words
from spinekb.kb.structure import KbRule, base_rules
from spinekb.kb.static import render
from spinekb.kb.syntax import Statement, base_block, parse_program
from spinekb.kb import GUIDELINE, kb_dir, kb_files, kb_version

SEVERITIES = ("error", "warning", "info")

#: Every check, in report order, with the heading the text report gives it.
CHECKS: dict[str, str] = {
    "kb_unsatisfiable": "the KB has no answer set even without cases",
    "xref_unknown": "cross-references naming no section of this guideline nor another guideline",
    "xref_unknown_source": "cross-references declared for a section id not in the section list",
    "code_unknown": "CPT codes the rules use but the code table (kb/codes.lp) lacks",
    "text_code_mismatch": "CPT codes the text describes otherwise than the code table",
    "title_cited_differently": "sections the text cites by another title than their heading",
    "contents_title_differs": "chapter contents listing a section by another title than its heading",
    "section_title_differs": "sections whose title in kb/sections.lp differs from the text's heading",
    "declared_quote_missing": "quotations of kb/checks/checks_text.lp not found in the text of their section",
    "criterion_missing": "criteria used but neither declared (criterion/3) nor defined",
    "criterion_undefined": "criteria used but with neither a holds rule nor sub-criteria",
    "criterion_undeclared": "criteria defined but with no criterion/3 quoting the text",
    "criterion_cycle": "criteria that depend on themselves",
    "never_satisfiable": "composite criteria and pathways that hold in no case",
    "leaf_unsatisfiable": "leaf criteria none of whose holds rules can fire",
    "unknown_term": "finding terms missing from kb/vocabulary.lp",
    "criterion_duplicate": "criterion ids declared more than once, differently",
    "section_unknown": "section ids not in the section list",
    "conflict": "studies a pathway approves where another section says they are not indicated",
    "rule_unsatisfiable": "rules that can never fire",
    "criterion_unused": "criteria declared but neither defined nor used",
    "criterion_prefix": "criterion ids whose prefix names another section",
    "section_not_encoded": "sections with criteria but no encoded/1",
    "pathway_no_study": "pathways that support no study",
    "pathway_undeclared": "pathway studies with no pathway/2 naming the section",
    "pathway_no_scope": "pathways with no scope/2 (the presentation they address)",
    "composite_mixed": "criteria combining all_of, any_of and none_of children (read as alternatives)",
    "none_of_several": "criteria with several none_of children (hold when ANY child fails)",
    "xref_not_encoded": "cross-references to sections not yet encoded",
    "overridden": "studies a pathway approves where another section's exclusion rules them out",
    "tension": "studies a pathway approves where another section says, hedged, they are generally not needed",
    "uncoded_study": "imaging studies the text names without a CPT code that describes them",
    "threshold_differs": "one kind of requirement with different numbers in different sections",
    "threshold_undeclared": ("numbers a section's rules state that kb/checks/checks_text.lp does not declare "
                             "for that section"),
}

#: The checks whose findings are about the guideline text itself (its cross-references, codes,
#: titles, statements and numbers), not about how the KB encodes it: docs/guideline-findings.md.
GUIDELINE_FINDINGS = ("xref_unknown", "text_code_mismatch", "title_cited_differently", "contents_title_differs",
                      "conflict", "overridden", "tension", "uncoded_study", "threshold_differs")

#: The check program added to every KB under test; it lives beside this module, outside the
#: decision program and its version digest.
CHECKS_FILE = Path(__file__).parent / "checks.lp"
#: What the guideline text says that the checks hold the installed KB to (uncoded studies,
#: thresholds as stated).
DECLARED_FILE = Path(__file__).parent / "checks_text.lp"

_CPT = re.compile(r"^[0-9]{4}[0-9A-Z]$")
_ID_SECTION = re.compile(r"^sp([0-9]+(?:_[0-9]+)*)_")
_QUOTE = 120


@dataclass(frozen=True)
class Issue:
    """One problem the checks found: which check, how grave, where, and in words."""

    check: str
    severity: str
    sections: tuple[str, ...]
    criteria: tuple[str, ...]
    message: str
    #: CPT codes the issue is about
    codes: tuple[str, ...] = ()
    #: (section, the guideline's words) the issue quotes
    quotes: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The issue as the JSON report writes it."""
        return {"check": self.check, "severity": self.severity, "sections": list(self.sections),
                "criteria": list(self.criteria), "codes": list(self.codes),
                "quotes": [{"section": s, "words": w} for s, w in self.quotes], "message": self.message}


def run_checks(files: Sequence[Path] | None = None, guideline: str | None = None,
               root: Path | None = None) -> list[Issue]:
    """Check a KB's ``.lp`` files (None: the installed KB with its :data:`DECLARED_FILE`) and
    return its issues in report order. ``root``: the folder the files' locations are named from
    (:func:`spinekb.kb.syntax.parse_program`; the installed KB's own for the installed KB).

    ``guideline`` is the guideline's text for the checks that read it; for the installed KB it
    defaults to the repository's copy (docs/guideline/; no text checks when it is missing), for
    given files to none. Raises RuntimeError with clingo's first message if the program does
    not parse or ground."""
    if files is None:
        files, root = [*kb_files(), DECLARED_FILE], kb_dir()
        guideline = read_guideline() if guideline is None else guideline
    program = [*files, CHECKS_FILE]
    messages: list[str] = []
    try:
        statements = parse_program(program, root)
        found = _solve(program, _input_facts(base_rules(statements)) + _kb_numbers(statements), messages)
    except RuntimeError as error:
        # clingo's own message says where; its exception only that it stopped
        raise RuntimeError(" ".join(messages[0].split()) if messages else str(error)) from error
    if found is None:
        return [Issue("kb_unsatisfiable", "error", (), (), "the KB program has no answer set without cases; "
                      "look for integrity constraints or odd loops through negation")]
    issues = [_word(found, *args) for args in found.issues() if args[0] not in _GROUPED]
    issues += _conflicts(found)
    issues += _never_satisfiable(found)
    issues += _thresholds(found)
    if guideline is not None:
        issues += _text_checks(found, GuidelineText.parse(guideline, _titles(found)))
    order = list(CHECKS)
    return sorted(issues, key=lambda i: (order.index(i.check), [_section_order(s) for s in i.sections],
                                         i.criteria, i.message))


def summary(issues: Iterable[Issue]) -> dict[str, int]:
    """How many issues of each severity."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for issue in issues:
        counts[issue.severity] += 1
    return counts


def failing(issues: Iterable[Issue]) -> bool:
    """True when any issue is an error or a warning (info items alone pass)."""
    return any(issue.severity != "info" for issue in issues)


def report_json(issues: list[Issue], version: str | None = None) -> dict[str, Any]:
    """The JSON report: KB version, every issue, counts per severity."""
    return {"kb_version": version or kb_version(), "issues": [i.to_json() for i in issues],
            "summary": summary(issues)}


def report_text(issues: list[Issue], version: str | None = None) -> str:
    """The text report: one group per check, one line per issue, then the counts."""
    lines = [f"spinekb check: {GUIDELINE}, {version or kb_version()}"]
    for check, title in CHECKS.items():
        group = [i for i in issues if i.check == check]
        if not group:
            continue
        severity = "/".join(s for s in SEVERITIES if any(i.severity == s for i in group))
        lines.append("")
        lines.append(f"[{severity}] {check}: {title} ({len(group)})")
        lines.extend(f"  - {issue.message}" for issue in group)
    counts = summary(issues)
    lines.append("")
    lines.append(", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items())
                 + ("" if issues else ": the KB is consistent"))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Input facts read off the rules' syntax


def _input_facts(rules: list[KbRule]) -> list[Symbol]:
    """The kb_* input facts of kb/checks/checks.lp for the rules of a KB's base block."""
    facts: set[Symbol] = {Function("kb_case_sig", [String(n), Number(a)]) for n, a in CASE_PREDICATES}
    for rule in rules:
        where = String(rule.location.where())
        facts.update(Function("kb_head_sig", _signature(sig)) for sig in rule.heads)
        if not rule.body:
            continue
        facts.update(Function("kb_holds_family", [String(f), where]) for f in rule.families)
        for criterion in rule.criteria:
            ground = _ground_term(criterion)
            if ground is not None:
                facts.add(Function("kb_holds_id", [ground, where]))
        facts.update(Function("kb_rule_atom", [where, *_signature(sig)]) for sig in rule.needs)
        for term, positive in _finding_terms(rule.body):
            facts.add(Function("kb_term_use", [where, term, Function("pos" if positive else "neg")]))
        facts.update(Function("kb_code_literal", [where, String(code)]) for code in _code_literals(rule.body))
        facts.update(Function("kb_contradiction", [where, String(text)]) for text in _contradictions(rule.body))
    return sorted(facts)


def _signature(sig: str) -> list[Symbol]:
    name, arity = sig.rsplit("/", 1)
    return [String(name), Number(int(arity))]


def _ground_term(text: str) -> Symbol | None:
    """A criterion term written without variables, as a symbol; None if it has variables."""
    try:
        return clingo.parse_term(text)
    except RuntimeError:
        return None


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and every AST node below it."""
    yield node
    for key in node.child_keys:
        value = getattr(node, key)
        if value is None:
            continue
        for child in ([value] if isinstance(value, ast.AST) else value):
            yield from _walk(child)


def _constant(term: ast.AST) -> Symbol | None:
    """The value of a term written as a constant, number or string; None otherwise."""
    if term.ast_type == ast.ASTType.SymbolicTerm:
        return term.symbol
    if term.ast_type == ast.ASTType.Function and not term.arguments and not term.external:
        return Function(term.name)
    if (term.ast_type == ast.ASTType.UnaryOperation and term.operator_type == ast.UnaryOperator.Minus
            and term.argument.ast_type == ast.ASTType.SymbolicTerm
            and term.argument.symbol.type == clingo.SymbolType.Number):
        return Number(-term.argument.symbol.number)
    return None


def _finding_terms(body: tuple[ast.AST, ...]) -> Iterator[tuple[Symbol, bool]]:
    """Each constant finding term a body tests, and whether it is a positive body literal."""
    for literal in body:
        if (literal.ast_type == ast.ASTType.Literal and literal.sign == ast.Sign.NoSign
                and literal.atom.ast_type == ast.ASTType.SymbolicAtom):
            yield from ((term, True) for term in _finding_term(literal.atom))
            continue
        for node in _walk(literal):
            if node.ast_type == ast.ASTType.SymbolicAtom:
                yield from ((term, False) for term in _finding_term(node))


def _finding_term(atom: ast.AST) -> Iterator[Symbol]:
    """The term of ``finding(C, t)`` / ``finding_day(C, t, D)`` when written as a constant."""
    term = atom.symbol
    if term.ast_type == ast.ASTType.Function and (term.name, len(term.arguments)) in (("finding", 2),
                                                                                      ("finding_day", 3)):
        value = _constant(term.arguments[1])
        if value is not None and value.type == clingo.SymbolType.Function:
            yield value


def _code_literals(body: tuple[ast.AST, ...]) -> set[str]:
    """The strings of a body that look like CPT codes ("72148", "0609T")."""
    return {node.symbol.string for literal in body for node in _walk(literal)
            if node.ast_type == ast.ASTType.SymbolicTerm and node.symbol.type == clingo.SymbolType.String
            and _CPT.match(node.symbol.string)}


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
_OPS = {ast.ComparisonOperator.LessThan: "<", ast.ComparisonOperator.GreaterThan: ">",
        ast.ComparisonOperator.LessEqual: "<=", ast.ComparisonOperator.GreaterEqual: ">=",
        ast.ComparisonOperator.Equal: "=", ast.ComparisonOperator.NotEqual: "!="}


def _contradictions(body: tuple[ast.AST, ...]) -> list[str]:
    """Variables the body compares with constants in ways no single value satisfies."""
    tests: dict[str, list[tuple[str, Symbol]]] = {}
    for literal in body:
        if (literal.ast_type != ast.ASTType.Literal or literal.sign != ast.Sign.NoSign
                or literal.atom.ast_type != ast.ASTType.Comparison):
            continue
        left = literal.atom.term
        for guard in literal.atom.guards:
            op, right = _OPS[guard.comparison], guard.term
            left_value, right_value = _constant(left), _constant(right)
            if left.ast_type == ast.ASTType.Variable and right_value is not None:
                tests.setdefault(left.name, []).append((op, right_value))
            elif right.ast_type == ast.ASTType.Variable and left_value is not None:
                tests.setdefault(right.name, []).append((_FLIP[op], left_value))
            left = right
    return [", ".join(f"{var} {op} {value}" for op, value in found)
            for var, found in tests.items() if not _satisfiable(found)]


def _satisfiable(tests: list[tuple[str, Symbol]]) -> bool:
    """Whether one value passes every comparison: numbers by interval, constants by identity."""
    low, high = float("-inf"), float("inf")
    for op, value in tests:
        if value.type == clingo.SymbolType.Number:
            n = value.number
            low = max(low, {">": n + 1, ">=": n}.get(op, low))
            high = min(high, {"<": n - 1, "<=": n}.get(op, high))
    bounded = (low, high) != (float("-inf"), float("inf"))
    equal = {v for op, v in tests if op == "="}
    unequal = {v for op, v in tests if op == "!="}
    if len(equal) > 1 or equal & unequal or low > high:
        return False
    if equal and bounded:
        (value,) = equal
        return value.type == clingo.SymbolType.Number and low <= value.number <= high
    if bounded and high - low < len(unequal):  # a small interval every value of which is excluded
        excluded = {v.number for v in unequal if v.type == clingo.SymbolType.Number}
        return any(n not in excluded for n in range(int(low), int(high) + 1))
    return True


# ---------------------------------------------------------------------------------------------
# Solving: one brave enumeration gives the static issues (true in every model) and what holds
# in some abstract model


class _Strings:
    """String helpers the check program calls as @family, @prefix and @id_section."""

    @staticmethod
    def family(criterion: Symbol) -> Symbol:
        """The functor name of a criterion id (its family)."""
        return String(criterion.name if criterion.type == clingo.SymbolType.Function else str(criterion))

    @staticmethod
    def prefix(target: Symbol) -> Symbol:
        """The guideline prefix of a cross-reference target: "PVD-6" -> "PVD"."""
        return String(render(target).split("-", 1)[0])

    @staticmethod
    def id_section(criterion: Symbol) -> Symbol:
        """The section a criterion id names by its prefix: sp5_1_c3 -> "SP-5.1" ("" if none)."""
        name = criterion.name if criterion.type == clingo.SymbolType.Function else str(criterion)
        found = _ID_SECTION.match(name)
        return String("SP-" + found.group(1).replace("_", ".") if found else "")

    @staticmethod
    def parent(section: Symbol) -> Symbol:
        """The chapter of a subsection: "SP-10.1" -> "SP-10" ("" for a chapter)."""
        text = render(section)
        return String(text.rsplit(".", 1)[0] if "." in text else "")


@dataclass
class _Found:
    """The brave consequences of the check program, filed by predicate."""

    atoms: dict[str, list[tuple[Symbol, ...]]] = field(default_factory=dict)

    def of(self, name: str) -> list[tuple[Symbol, ...]]:
        return self.atoms.get(name, [])

    def issues(self) -> list[tuple[str, str, Symbol]]:
        return [(c.name, s.name, subject) for c, s, subject in self.of("kb_issue")]

    def true(self) -> set[Symbol]:
        return {q for (q,) in self.of("kb_true")}

    def section(self, criterion: Symbol) -> str:
        for q, s, _ in self.of("criterion"):
            if q == criterion:
                return render(s)
        for q, s in self.of("pathway"):
            if q == criterion:
                return render(s)
        return _Strings.id_section(criterion).string or "?"

    def text(self, criterion: Symbol) -> str:
        return next((render(t) for q, _, t in self.of("criterion") if q == criterion), "")

    def parents(self, criterion: Symbol) -> list[Symbol]:
        return sorted({q for q, _, s in self.of("kb_child") if s == criterion})


_SHOWN = {("kb_issue", 3), ("kb_true", 1), ("kb_unless_true", 3), ("criterion", 3), ("pathway", 2),
          ("kb_child", 3), ("kb_reaches", 2), ("kb_composite", 1), ("kb_defined", 1),
          ("kb_dead_leaf", 1), ("kb_referenced", 2), ("cpt", 5), ("kb_holds_rule", 2), ("section", 2),
          ("uncoded_study", 3), ("threshold", 5), ("threshold_kind", 2), ("kb_threshold_norm", 4)}


def _solve(files: Sequence[Path], facts: list[Symbol], messages: list[str]) -> _Found | None:
    """Ground the KB's files with the check blocks and the input facts: the static atoms the checks
    derived, plus the brave consequences of the abstract search; None if it has no model."""
    ctl = clingo.Control(["--warn=none", "--enum-mode=brave", "--models=0"],
                         logger=lambda _, message: messages.append(message))
    for path in files:
        ctl.load(str(path))
    with ctl.backend() as backend:
        for fact in facts:
            backend.add_rule([backend.add_atom(fact)])
    ctl.ground([("base", []), ("kb_checks", []), ("check_search", [])], context=_Strings())
    found = _Found()
    for atom in ctl.symbolic_atoms:
        symbol = atom.symbol
        if atom.is_fact and (symbol.name, len(symbol.arguments)) in _SHOWN:
            found.atoms.setdefault(symbol.name, []).append(tuple(symbol.arguments))
    brave: list[Symbol] | None = None
    with ctl.solve(yield_=True) as handle:
        for model in handle:
            brave = model.symbols(shown=True)
    if brave is None:
        return None
    for symbol in brave:
        if symbol.name in ("kb_true", "kb_issue"):
            found.atoms.setdefault(symbol.name, []).append(tuple(symbol.arguments))
    found.atoms["kb_issue"] = sorted(set(found.of("kb_issue")))
    return found


# ---------------------------------------------------------------------------------------------
# Wording


def _quote(text: str) -> str:
    return '"' + (text if len(text) <= _QUOTE else text[:_QUOTE - 1].rstrip() + "…") + '"'


def _named(found: _Found, criterion: Symbol) -> str:
    """A criterion as a message names it: section, id and (shortened) words."""
    text = found.text(criterion)
    return f"{found.section(criterion)} {criterion}" + (f" {_quote(text)}" if text else "")


def _why(reason: Symbol) -> str:
    args = reason.arguments
    if reason.name == "unknown_predicate":
        return f"needs {render(args[0])}/{args[1]}, which no rule derives and no case provides"
    if reason.name == "unknown_term":
        return f"needs finding term {args[0]}, which kb/vocabulary.lp does not define"
    return f"compares {render(args[0])}: no value satisfies all of it"


def _word(found: _Found, check: str, severity: str, subject: Symbol) -> Issue:
    """An issue of kb/checks/checks.lp in words, with the codes and words it quotes."""
    wording: Callable[[_Found, Symbol], tuple[list[str], list[Symbol], str]] = _WORDING[check]
    sections, criteria, message = wording(found, subject)
    codes, quotes = _CITED.get(check, lambda _f, _s: ((), ()))(found, subject)
    return Issue(check, severity, tuple(dict.fromkeys(sections)), tuple(str(c) for c in criteria), message,
                 codes, quotes)


def _quoted(section: str, words: str) -> tuple[tuple[str, str], ...]:
    return ((section, words),) if words else ()


def _xref_cited(found: _Found, s: Symbol) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    source, _, text, _ = s.arguments
    return (), _quoted(render(source) if source.type == clingo.SymbolType.String else "?", render(text))


def _code_cited(found: _Found, s: Symbol) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    return (render(s.arguments[1]),), ()


def _uncoded_cited(found: _Found, s: Symbol) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    section, words, _ = s.arguments
    return (), _quoted(render(section), render(words))


_CITED = {"xref_unknown": _xref_cited, "xref_not_encoded": _xref_cited, "text_code_mismatch": _code_cited,
          "uncoded_study": _uncoded_cited}


def _xref(found: _Found, s: Symbol):
    source, target, text, criterion = s.arguments
    by = [] if criterion.name == "none" else [criterion]
    origin = render(source) if source.type == clingo.SymbolType.String else "?"
    return [origin], by, (f"{origin} refers to {render(target)}"
                          + (f" (redirect of {criterion})" if by else "") + f": {_quote(render(text))}")


def _xref_unknown(found: _Found, s: Symbol):
    sections, criteria, message = _xref(found, s)
    target = render(s.arguments[1])
    return sections, criteria, message + f"; {target} is no section of the guideline nor another guideline"


def _xref_not_encoded(found: _Found, s: Symbol):
    sections, criteria, message = _xref(found, s)
    return sections + [render(s.arguments[1])], criteria, message + "; not yet encoded"


def _xref_source(found: _Found, s: Symbol):
    source, target, text = s.arguments
    return [], [], (f"see({render(source)}, {render(target)}): {render(source)} is not in the section list: "
                    f"{_quote(render(text))}")


def _code_unknown(found: _Found, s: Symbol):
    code, use, owner = s.arguments
    if use.name == "rule_body":
        return [], [], f"CPT {render(code)} is named in the rule at {render(owner)} but is not in the code table"
    if use.name == "text_code":
        return [render(owner)], [], f"{render(owner)} names CPT {render(code)} (text_code) but the code table lacks it"
    return ([found.section(owner)], [owner],
            f"{_named(found, owner)} uses CPT {render(code)} ({use.name}) but the code table lacks it")


def _text_code(found: _Found, s: Symbol):
    section, code, said, table = s.arguments
    description = next((render(d) for c, *_, d in found.of("cpt") if c == code), "")
    return [render(section)], [], (f"{render(section)} names CPT {render(code)} as "
                                   f"{' '.join(str(a) for a in said.arguments)}; the code table has "
                                   f"{' '.join(str(a) for a in table.arguments)} ({_quote(description)})")


def _users(found: _Found, q: Symbol) -> str:
    uses = [f"{how.name} {q}" if how.name != "child" else "" for c, how in found.of("kb_referenced") if c == q]
    parents = found.parents(q)
    parts = ([f"by {', '.join(map(str, parents))}"] if parents else []) + [u for u in uses if u]
    return "; ".join(parts) if parts else "nowhere"


def _missing(found: _Found, q: Symbol):
    parents = found.parents(q)
    return ([found.section(p) for p in parents] or [found.section(q)], [q, *parents],
            f"{q} is used {_users(found, q)}, but has no criterion/3 fact and no holds rule nor sub-criteria")


def _undefined(found: _Found, q: Symbol):
    parents = found.parents(q)
    return ([found.section(q)] + [found.section(p) for p in parents], [q, *parents],
            f"{_named(found, q)} is used {_users(found, q)}, but has no holds rule nor sub-criteria: "
            "no case meets it")


def _undeclared(found: _Found, q: Symbol):
    return [found.section(q)], [q], f"{q} is defined but has no criterion/3 fact quoting the guideline"


def _unused(found: _Found, q: Symbol):
    return [found.section(q)], [q], f"{_named(found, q)} is neither defined nor used"


def _cycle(found: _Found, q: Symbol):
    return [found.section(q)], [q], f"{q} depends on itself through its sub-criteria"


def _leaf(found: _Found, s: Symbol):
    q, where, reason = s.arguments
    return [found.section(q)], [q], f"{_named(found, q)}: its rule at {render(where)} {_why(reason)}"


def _rule(found: _Found, s: Symbol):
    q, where, reason = s.arguments
    if q.name == "none":
        return [], [], f"the rule at {render(where)} {_why(reason)}"
    return ([found.section(q)], [q],
            f"{q}: its rule at {render(where)} {_why(reason)} (other rules of {q} can still fire)")


def _term(found: _Found, s: Symbol):
    term, where = s.arguments
    return [], [], f"the rule at {render(where)} tests finding term {term}, which kb/vocabulary.lp does not define"


def _duplicate(found: _Found, s: Symbol):
    q, s1, s2, t1, t2 = s.arguments
    return ([render(s1), render(s2)], [q],
            f"{q} is declared twice: {render(s1)} {_quote(render(t1))} and {render(s2)} {_quote(render(t2))}")


def _prefix(found: _Found, s: Symbol):
    q, section, named = s.arguments
    where = f"names {render(named)}" if render(named) else "names no section (expected sp<section>_...)"
    return [render(section)], [q], f"{q} is declared in {render(section)} but its id {where}"


def _section_unknown(found: _Found, s: Symbol):
    section, how, q = s.arguments
    if how.name == "encoded":
        return [render(section)], [], f"encoded({render(section)}) names no section of the section list"
    return [render(section)], [q], f"{q} is declared in {render(section)}, which is not in the section list"


def _not_encoded(found: _Found, s: Symbol):
    count = sum(1 for _, sec, _ in found.of("criterion") if sec == s)
    return [render(s)], [], f"{render(s)} has {count} criteria but no encoded({s})"


def _no_study(found: _Found, s: Symbol):
    p, section = s.arguments
    return [render(section)], [p], f"pathway {_named(found, p)} supports no study (no pathway_study/2)"


def _pathway_undeclared(found: _Found, p: Symbol):
    return [found.section(p)], [p], f"{p} has pathway_study/2 but no pathway/2 naming its section"


def _no_scope(found: _Found, s: Symbol):
    p, section = s.arguments
    return [render(section)], [p], (f"pathway {_named(found, p)} declares no scope/2 (the presentation it "
                                    "addresses), so a denial cannot tell whether it applies to the case")


def _mixed(found: _Found, q: Symbol):
    kinds = sorted({how.name for c, how, _ in found.of("kb_child") if c == q})
    return ([found.section(q)], [q], f"{_named(found, q)} has {' and '.join(k + '_of' for k in kinds)} children; "
            "decide.lp makes it hold when ANY one of these kinds is satisfied")


def _several_none(found: _Found, q: Symbol):
    children = sorted(str(s) for c, how, s in found.of("kb_child") if c == q and how.name == "none")
    return ([found.section(q)], [q], f"{_named(found, q)} has none_of children {', '.join(children)}; decide.lp "
            "makes it hold when ANY of them fails to hold, not only when none of them holds")


def _uncoded(found: _Found, s: Symbol):
    section, words, note = s.arguments
    return [render(section)], [], f"{render(section)} names {_quote(render(words))} without a CPT code: {render(note)}"


def _undeclared_number(found: _Found, s: Symbol):
    where, section, number, text = s.arguments
    return ([render(section)], [], f"{render(where)} states {number} ({render(text)}), a number that "
            f"kb/checks/checks_text.lp declares for no threshold of {render(section)}: a reading of the KB, or a "
            "threshold to declare")


_WORDING: dict[str, Callable[[_Found, Symbol], tuple[list[str], list[Symbol], str]]] = {
    "xref_unknown": _xref_unknown, "xref_not_encoded": _xref_not_encoded, "xref_unknown_source": _xref_source,
    "code_unknown": _code_unknown, "text_code_mismatch": _text_code,
    "criterion_missing": _missing, "criterion_undefined": _undefined, "criterion_undeclared": _undeclared,
    "criterion_unused": _unused, "criterion_cycle": _cycle,
    "leaf_unsatisfiable": _leaf, "rule_unsatisfiable": _rule, "unknown_term": _term,
    "criterion_duplicate": _duplicate, "criterion_prefix": _prefix, "section_unknown": _section_unknown,
    "section_not_encoded": _not_encoded, "pathway_no_study": _no_study, "pathway_undeclared": _pathway_undeclared,
    "composite_mixed": _mixed, "none_of_several": _several_none, "pathway_no_scope": _no_scope,
    "uncoded_study": _uncoded, "threshold_undeclared": _undeclared_number,
}


def _never_satisfiable(found: _Found) -> list[Issue]:
    """kb_unless_true items whose criterion holds in no abstract model."""
    true = found.true()
    composite = {q for (q,) in found.of("kb_composite")}
    issues = []
    for check, severity, q in found.of("kb_unless_true"):
        if q in true:
            continue
        blocked = sorted({s for p, s in found.of("kb_reaches") if p == q and s not in composite and s not in true},
                         key=str)
        pathway = any(p == q for p, _ in found.of("pathway"))
        cause = (f"blocked by {', '.join(map(str, blocked))}, which no case can meet" if blocked
                 else "its conditions contradict each other (an all_of of a criterion and its none_of, ...)")
        issues.append(Issue(check.name, severity.name, (found.section(q),), (str(q), *map(str, blocked)),
                            f"{'pathway ' if pathway else ''}{_named(found, q)} holds in no case: {cause}"))
    return issues


_CONFLICTS = ("conflict", "overridden", "tension")
#: checks worded from several kb_issue atoms at once, not one by one
_GROUPED = (*_CONFLICTS, "threshold_differs")


def _compact(criteria: list[Symbol]) -> str:
    """Criterion ids with the parameters of one family folded: ``p(cervical; lumbar), q``."""
    families: dict[str, list[str]] = {}
    for q in criteria:
        if q.type == clingo.SymbolType.Function and q.arguments:
            families.setdefault(q.name, []).append(", ".join(str(a) for a in q.arguments))
        else:
            families.setdefault(str(q), [])
    return ", ".join(f"{name}({'; '.join(args)})" if args else name for name, args in families.items())


def _conflicts(found: _Found) -> list[Issue]:
    """One issue per statement (criterion family): the studies it speaks against, and every
    section and pathway approving them where it can hold too."""
    groups: dict[tuple[str, str, str], dict[str, dict[Symbol, set[str]]]] = {}
    first: dict[tuple[str, str, str], Symbol] = {}
    for check, severity, subject in found.issues():
        if check in _CONFLICTS:
            q, p, code = subject.arguments
            family = q.name if q.type == clingo.SymbolType.Function else str(q)
            key = (check, severity, family)
            first.setdefault(key, q)
            by_section = groups.setdefault(key, {}).setdefault(found.section(p), {})
            by_section.setdefault(p, set()).add(render(code))
    issues = []
    for key, sections in groups.items():
        check, severity, _ = key
        q = first[key]
        codes = sorted({c for routes in sections.values() for found_codes in routes.values() for c in found_codes})
        approvals = "; ".join(f"{section} by {_compact(sorted(routes))}"
                              for section, routes in sorted(sections.items(), key=lambda kv: _section_order(kv[0])))
        pathways = sorted({p for routes in sections.values() for p in routes})
        verb = {"overridden": "rules out", "tension": "generally advises against"}.get(check, "advises against")
        issues.append(Issue(check, severity, (found.section(q), *sorted(sections, key=_section_order)),
                            (str(q), *map(str, pathways)),
                            f"{_named(found, q)} {verb} CPT {', '.join(codes)}; yet {approvals} "
                            f"approve{'s' if len(pathways) == 1 else ''} them where it can hold too",
                            codes=tuple(codes), quotes=_quoted(found.section(q), found.text(q))))
    return issues


def _section_order(section: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"[0-9]+", section))


# ---------------------------------------------------------------------------------------------
# Thresholds: one kind of requirement, different numbers in different sections


def _thresholds(found: _Found) -> list[Issue]:
    """One issue per kind of requirement whose sections state different numbers: each number
    with its sections and words, in the order of the sections."""
    kinds = {k: render(d) for k, d in found.of("threshold_kind")}
    stated = {(k, s, w): f"{v.number} {u.name[:-1] if v.number == 1 and u.name.endswith('s') else u.name}"
              for k, s, v, u, w in found.of("threshold")}
    issues = []
    for check, severity, kind in found.issues():
        if check != "threshold_differs":
            continue
        rows = sorted(((render(s), n.number, render(w), stated[(kind, s, w)])
                       for k, s, n, w in found.of("kb_threshold_norm") if k == kind),
                      key=lambda row: (_section_order(row[0]), row[2]))
        by_value: dict[int, list[tuple[str, str, str]]] = {}
        for section, norm, words, value in rows:
            by_value.setdefault(norm, []).append((section, words, value))
        parts = []
        for group in by_value.values():
            sections = ", ".join(dict.fromkeys(section for section, _, _ in group))
            words = "; ".join(dict.fromkeys(_quote(w) for _, w, _ in group))
            values = " = ".join(dict.fromkeys(value for _, _, value in group))
            parts.append(f"{values} in {sections} ({words})")
        description = kinds.get(kind, str(kind))
        issues.append(Issue(check, severity, tuple(dict.fromkeys(r[0] for r in rows)), (),
                            f"{description}: " + "; ".join(parts),
                            quotes=tuple(dict.fromkeys((section, words) for section, _, words, _ in rows))))
    return issues


_SECTION_FILE = re.compile(r"^sp([0-9]+)(?:_([0-9]+))?_")
#: Facts that name a threshold by convention: window(trial, 42), sp16_2_window(x, 28), sp3_2_threshold(age, 65).
_NUMBER_FACT = re.compile(r"(^|_)(window|threshold|limit|cutoff)s?$")


def _kb_numbers(statements: Iterable[Statement]) -> list[Symbol]:
    """kb_number(Loc, Section, N, Text) for every number a section file (kb/sp<section>_*.lp) of
    the base block states: the value of a window or threshold fact (``window(trial, 42)``,
    ``sp16_2_window(x, 28)``, ``sp3_2_threshold(age, 65)``) and every non-zero constant a comparison
    tests (``A > 70``)."""
    found: list[Symbol] = []
    for statement in base_block(statements):
        rule = statement.node
        section = _file_section(statement.location.file)
        if rule.ast_type != ast.ASTType.Rule or section is None:
            continue
        numbers = [] if rule.body else list(_window_values(rule.head))
        numbers += [(abs(value.number), str(literal)) for literal in rule.body
                    for value in _compared_numbers(literal) if value.number != 0]
        where = String(statement.location.where())
        found.extend(Function("kb_number", [where, String(section), Number(n), String(text)]) for n, text in numbers)
    return found


def _file_section(name: str) -> str | None:
    """The section a KB file is named after: ``sp16_2_injections.lp`` -> "SP-16.2"; None if none."""
    found = _SECTION_FILE.match(name)
    if found is None:
        return None
    return "SP-" + found.group(1) + (f".{found.group(2)}" if found.group(2) else "")


def _window_values(head: ast.AST) -> Iterator[tuple[int, str]]:
    """The value of a window or threshold fact's last argument, if a number."""
    if head.ast_type != ast.ASTType.Literal or head.atom.ast_type != ast.ASTType.SymbolicAtom:
        return
    term = head.atom.symbol
    for part in (term.arguments if term.ast_type == ast.ASTType.Pool else [term]):
        if part.ast_type == ast.ASTType.Function and _NUMBER_FACT.search(part.name) and part.arguments:
            value = _constant(part.arguments[-1])
            if value is not None and value.type == clingo.SymbolType.Number:
                yield abs(value.number), str(part)


def _compared_numbers(literal: ast.AST) -> Iterator[Symbol]:
    """The numbers a comparison literal tests a term against."""
    if literal.ast_type != ast.ASTType.Literal or literal.atom.ast_type != ast.ASTType.Comparison:
        return
    for term in [literal.atom.term, *(guard.term for guard in literal.atom.guards)]:
        value = _constant(term)
        if value is not None and value.type == clingo.SymbolType.Number:
            yield value


# ---------------------------------------------------------------------------------------------
# The guideline's own text: titles as cited, as listed in the contents and as headed; the
# quotations kb/checks/checks_text.lp declares


def _titles(found: _Found) -> dict[str, str]:
    return {render(s): render(t) for s, t in found.of("section")}


def _text_checks(found: _Found, text: GuidelineText) -> list[Issue]:
    """Titles of the text against each other and the section list, and the declared quotations."""
    titles = _titles(found)
    issues = []
    for citation in text.citations:
        known = titles.get(citation.target)
        if known is None or not citation.title:  # an unknown target is xref_unknown's
            continue
        if citation.kind == "reference" and not same_words(citation.title, known):
            issues.append(_cited_differently(citation, known, titles))
        elif citation.kind == "contents":
            heading = text.heading(citation.target)
            if citation.title != (heading.title if heading else known):
                issues.append(_contents_differs(citation, heading, known))
        elif citation.kind == "heading" and citation.title != known:
            issues.append(Issue("section_title_differs", "warning", (citation.target,), (),
                                f"kb/sections.lp names {citation.target} {_quote(known)}; the text heads it "
                                f"{_quote(citation.title)} (line {citation.line})",
                                quotes=((citation.target, citation.title),)))
    declared = [(render(s), render(w), "uncoded_study") for s, w, _ in found.of("uncoded_study")]
    declared += [(render(s), render(w), f"threshold {k}") for k, s, _, _, w in found.of("threshold")]
    for section, words, what in sorted(set(declared)):
        if not text.contains(section, words):
            issues.append(Issue("declared_quote_missing", "warning", (section,), (),
                                f"kb/checks/checks_text.lp quotes {section} ({what}) as {_quote(words)}, "
                                f"but the text of "
                                f"{section} has no such words", quotes=((section, words),)))
    return issues


def _place(citation: Citation) -> str:
    return f"{citation.section or 'the text'} (line {citation.line})"


def _cited_differently(citation: Citation, known: str, titles: dict[str, str]) -> Issue:
    cited = f"{citation.title} ({citation.target})"
    other = [s for s, t in titles.items() if s != citation.target and same_words(t, citation.title)]
    also = f"; that is the title of {', '.join(other)}" if other else ""
    sections = tuple(dict.fromkeys([citation.section, citation.target] if citation.section else [citation.target]))
    return Issue("title_cited_differently", "warning", sections, (),
                 f"{_place(citation)} cites {_quote(cited)}; {citation.target} is headed {_quote(known)}{also}",
                 quotes=((citation.section or "?", cited), (citation.target, known)))


def _contents_differs(citation: Citation, heading: Citation | None, known: str) -> Issue:
    body = heading.title if heading else known
    severity = "info" if same_words(citation.title, body) else "warning"
    how = "only in letter case or spacing" if severity == "info" else "in their words"
    where = f"the text heads it {_quote(body)} (line {heading.line})" if heading else \
        f"the text has no heading for it; kb/sections.lp names it {_quote(known)}"
    return Issue("contents_title_differs", severity, (citation.section or citation.target, citation.target), (),
                 f"the contents of {citation.section} list {citation.target} as {_quote(citation.title)} "
                 f"(line {citation.line}, page {citation.page}); {where}: they differ {how}",
                 quotes=((citation.section or "?", f"{citation.title} ({citation.target}) {citation.page}"),
                         (citation.target, body)))

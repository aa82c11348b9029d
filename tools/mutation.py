"""Mutation testing of the KB's thresholds: does some YAML test notice when a threshold moves?

    python tools/mutation.py                 # every mutant of kb/*.lp, 2 processes (`make mutation`)
    python tools/mutation.py --jobs 1 --files sp1_0 --files sp1_2
    python tools/mutation.py --list          # the mutants only, nothing decided
    python tools/mutation.py --json out.json # every mutant and its fate, as data

Every integer literal of the decision program (``window(trial, 42)``, ``V >= 9``, ``A > 70``) is
moved by +1 and by -1, and every ordering comparison (of a rule body, a condition or an
aggregate guard) is flipped on its boundary: ``>=`` <-> ``>``, ``<=`` <-> ``<``. The literals and
comparisons are found with ``clingo.ast`` and each mutant is written by replacing exactly the
source span of the mutated node with the mutated node's text; the rest of the KB is untouched.

Every YAML criterion test of ``tests/kb/*.yaml`` (the cases and expectations
``tests/kb/test_criteria.py`` loads) is decided in-process, all cases in one grounding, and
checked: the decision of each named CPT code and each criterion expected met and unmet
(``holds/2``), read with ``Model.contains`` rather than by converting every shown symbol. Tests
that also expect words in the reasons are checked, only for a mutant nothing else killed,
through ``spinekb.bridge.engine.Engine(trace=True)``, as the test suite does. Before any mutant,
the unmutated KB is checked both ways and the two must agree on every test.

Two ways to decide the mutants, with the same verdicts (tests/tools/test_mutation.py):

- ``--per-mutant``: each mutant's program grounded on its own (one grounding per mutant);
- the default, *shared*: ONE grounding for all mutants. Each mutated rule is kept twice, the
  original guarded by ``not mutation_active(K)`` and the mutant by ``mutation_active(K)``, with
  ``#external mutation_active(K)``; each mutant is then one solve with its external set true.
  With the externals fixed the program is the mutant's own (stratified, one answer set), and
  the grounding (the costly part) is paid once instead of once per mutant.

A mutant is *killed* when at least one test that passes on the unmutated KB fails on it. The
report gives the kill rate and every survivor with ``kb/file.lp:line``, the original and the
mutated text. Exit status 1 if any mutant survives (or a baseline test fails), 0 otherwise.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import clingo
from clingo import ast

from spinekb.bridge.engine import TRACE_SHOW, Engine
from spinekb.bridge.facts import case_facts
from spinekb.bridge.models import Case
from spinekb.kb import kb_files
from spinekb.kb.structure import kb_structure

ROOT = Path(__file__).resolve().parents[1]
CRITERIA_TESTS = ROOT / "tests" / "kb" / "test_criteria.py"

_FLIP = {
    ast.ComparisonOperator.GreaterEqual: ast.ComparisonOperator.GreaterThan,
    ast.ComparisonOperator.GreaterThan: ast.ComparisonOperator.GreaterEqual,
    ast.ComparisonOperator.LessEqual: ast.ComparisonOperator.LessThan,
    ast.ComparisonOperator.LessThan: ast.ComparisonOperator.LessEqual,
}


# --- mutants ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    """One change to one rule: the rule's byte span in its file, and the rule rewritten."""

    file: str          # the .lp file's name
    line: int          # the line of the mutated node
    kind: str          # "number+1", "number-1" or "comparison"
    start: int         # byte offsets of the whole rule in the file
    end: int
    original: str      # the mutated node, before and after
    mutated: str
    rule: str = field(default="", compare=False)     # the rule as clingo prints it, mutated
    source: str = field(default="", compare=False)   # the rule as clingo prints it, unmutated

    def where(self) -> str:
        return f"kb/{self.file}:{self.line}"

    def describe(self) -> str:
        return f"{self.where()}  {self.original}  ->  {self.mutated}"


def _offsets(data: bytes) -> list[int]:
    """The byte offset of each line's start (1-based lines: index 0 unused)."""
    starts = [0, 0]
    starts.extend(i + 1 for i, byte in enumerate(data) if byte == 0x0A)
    return starts


def _span(node: ast.AST, starts: list[int]) -> tuple[int, int]:
    location = node.location
    return (starts[location.begin.line] + location.begin.column - 1,
            starts[location.end.line] + location.end.column - 1)


def _flipped_guards(node: ast.AST) -> Iterator[ast.AST]:
    """Each copy of ``node`` (a comparison literal or an aggregate) with one guard flipped."""
    if node.ast_type == ast.ASTType.Literal and node.atom.ast_type == ast.ASTType.Comparison:
        comparison = node.atom
        for i, guard in enumerate(comparison.guards):
            if guard.comparison in _FLIP:
                guards = list(comparison.guards)
                guards[i] = guard.update(comparison=_FLIP[guard.comparison])
                yield node.update(atom=comparison.update(guards=guards))
    elif node.ast_type in (ast.ASTType.BodyAggregate, ast.ASTType.Aggregate, ast.ASTType.HeadAggregate):
        for side in ("left_guard", "right_guard"):
            guard = getattr(node, side)
            if guard is not None and guard.comparison in _FLIP:
                yield node.update(**{side: guard.update(comparison=_FLIP[guard.comparison])})


_Path = tuple[tuple[str, int | None], ...]


def _replaced(node: ast.AST, path: _Path, new: ast.AST) -> ast.AST:
    """``node`` with the descendant at ``path`` replaced by ``new`` (AST nodes are immutable)."""
    if not path:
        return new
    (key, index), rest = path[0], path[1:]
    child = getattr(node, key)
    if index is None:
        return node.update(**{key: _replaced(child, rest, new)})
    items = list(child)
    items[index] = _replaced(items[index], rest, new)
    return node.update(**{key: items})


def mutants_of(path: Path) -> list[Mutant]:
    """Every threshold mutant of one .lp file's rules, in source order."""
    text = path.read_text(encoding="utf-8")
    data = text.encode("utf-8")
    starts = _offsets(data)
    found: list[Mutant] = []

    def visit(rule: ast.AST, node: ast.AST, where: _Path) -> None:
        variants: list[tuple[str, ast.AST, int]] = []
        if node.ast_type == ast.ASTType.SymbolicTerm and node.symbol.type == clingo.SymbolType.Number:
            value = node.symbol.number
            variants = [(f"number{delta:+d}", node.update(symbol=clingo.Number(value + delta)),
                         node.location.begin.line) for delta in (1, -1)]
        elif "location" in node.keys():
            variants = [("comparison", flipped, node.location.begin.line) for flipped in _flipped_guards(node)]
        for kind, new, line in variants:
            start, end = _span(rule, starts)
            found.append(Mutant(path.name, line, kind, start, end, str(node).strip(), str(new).strip(),
                                str(_replaced(rule, where, new)), str(rule)))
        for key in node.child_keys:
            child = getattr(node, key)
            if child is None:
                continue
            if isinstance(child, ast.AST):
                visit(rule, child, (*where, (key, None)))
            else:
                for i, item in enumerate(child):
                    visit(rule, item, (*where, (key, i)))

    def statement(node: ast.AST) -> None:
        if node.ast_type == ast.ASTType.Rule:
            visit(node, node, ())

    ast.parse_string(text, statement)
    return found


def _program(files: list[Path], rewrite: dict[str, list[tuple[int, int, str]]]) -> str:
    """The decision program as ``kb_text()`` builds it, with byte spans of files rewritten."""
    parts = []
    for path in files:
        data = path.read_bytes()
        for start, end, text in sorted(rewrite.get(path.name, []), reverse=True):
            data = data[:start] + text.encode("utf-8") + data[end:]
        parts.append(f"%% file: {path.name}\n{data.decode('utf-8')}")
    return "\n".join(parts)


def apply(mutant: Mutant | None, files: list[Path]) -> str:
    """The decision program with ``mutant`` applied (``None``: unmutated)."""
    if mutant is None:
        return _program(files, {})
    return _program(files, {mutant.file: [(mutant.start, mutant.end, mutant.rule)]})


ACTIVE = "mutation_active"


def _guarded(rule_text: str, literals: list[tuple[bool, int]]) -> str:
    """``rule_text`` with ``[not] mutation_active(K)`` added to its body, as clingo prints it."""
    rules: list[ast.AST] = []
    ast.parse_string(rule_text, lambda node: rules.append(node) if node.ast_type == ast.ASTType.Rule else None)
    [rule] = rules
    location = rule.location
    extra = [ast.Literal(location, ast.Sign.NoSign if active else ast.Sign.Negation,
                         ast.SymbolicAtom(ast.Function(location, ACTIVE,
                                                       [ast.SymbolicTerm(location, clingo.Number(k))], 0)))
             for active, k in literals]
    return str(rule.update(body=[*rule.body, *extra]))


def instrumented(mutants: list[Mutant], files: list[Path]) -> str:
    """One program holding every mutant, each switched on by its external ``mutation_active(K)``."""
    by_rule: dict[tuple[str, int, int], list[int]] = {}
    for k, mutant in enumerate(mutants):
        by_rule.setdefault((mutant.file, mutant.start, mutant.end), []).append(k)
    rewrite: dict[str, list[tuple[int, int, str]]] = {}
    for (file, start, end), ks in by_rule.items():
        texts = [_guarded(mutants[ks[0]].source, [(False, k) for k in ks])]
        texts.extend(_guarded(mutants[k].rule, [(True, k)]) for k in ks)
        rewrite.setdefault(file, []).append((start, end, "\n".join(texts)))
    externals = "".join(f"#external {ACTIVE}({k}).\n" for k in range(len(mutants)))
    return _program(files, rewrite) + "\n" + externals


# --- the YAML tests -------------------------------------------------------------------------------

@dataclass
class Suite:
    """The YAML criterion tests: names, cases, expectations, and the facts of every case."""

    names: list[str]
    cases: list[Case]
    expects: list[dict[str, Any]]
    facts: list[clingo.Symbol] = field(default_factory=list)
    atoms: list[list[tuple[clingo.Symbol, bool]]] = field(default_factory=list)  # per test: (atom, expected)


def load_suite(only: list[str] | None = None) -> Suite:
    """Every YAML test (of the test files whose name contains one of ``only``), validated by
    tests/kb/test_criteria.py's own loader."""
    spec = importlib.util.spec_from_file_location("spinekb_criteria_tests", CRITERIA_TESTS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [t for t in module.load_tests() if only is None or any(o in t[0].split(":")[0] for o in only)]
    suite = Suite([name for name, _, _ in tests], [Case.model_validate(case) for _, case, _ in tests],
                  [expect for _, _, expect in tests])
    wanted = kb_structure().case_inputs
    for index, case in enumerate(suite.cases):
        suite.facts.extend(case_facts(index, case, wanted))
        c = clingo.Number(index)
        expected: list[tuple[clingo.Symbol, bool]] = []
        expect = suite.expects[index]
        for cpt, decision in expect.get("decisions", {}).items():
            expected.append((clingo.Function("decision", [c, clingo.String(str(cpt)), clingo.Function("approved")]),
                             decision == "approved"))
        for name, held in (("met", True), ("unmet", False)):
            for criterion in expect.get(name, []):
                expected.append((clingo.Function("holds", [c, clingo.parse_term(criterion)]), held))
        suite.atoms.append(expected)
    return suite


def grounded(program: str, suite: Suite) -> clingo.Control:
    """``program`` grounded with the facts of every case of the suite (one grounding)."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], program)
    with ctl.backend() as backend:
        for symbol in suite.facts:
            backend.add_rule([backend.add_atom(symbol)])
    ctl.ground([("base", [])])
    return ctl


def failing_in(ctl: clingo.Control, suite: Suite) -> list[int]:
    """The tests whose decisions, met or unmet criteria are wrong in the (first) answer set."""
    failing: list[int] = []
    with ctl.solve(yield_=True) as handle:
        model = handle.model()
        if model is None:
            return list(range(len(suite.names)))
        for index, expected in enumerate(suite.atoms):
            if any(model.contains(atom) != held for atom, held in expected):
                failing.append(index)
    return failing


def failing_fast(program: str, suite: Suite) -> list[int]:
    """The tests whose decisions, met or unmet criteria are wrong under ``program``."""
    return failing_in(grounded(program, suite), suite)


class _ProgramEngine(Engine):
    """The engine the test suite uses, deciding with another program text (a mutant)."""

    def __init__(self, program: str) -> None:
        super().__init__(chunk_size=1_000_000, trace=True)
        self._program = program + TRACE_SHOW


def failing_full(program: str, suite: Suite, which: list[int]) -> list[int]:
    """The tests among ``which`` that fail as tests/kb/test_criteria.py checks them (reasons too)."""
    from spinekb.explain.reasons import reason_lines

    if not which:
        return []
    results = list(_ProgramEngine(program).evaluate([suite.cases[i] for i in which]))
    failing = []
    for index, result in zip(which, results, strict=True):
        expect = suite.expects[index]
        decisions = {s.cpt: s.decision for s in result.studies}
        lines = [line for s in result.studies for line in reason_lines(s.reasons)]
        ok = (all(decisions.get(str(cpt)) == d for cpt, d in expect.get("decisions", {}).items())
              and all(c in result.atoms.holds for c in expect.get("met", []))
              and all(c not in result.atoms.holds for c in expect.get("unmet", []))
              and all(any(text in line for line in lines) for text in expect.get("reasons_contain", [])))
        if not ok:
            failing.append(index)
    return failing


# --- running ---------------------------------------------------------------------------------------

@dataclass
class Fate:
    """What became of one mutant."""

    mutant: Mutant
    killed_by: list[str]
    seconds: float
    error: str = ""


_STATE: dict[str, Any] = {}


def _with_words(suite: Suite, baseline: set[int]) -> list[int]:
    return [i for i, e in enumerate(suite.expects) if e.get("reasons_contain") and i not in baseline]


def _judge(mutant: Mutant) -> Fate:
    """One mutant, grounded on its own (``--per-mutant``)."""
    suite: Suite = _STATE["suite"]
    baseline: set[int] = _STATE["baseline"]
    start = time.monotonic()
    try:
        program = apply(mutant, _STATE["files"])
        killers = [i for i in failing_fast(program, suite) if i not in baseline]
        if not killers:
            killers = failing_full(program, suite, _with_words(suite, baseline))
    except Exception as problem:  # noqa: BLE001 - a mutant that does not even ground is reported
        return Fate(mutant, [], time.monotonic() - start, f"{type(problem).__name__}: {problem}")
    return Fate(mutant, [suite.names[i] for i in killers], time.monotonic() - start)


def _judge_shared(mutants: list[Mutant]) -> Iterator[Fate]:
    """Every mutant from one grounding: one solve each, its external switched on."""
    suite: Suite = _STATE["suite"]
    baseline: set[int] = _STATE["baseline"]
    files: list[Path] = _STATE["files"]
    began = time.monotonic()
    ctl = grounded(instrumented(mutants, files), suite)
    unmutated = set(failing_in(ctl, suite))
    if unmutated - baseline:
        raise SystemExit(f"the shared program with every mutant off fails tests the KB passes: {sorted(unmutated)}")
    print(f"one grounding of every mutant: {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
    for k, mutant in enumerate(mutants):
        start = time.monotonic()
        switch = clingo.Function(ACTIVE, [clingo.Number(k)])
        ctl.assign_external(switch, True)
        killers = [i for i in failing_in(ctl, suite) if i not in baseline]
        ctl.assign_external(switch, False)
        if not killers:
            killers = failing_full(apply(mutant, files), suite, _with_words(suite, baseline))
        yield Fate(mutant, [suite.names[i] for i in killers], time.monotonic() - start)


def run(only: list[str], jobs: int, listing: bool, per_mutant: bool = False,
        tests: list[str] | None = None) -> tuple[list[Fate], dict[str, Any]]:
    """Build every mutant, check the baseline, judge each mutant; the fates and the figures.

    ``only``: .lp files whose name contains one of these (all if empty); ``tests``: YAML test
    files whose name contains one of these (all if None).
    """
    files = kb_files()
    mutants = [m for path in files if not only or any(o in path.name for o in only) for m in mutants_of(path)]
    if listing:
        for mutant in mutants:
            print(mutant.describe())
        return [], {"mutants": len(mutants)}
    began = time.monotonic()
    suite = load_suite(tests)
    original = apply(None, files)
    fast = set(failing_fast(original, suite))
    full = set(failing_full(original, suite, list(range(len(suite.names)))))
    if not fast <= full or (full - fast) - {i for i, e in enumerate(suite.expects) if e.get("reasons_contain")}:
        raise SystemExit(f"the fast check disagrees with the test suite's on the unmutated KB: "
                         f"fast {sorted(fast)}, full {sorted(full)}")
    _STATE.update(suite=suite, baseline=full, files=files)
    print(f"{len(mutants)} mutants of {len(files)} files; {len(suite.names)} YAML tests "
          f"({len(full)} failing on the unmutated KB, left out); baseline {time.monotonic() - began:.1f} s",
          file=sys.stderr, flush=True)
    fates: list[Fate] = []
    if per_mutant:
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs) as pool:
            judged: Iterator[Fate] = pool.imap(_judge, mutants)
            fates = _progress(judged, len(mutants))
    else:
        fates = _progress(_judge_shared(mutants), len(mutants))
    killed = sum(1 for f in fates if f.killed_by)
    figures = {"mutants": len(fates), "killed": killed, "survived": len(fates) - killed,
               "kill_rate": killed / len(fates) if fates else 1.0, "yaml_tests": len(suite.names),
               "baseline_failures": [suite.names[i] for i in sorted(full)],
               "seconds": round(time.monotonic() - began, 1),
               "mode": "per-mutant" if per_mutant else "shared", "jobs": jobs if per_mutant else 1}
    return fates, figures


def _progress(fates: Iterator[Fate], total: int) -> list[Fate]:
    found = []
    for n, fate in enumerate(fates, start=1):
        found.append(fate)
        mark = "killed" if fate.killed_by else ("ERROR " + fate.error if fate.error else "SURVIVED")
        print(f"[{n}/{total}] {fate.mutant.describe()}: {mark} ({fate.seconds:.1f} s)", file=sys.stderr, flush=True)
    return found


def report(fates: list[Fate], figures: dict[str, Any]) -> str:
    """The kill rate and every survivor, one line each."""
    lines = [f"mutation testing of kb/*.lp thresholds: {figures['killed']}/{figures['mutants']} mutants killed "
             f"({100 * figures['kill_rate']:.1f}%), {figures['yaml_tests']} YAML tests, {figures['seconds']} s "
             f"({figures['mode']}, {figures['jobs']} process(es))"]
    for name in figures["baseline_failures"]:
        lines.append(f"  baseline failure (left out): {name}")
    survivors = [f for f in fates if not f.killed_by]
    if survivors:
        lines.append(f"survivors ({len(survivors)}):")
        lines.extend(f"  {f.mutant.describe()}{'  [' + f.error + ']' if f.error else ''}" for f in survivors)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--per-mutant", action="store_true",
                        help="ground each mutant on its own (slower; the shared grounding gives the same verdicts)")
    parser.add_argument("--jobs", type=int, default=max(1, min(multiprocessing.cpu_count(), 8)),
                        help="processes for --per-mutant")
    parser.add_argument("--files", action="append", default=[], help="only .lp files whose name contains this")
    parser.add_argument("--tests", action="append", default=None, help="only YAML test files whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants, decide nothing")
    parser.add_argument("--json", type=Path, help="write every mutant's fate and the figures to this file")
    args = parser.parse_args(argv)
    try:
        fates, figures = run(args.files, args.jobs, args.list, args.per_mutant, args.tests)
    except BrokenPipeError:
        return 1
    if args.list:
        return 0
    print(report(fates, figures))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "mutants": [
            {**asdict(f.mutant), "where": f.mutant.where(), "killed_by": f.killed_by, "error": f.error}
            for f in fates]}, indent=1))
    return 0 if figures["survived"] == 0 and not figures["baseline_failures"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""A KB's files as clingo's parser reads them: every statement with the file and line it stands at.

A KB is a folder of ``.lp`` files (:attr:`spinekb.kb.knowledge.KnowledgeBase.files`), and a program
to check is that list plus a companion file or two (``kb/checks/checks.lp``). One
``clingo.ast.parse_files`` pass reads such a list; nothing is grounded. Each :class:`Statement`
keeps clingo's AST node, its :class:`RuleLocation` (file and line, from clingo's own location)
and the ``#program`` block it stands in. Every analysis of the KB's syntax (its structure, the
checks' input facts, revision diffs, the stratified program) reads these statements::

    >>> from spinekb.kb.syntax import kb_statements
    >>> rule = next(s for s in kb_statements() if str(s.node).startswith("holds(C,sp1_0_recent_trial)"))
    >>> rule.location.where(), rule.block  # doctest: +ELLIPSIS
    ('kb/sp1_0_general.lp:...', 'base')

Each file starts in the ``base`` block (clingo opens it with ``#program base.``), as when clingo
loads the files one by one.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from clingo import ast

from spinekb.kb import kb_dir, kb_files


@dataclass(frozen=True)
class RuleLocation:
    """Where a rule of the KB starts: its ``.lp`` file (name only) and line in that file."""

    file: str
    line: int

    def where(self) -> str:
        """The location as a reader types it: ``kb/sp1_0_general.lp:93``."""
        return f"kb/{self.file}:{self.line}"


@dataclass(frozen=True)
class Statement:
    """One statement of a parsed program: clingo's AST node, the ``#program`` block it belongs to
    (a ``#program`` statement's is the block it opens), and where it starts."""

    node: ast.AST
    block: str
    #: how the program names its files: clingo's file name -> the name a location gives
    names: Mapping[str, str] = field(repr=False, compare=False)

    @cached_property
    def location(self) -> RuleLocation:
        """The file (named as :func:`parse_program` says) and line the statement starts at, from
        clingo's location (read when first asked for: it costs more than the parse)."""
        begin = self.node.location.begin
        return RuleLocation(self.names.get(begin.filename) or Path(begin.filename).name, begin.line)


def parse_program(files: Sequence[Path], root: Path | None = None) -> tuple[Statement, ...]:
    """Every statement of ``files``, read by one ``clingo.ast.parse_files`` pass: file by file in
    the order given, each file's in text order.

    A statement's file is named by its path relative to ``root`` when it lies below it
    (``checks/checks.lp``), else by its name. Raises RuntimeError with clingo's first message, on
    one line, when a file does not parse."""
    paths = [str(path) for path in files]
    by_file: list[tuple[str, list[ast.AST]]] = []  # (clingo's file name, its statements), as read
    messages: list[str] = []

    def collect(node: ast.AST) -> None:
        if node.ast_type == ast.ASTType.Program or not by_file:  # clingo opens each file with `#program base.`
            filename = node.location.begin.filename
            if not by_file or by_file[-1][0] != filename:
                by_file.append((filename, []))
        by_file[-1][1].append(node)

    try:
        ast.parse_files(paths, collect, logger=lambda _code, message: messages.append(message))
    except RuntimeError as error:
        raise RuntimeError(" ".join((messages[0] if messages else str(error)).split())) from error
    # clingo reads the files in an order of its own: put them back in the order given
    order = {path: index for index, path in enumerate(paths)}
    by_file.sort(key=lambda read: order.get(read[0], len(paths)))
    names = {str(path): _name(path, root) for path in files}
    return tuple(_statements((node for _, nodes in by_file for node in nodes), names))


@cache
def kb_statements() -> tuple[Statement, ...]:
    """The statements of the installed KB's files (:func:`spinekb.kb.kb_files`), parsed once per
    process."""
    return parse_program(kb_files(), kb_dir())


def base_block(statements: Iterable[Statement]) -> Iterator[Statement]:
    """The statements of the ``base`` block, the program that decides cases: rules, facts and
    directives, without the ``#program`` lines, the comments, or what other blocks hold (the
    checks of ``kb/checks/checks.lp``)."""
    skipped = (ast.ASTType.Program, ast.ASTType.Comment)
    return (s for s in statements if s.block == "base" and s.node.ast_type not in skipped)


def _name(path: Path, root: Path | None) -> str:
    """How a statement's location names its file: relative to ``root`` if below it, else by name."""
    if root is not None and path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return path.name


def _statements(nodes: Iterable[ast.AST], names: Mapping[str, str]) -> Iterator[Statement]:
    """The parsed nodes as statements, each in the block the ``#program`` lines before it open."""
    block = "base"
    for node in nodes:
        if node.ast_type == ast.ASTType.Program:
            block = node.name
        yield Statement(node, block, names)


def ast_children(node: ast.AST) -> Iterator[ast.AST]:
    """The AST nodes directly below ``node`` (every child key, sequences flattened)."""
    for key in node.child_keys:
        value = getattr(node, key)
        if value is None:
            continue
        if isinstance(value, ast.AST):
            yield value
        else:  # a sequence of AST nodes
            yield from value

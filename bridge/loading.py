"""Read cases from files, folders and JSON Lines; turn every failure into a one-line error.

    >>> from spinekb.bridge.loading import read_sources
    >>> for item in read_sources(["examples/cases"]):          # doctest: +SKIP
    ...     print(item.source, item.case or item.error.message)

Each input yields exactly one :class:`Loaded`: a validated case, or a :class:`CaseError` whose
message names the field path and the problem. Nothing is dropped silently.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml
from pydantic import ValidationError

from spinekb.bridge.models import Case
from spinekb.bridge.records import CaseError

CASE_SUFFIXES = (".json", ".yaml", ".yml", ".jsonl")


@dataclass(frozen=True)
class Loaded:
    """One input: where it came from, and either the case or the error."""

    source: str
    case: Case | None = None
    error: CaseError | None = None


def field_path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a readable path: ``treatments[1].end``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _plain_location(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's validator and union-tag steps: ``request.cpt[1].study.code`` -> ``request.cpt[1].code``."""
    kept: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part.startswith("function-"):
            continue
        if part in ("code", "study") and i >= 2 and isinstance(loc[i - 1], int) and loc[i - 2] == "cpt":
            continue
        kept.append(part)
    return tuple(kept)


def describe(error: ValidationError) -> str:
    """The first validation problem as ``field.path: problem`` (one line)."""
    first = error.errors(include_url=False)[0]
    loc = _plain_location(tuple(first["loc"]))
    kind, message = first["type"], first["msg"]
    message = message.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "is required"
    elif kind == "json_invalid":
        return f"invalid JSON: {first.get('ctx', {}).get('error', message)}"
    elif kind.startswith(("literal_error", "enum")):
        message = f"{message} (got {first.get('input')!r})"
    # model-level validators name their field first: "end: is before start (...)"
    head, sep, rest = message.partition(": ")
    if sep and head.isidentifier() and not kind.startswith(("literal", "enum")):
        loc, message = (*loc, head), rest
    path = field_path(loc)
    return f"{path}: {message}" if path else message


def _case_id(raw: Any) -> str | None:
    """The request id of a raw record, if it has one (for error records)."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    try:
        value = raw["request"]["id"]
        return value if isinstance(value, str) else None
    except (TypeError, KeyError):
        return None


def validate_json(source: str, text: str | bytes) -> Loaded:
    """Validate one JSON document (a file, or one JSON Lines line)."""
    try:
        return Loaded(source, case=Case.model_validate_json(text))
    except ValidationError as error:
        return Loaded(source, error=CaseError(source=source, error=describe(error), case_id=_case_id(text)))


def validate_data(source: str, data: Any) -> Loaded:
    """Validate one already-parsed document (from YAML)."""
    try:
        return Loaded(source, case=Case.model_validate(data))
    except ValidationError as error:
        return Loaded(source, error=CaseError(source=source, error=describe(error), case_id=_case_id(data)))


@dataclass(frozen=True)
class RawInput:
    """One input before validation: a JSON document, an already parsed (YAML) one, or an error.

    Reading is cheap and stays in the parent process; validating and deciding happen in the
    workers, so a RawInput is what crosses the process boundary.
    """

    source: str
    text: str | bytes | None = None
    data: Any = None
    error: CaseError | None = None


def validate_raw(raw: RawInput) -> Loaded:
    """Validate one raw input into a case or an error."""
    if raw.error is not None:
        return Loaded(raw.source, error=raw.error)
    if raw.text is not None:
        return validate_json(raw.source, raw.text)
    return validate_data(raw.source, raw.data)


def _failed(source: str, message: str) -> RawInput:
    return RawInput(source, error=CaseError(source=source, error=message))


def raw_lines(source: str, stream: IO[str]) -> Iterator[RawInput]:
    """Every non-blank line of a JSON Lines stream."""
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield RawInput(f"{source}:{number}", text=line)


def raw_file(path: Path) -> Iterator[RawInput]:
    """The input(s) of one file: .json/.yaml hold one case, .jsonl one per line."""
    source = str(path)
    try:
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as stream:
                yield from raw_lines(source, stream)
        elif path.suffix in (".yaml", ".yml"):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f"line {mark.line + 1}: " if mark else ""
                yield _failed(source, f"invalid YAML: {where}{getattr(error, 'problem', error)}")
                return
            yield RawInput(source, data=data)
        else:
            yield RawInput(source, text=path.read_bytes())
    except OSError as error:
        yield _failed(source, f"cannot read: {error.strerror or error}")
    except UnicodeDecodeError:
        yield _failed(source, "cannot read: not UTF-8 text")


def raw_sources(sources: Iterable[str], stdin: IO[str] | None = None) -> Iterator[RawInput]:
    """Inputs from files, folders (their case files, sorted) and ``-`` (JSON Lines on stdin)."""
    for source in sources:
        if source == "-":
            yield from raw_lines("<stdin>", stdin if stdin is not None else sys.stdin)
            continue
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in CASE_SUFFIXES and p.is_file())
            if not files:
                yield _failed(source, "folder holds no .json, .yaml or .jsonl case file")
            for file in files:
                yield from raw_file(file)
        elif path.exists():
            yield from raw_file(path)
        else:
            yield _failed(source, "no such file or folder")


def read_file(path: Path) -> Iterator[Loaded]:
    """The validated case(s) of one file."""
    return (validate_raw(raw) for raw in raw_file(path))


def read_sources(sources: Iterable[str], stdin: IO[str] | None = None) -> Iterator[Loaded]:
    """Validated cases from files, folders and ``-`` (JSON Lines on stdin), one item per input."""
    return (validate_raw(raw) for raw in raw_sources(sources, stdin))


def load_case(path: str | Path) -> Case:
    """Load exactly one case from a file; raises :class:`CaseInputError` with the one-line message."""
    items = list(read_file(Path(path)))
    if len(items) != 1:
        raise CaseInputError(CaseError(source=str(path), error=f"expected one case, found {len(items)}"))
    item = items[0]
    if item.error:
        raise CaseInputError(item.error)
    assert item.case is not None
    return item.case


class CaseInputError(ValueError):
    """A case file that cannot be used; ``str()`` is the one-line message."""

    def __init__(self, error: CaseError) -> None:
        super().__init__(error.line())
        self.error = error

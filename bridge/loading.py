"""Read cases from files, folders and JSON Lines; turn every failure into a one-line error.

    >>> from spinekb.bridge.loading import read_sources
    >>> for item in read_sources(["examples/cases"]):          # doctest: +SKIP
    ...     print(item.source, item.case or item.error.message)

Each input yields exactly one :class:`Loaded`: a validated case, or a :class:`CaseError` whose
message names the field path and the problem. Nothing is dropped silently, and no input can
take another down with it:

- JSON Lines are read by one function, :func:`raw_lines`, for ``.jsonl`` files and standard
  input alike: bytes split at ``\\n`` only (a bare ``\\r`` inside a line is JSON whitespace), each
  line decoded and judged on its own, so one line of bad UTF-8 costs that line only.
- Limits hold before anything is parsed: :data:`MAX_CASE_BYTES` per case (a file, or one line;
  a longer line is skipped without being held in memory), :data:`MAX_DEPTH` levels of nesting,
  :data:`MAX_YAML_NODES` YAML nodes once aliases are expanded. List lengths are the models'
  (``spinekb.bridge.models.MAX_RECORDS``).
- Only regular files are read: a FIFO, a device or a socket (a symlink to ``/dev/zero`` too) is
  refused with one line, before it is opened for reading.
- A message quotes at most ``QUOTE_CHARS`` (80) characters of an offending value.
"""
from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, BinaryIO

import yaml
from pydantic import ValidationError

from spinekb.bridge.fhir import is_bundle, loaded_from_bundle, looks_like_bundle, parse_bundle
from spinekb.bridge.models import QUOTE_CHARS, Case, shown
from spinekb.bridge.records import CaseError

CASE_SUFFIXES = (".json", ".yaml", ".yml", ".jsonl")

#: Most bytes of one case: a .json or .yaml file, or one line of JSON Lines.
MAX_CASE_BYTES = 1_000_000
#: Most levels of nested objects and lists in one case (the case format needs 6, a FHIR bundle
#: about 10; the limit keeps parsers' recursion, and a YAML alias loop, far from trouble).
MAX_DEPTH = 32
#: Most nodes of one YAML case once its aliases are expanded (a 536-byte "billion laughs"
#: document expands to 10^9 and is refused before it is built).
MAX_YAML_NODES = 500_000
#: The longest error message a record carries (a value inside it is quoted shorter still).
MAX_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Loaded:
    """One input: where it came from, and either the case or the error."""

    source: str
    case: Case | None = None
    error: CaseError | None = None
    #: FHIR input: what did not map, and the readings that filled unstated values (bridge/fhir.py)
    unmapped: tuple[str, ...] = ()
    assumed: tuple[str, ...] = ()


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
        kept.append(_key(part))
    return tuple(kept)


def _key(part: Any) -> Any:
    """A step of a field path: an index, a field name, or an odd key quoted short (``'id '``)."""
    if isinstance(part, int) or (str(part).isidentifier() and len(str(part)) <= QUOTE_CHARS):
        return part
    return shown(str(part))


def one_line(message: str) -> str:
    """A message on one line, at most :data:`MAX_MESSAGE_CHARS` characters."""
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 1] + "…"


def describe(error: ValidationError) -> str:
    """The first validation problem as ``field.path: problem`` (one line)."""
    first = error.errors(include_url=False, include_input=False)[0]
    loc = _plain_location(tuple(first["loc"]))
    kind, message = first["type"], first["msg"]
    message = message.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "is required"
    elif kind == "json_invalid":
        return one_line(f"invalid JSON: {first.get('ctx', {}).get('error', message)}")
    elif kind.startswith(("literal_error", "enum")):
        message = f"{message} (got {_offending(error)})"
    elif kind == "too_long" and "actual_length" in first.get("ctx", {}):
        ctx = first["ctx"]
        message = f"has {ctx['actual_length']} items; at most {ctx['max_length']} are allowed"
    # model-level validators name their field first: "end: is before start (...)"
    head, sep, rest = message.partition(": ")
    if sep and head.isidentifier() and not kind.startswith(("literal", "enum")):
        loc, message = (*loc, head), rest
    path = field_path(loc)
    return one_line(f"{path}: {message}" if path else message)


def _offending(error: ValidationError) -> str:
    """The first error's input value, quoted short (pydantic would repeat all of it)."""
    return shown(error.errors(include_url=False)[0].get("input"))


class LimitError(ValueError):
    """An input beyond a documented limit (size, nesting, YAML nodes); ``str()`` is the message."""


def _depth_of_json(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in a JSON text, read without parsing it (strings skipped)."""
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(1 if c in "[{" else -1 for c in skeleton), default=0)


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _check_json(text: str | bytes) -> str:
    """The text of one JSON case, within the limits of size, encoding and nesting."""
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > MAX_CASE_BYTES:
        raise LimitError(f"case is {size:,} bytes; the limit is {MAX_CASE_BYTES:,}")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as problem:
            raise LimitError(f"not UTF-8 text (byte {problem.start + 1} is {text[problem.start]:#04x})") from None
    text = text.removeprefix("\ufeff")
    if _depth_of_json(text) > MAX_DEPTH:
        raise LimitError(f"nested more than {MAX_DEPTH} levels deep")
    return text


def _case_id(raw: Any) -> str | None:
    """The request id of a raw record, if it has a usable one (for error records)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    try:
        value = raw["request"]["id"]
    except (TypeError, KeyError, IndexError):
        return None
    return value if isinstance(value, str) and 0 < len(value) <= 200 and value.isprintable() else None


def _internal(problem: BaseException) -> str:
    return one_line(f"internal error (please report): {type(problem).__name__}: {shown(str(problem))}")


def validate_json(source: str, text: str | bytes) -> Loaded:
    """Validate one JSON document (a file, or one JSON Lines line), limits first."""
    try:
        checked = _check_json(text)
    except LimitError as problem:
        return Loaded(source, error=CaseError(source=source, error=str(problem)))
    try:
        if looks_like_bundle(checked) and (bundle := parse_bundle(checked)) is not None:
            return loaded_from_bundle(source, bundle)  # a FHIR R4 Bundle (bridge/fhir.py)
        return Loaded(source, case=Case.model_validate_json(checked))
    except ValidationError as error:
        return Loaded(source, error=CaseError(source=source, error=describe(error), case_id=_case_id(checked)))
    except Exception as problem:  # noqa: BLE001 - one input's surprise must not end the batch
        return Loaded(source, error=CaseError(source=source, error=_internal(problem)))


def validate_data(source: str, data: Any) -> Loaded:
    """Validate one already-parsed document (from YAML, or from a Python caller)."""
    try:
        if is_bundle(data):
            return loaded_from_bundle(source, data)  # a FHIR R4 Bundle (bridge/fhir.py)
        return Loaded(source, case=Case.model_validate(data))
    except ValidationError as error:
        return Loaded(source, error=CaseError(source=source, error=describe(error), case_id=_case_id(data)))
    except Exception as problem:  # noqa: BLE001 - one input's surprise must not end the batch
        return Loaded(source, error=CaseError(source=source, error=_internal(problem)))


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
    return RawInput(source, error=CaseError(source=source, error=one_line(message)))


# --- JSON Lines: one reader for files and standard input -----------------------------------

def _line_source(stream: IO[Any]) -> io.BufferedIOBase:
    """The buffered byte stream under ``stream``: itself, a text stream's buffer, or for a text
    stream without one (``io.StringIO``) its text encoded as UTF-8."""
    if isinstance(stream, io.BufferedIOBase):
        return stream
    buffer = getattr(stream, "buffer", None)
    if isinstance(buffer, io.BufferedIOBase):
        return buffer
    return io.BufferedReader(stream if isinstance(stream, io.RawIOBase) else _EncodedText(stream))


class _EncodedText(io.RawIOBase):
    """A text stream without a byte buffer (``io.StringIO``) read as UTF-8 bytes."""

    def __init__(self, text: IO[str]) -> None:
        self.text, self.pending = text, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = self.text.read(8192)
            if not chunk:
                return 0
            self.pending = chunk.encode("utf-8", "surrogatepass")
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size


def raw_lines(source: str, stream: IO[Any]) -> Iterator[RawInput]:
    """Every non-blank line of a JSON Lines stream, as ``source:line``; THE line reader.

    Lines end at ``\\n`` only. A line longer than :data:`MAX_CASE_BYTES` is read past in pieces
    (never held whole) and becomes one error; bytes that are not UTF-8 spoil their line only.
    """
    binary = _line_source(stream)
    number = 0
    while True:
        line = binary.readline(MAX_CASE_BYTES + 1)
        if not line:
            return
        number += 1
        where = f"{source}:{number}"
        if len(line) > MAX_CASE_BYTES and not line.endswith(b"\n"):
            size = len(line)
            while line and not line.endswith(b"\n"):
                line = binary.readline(1 << 20)
                size += len(line)
            size -= line.endswith(b"\n")
            yield _failed(where, f"case is {size:,} bytes; the limit is {MAX_CASE_BYTES:,}")
            continue
        if line.strip():
            yield RawInput(where, text=line[:-1] if line.endswith(b"\n") else line)


# --- files and folders ------------------------------------------------------------------------

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"not a regular file ({kind}); only regular files are read (use - for standard input)"


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading bytes if it is a regular file (symlinks followed); never blocks.

    Raises :class:`LimitError` for a FIFO, device, socket or folder, ``OSError`` if unreadable.
    """
    refused = _not_regular(os.stat(path).st_mode)
    if refused:
        raise LimitError(refused)
    # O_NONBLOCK: a FIFO swapped in after the check cannot block the open.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        refused = _not_regular(os.fstat(fd).st_mode)
        if refused:
            raise LimitError(refused)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_document(stream: BinaryIO) -> bytes:
    """A whole single-case file, refused (unread) beyond :data:`MAX_CASE_BYTES`."""
    size = os.fstat(stream.fileno()).st_size
    if size > MAX_CASE_BYTES:
        raise LimitError(f"case is {size:,} bytes; the limit is {MAX_CASE_BYTES:,}")
    data = stream.read(MAX_CASE_BYTES + 1)  # the size on disk can change, or lie (/proc)
    if len(data) > MAX_CASE_BYTES:
        raise LimitError(f"case is more than {MAX_CASE_BYTES:,} bytes")
    return data


def raw_file(path: Path) -> Iterator[RawInput]:
    """The input(s) of one file: .json/.yaml hold one case, .jsonl one per line."""
    source = _display(path)
    try:
        stream = open_regular(path)
    except LimitError as problem:
        yield _failed(source, str(problem))
        return
    except OSError as error:
        yield _failed(source, f"cannot read: {error.strerror or error}")
        return
    with stream:
        try:
            if path.suffix == ".jsonl":
                yield from raw_lines(source, stream)
            elif path.suffix in (".yaml", ".yml"):
                yield raw_yaml(source, _read_document(stream))
            else:
                yield RawInput(source, text=_read_document(stream))
        except LimitError as problem:
            yield _failed(source, str(problem))
        except OSError as error:
            yield _failed(source, f"cannot read: {error.strerror or error}")


def _display(path: Path) -> str:
    """A path as messages show it: control characters in a file name escaped."""
    text = str(path)
    return text if text.isprintable() else repr(text)[1:-1]


def raw_sources(sources: Iterable[str], stdin: IO[Any] | None = None) -> Iterator[RawInput]:
    """Inputs from files, folders (their case files, sorted) and ``-`` (JSON Lines on stdin)."""
    for source in sources:
        if source == "-":
            yield from raw_lines("<stdin>", stdin if stdin is not None else sys.stdin)
            continue
        path = Path(source)
        if path.is_dir():
            yield from _raw_folder(path)
        elif path.exists():
            yield from raw_file(path)
        elif path.is_symlink():
            yield _failed(_display(path), "is a symlink to nothing")
        else:
            yield _failed(_display(path), "no such file or folder")


def _raw_folder(path: Path) -> Iterator[RawInput]:
    """A folder's case files in name order; an entry with a case suffix that is not a regular
    file (a FIFO, a device, a folder) is one error, never skipped silently."""
    try:
        entries = sorted(p for p in path.iterdir() if p.suffix in CASE_SUFFIXES)
    except OSError as error:
        yield _failed(_display(path), f"cannot read folder: {error.strerror or error}")
        return
    if not entries:
        yield _failed(_display(path), "folder holds no .json, .yaml or .jsonl case file")
    for entry in entries:
        yield from raw_file(entry)


# --- YAML: bounded before it is built ------------------------------------------------------

class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses deep nesting while composing (the composer recurses)."""

    depth = 0

    def compose_sequence_node(self, anchor: Any) -> Any:
        return self._nested(super().compose_sequence_node, anchor)

    def compose_mapping_node(self, anchor: Any) -> Any:
        return self._nested(super().compose_mapping_node, anchor)

    def _nested(self, compose: Any, anchor: Any) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LimitError(f"nested more than {MAX_DEPTH} levels deep")
        try:
            return compose(anchor)
        finally:
            self.depth -= 1


def _expanded(node: yaml.Node, depth: int, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, height) of ``node`` with aliases expanded; bounded by :data:`MAX_DEPTH` (so a
    recursive alias is refused, not followed forever) and counted once per shared node."""
    known = memo.get(id(node))
    if known is None:
        if isinstance(node, yaml.ScalarNode):
            known = (1, 0)
        else:
            if depth >= MAX_DEPTH:
                raise LimitError(f"nested more than {MAX_DEPTH} levels deep (through YAML aliases)")
            children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
            size, height = 1, 0
            for child in children:
                child_size, child_height = _expanded(child, depth + 1, memo)
                size, height = size + child_size, max(height, child_height + 1)
                if size > MAX_YAML_NODES:
                    raise LimitError(f"YAML case expands to more than {MAX_YAML_NODES:,} nodes (aliases)")
            known = (size, height)
        memo[id(node)] = known
    if depth + known[1] > MAX_DEPTH:
        raise LimitError(f"nested more than {MAX_DEPTH} levels deep (through YAML aliases)")
    return known


def load_yaml(text: str) -> Any:
    """One YAML document, safely: bounded nesting and alias expansion, checked before building."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded(node, 0, {})
        return loader.construct_document(node)
    finally:
        loader.dispose()


def raw_yaml(source: str, data: bytes) -> RawInput:
    """One YAML case file as parsed data, or its error."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as problem:
        return _failed(source, f"not UTF-8 text (byte {problem.start + 1} is {data[problem.start]:#04x})")
    try:
        return RawInput(source, data=load_yaml(text))
    except LimitError as problem:
        return _failed(source, str(problem))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        return _failed(source, f"invalid YAML: {where}{getattr(error, 'problem', None) or error}")
    except (ValueError, TypeError, OverflowError, RecursionError) as problem:  # constructor surprises
        return _failed(source, f"invalid YAML: {shown(str(problem))}")


def read_file(path: Path) -> Iterator[Loaded]:
    """The validated case(s) of one file."""
    return (validate_raw(raw) for raw in raw_file(path))


def read_sources(sources: Iterable[str], stdin: IO[Any] | None = None) -> Iterator[Loaded]:
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

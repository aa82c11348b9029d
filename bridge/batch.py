"""Evaluate a stream of inputs: every input gets a result or an error record, in input order.

    >>> from spinekb.bridge.batch import evaluate_sources
    >>> for outcome in evaluate_sources(["examples/cases"]):   # doctest: +SKIP
    ...     print(outcome.to_json())

Inputs are read lazily and decided ``chunk_size`` at a time, so memory stays flat however long
the batch. With ``jobs > 1`` chunks are decided by worker processes (each loads the KB once and
is recycled after a number of chunks, so clingo's symbol table never grows without bound).
"""
from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Union

from spinekb.bridge.engine import DEFAULT_CHUNK, Engine, chunked
from spinekb.bridge.loading import Loaded, read_sources
from spinekb.bridge.records import CaseError, CaseResult

Outcome = Union[CaseResult, CaseError]
CHUNKS_PER_WORKER = 200


def decide_loaded(engine: Engine, items: list[Loaded]) -> list[Outcome]:
    """Decide the valid cases of ``items`` in one grounding; errors pass through, order kept."""
    valid = [item.case for item in items if item.case is not None]
    results = iter(engine.evaluate_chunk(valid)) if valid else iter(())
    outcomes: list[Outcome] = []
    for item in items:
        if item.error is not None:
            outcomes.append(item.error)
        else:
            result = next(results)
            result.source = item.source
            outcomes.append(result)
    return outcomes


def evaluate_sources(sources: Iterable[str], stdin: IO[str] | None = None,
                     chunk_size: int = DEFAULT_CHUNK, engine: Engine | None = None) -> Iterator[Outcome]:
    """Decide every input of ``sources`` in one process."""
    engine = engine or Engine(chunk_size)
    for items in chunked(read_sources(sources, stdin), chunk_size):
        yield from decide_loaded(engine, items)


# --- parallel: workers take raw JSON Lines, return serialised records --------------------

_WORKER_ENGINE: Engine | None = None


def _worker_init() -> None:
    global _WORKER_ENGINE  # one engine per worker process, built once
    _WORKER_ENGINE = Engine()


def _worker_chunk(lines: list[tuple[str, str]]) -> list[tuple[bool, str]]:
    from spinekb.bridge.loading import validate_json

    assert _WORKER_ENGINE is not None
    items = [validate_json(source, text) for source, text in lines]
    return [(isinstance(o, CaseError), json.dumps(o.to_json())) for o in decide_loaded(_WORKER_ENGINE, items)]


def evaluate_lines_parallel(stream: IO[str], source: str, jobs: int,
                            chunk_size: int = DEFAULT_CHUNK) -> Iterator[tuple[bool, str]]:
    """Decide a JSON Lines stream with ``jobs`` worker processes; yields (is_error, json) in order."""
    def numbered() -> Iterator[tuple[str, str]]:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield f"{source}:{number}", line

    # Pool.imap would drain the whole input into its task queue; keeping at most two chunks
    # per worker in flight keeps memory flat however long the stream.
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_worker_init, maxtasksperchild=CHUNKS_PER_WORKER) as pool:
        pending: deque = deque()
        for chunk in chunked(numbered(), chunk_size):
            pending.append(pool.apply_async(_worker_chunk, (chunk,)))
            if len(pending) >= 2 * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()

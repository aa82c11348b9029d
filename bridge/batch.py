"""Evaluate a stream of inputs: every input gets a result or an error record, in input order.

    >>> from spinekb.bridge.batch import evaluate_sources, render_batch, as_json_line
    >>> for outcome in evaluate_sources(["examples/cases"]):       # in-process, typed results
    ...     print(outcome.to_json())                                # doctest: +SKIP
    >>> for rendered in render_batch(["-"], as_json_line, jobs=2):  # worker processes, text out
    ...     print(rendered.text)                                    # doctest: +SKIP

The renderer is any picklable function of an outcome (``spinekb.explain.output`` has the
people's text); the bridge itself only serialises records to JSON.

Inputs are read lazily and decided ``chunk_size`` at a time. clingo keeps every symbol it has
ever seen for the life of a process (``evaluation(C, E, Day, ...)`` terms included), so a long
batch is decided by worker processes that are replaced every :data:`CHUNKS_PER_WORKER` chunks:
memory stays flat however long the batch. At most two chunks per worker are in flight, so the
input is never read ahead of what the workers can take. A batch of one chunk is decided
in-process (no worker start-up for a single case).
"""
from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain
from typing import IO, Any, Union

from spinekb.bridge.engine import DEFAULT_CHUNK, Engine, chunked
from spinekb.bridge.loading import Loaded, RawInput, raw_sources, validate_raw
from spinekb.bridge.records import CaseError, Decided

Outcome = Union[Decided, CaseError]
#: Chunks a worker decides before it is replaced by a fresh process (4,000 cases by default).
#: Replacements are cheap: workers fork from a server that has the KB loaded (bridge/warm.py).
CHUNKS_PER_WORKER = 4


@dataclass(frozen=True)
class Rendered:
    """One input's outcome as the CLI prints it: the text, and the error line if it was rejected."""

    text: str
    error: str | None = None


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
    """Decide every input of ``sources`` in this process (typed results, for Python callers)."""
    engine = engine or Engine(chunk_size)
    for raws in chunked(raw_sources(sources, stdin), chunk_size):
        yield from decide_loaded(engine, [validate_raw(raw) for raw in raws])


Renderer = Callable[[Outcome], Rendered]


def error_line(outcome: Outcome) -> str | None:
    """The one-line error of a rejected input, ``None`` for a decided case."""
    return outcome.line() if isinstance(outcome, CaseError) else None


def as_json_line(outcome: Outcome) -> Rendered:
    """An outcome as one line of JSON (its record, or its error record)."""
    return Rendered(json.dumps(outcome.to_json(), ensure_ascii=False), error_line(outcome))


def as_json(outcome: Outcome) -> Rendered:
    """An outcome as indented JSON."""
    return Rendered(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False), error_line(outcome))


def _decide_and_render(engine: Engine, raws: list[RawInput], render: Renderer) -> list[Rendered]:
    return [render(o) for o in decide_loaded(engine, [validate_raw(raw) for raw in raws])]


_WORKER_ENGINE: Engine | None = None


def _worker_init() -> None:
    global _WORKER_ENGINE  # one engine per worker process, built once (the KB text is inherited)
    _WORKER_ENGINE = Engine()


def _worker_chunk(args: tuple[list[RawInput], Renderer]) -> list[Rendered]:
    raws, render = args
    assert _WORKER_ENGINE is not None
    return _decide_and_render(_WORKER_ENGINE, raws, render)


def render_batch(sources: Iterable[str], render: Renderer = as_json_line, jobs: int = 1,
                 stdin: IO[str] | None = None, chunk_size: int = DEFAULT_CHUNK) -> Iterator[Rendered]:
    """Decide and render every input of ``sources`` in order, with ``jobs`` recycled workers."""
    for chunk in render_chunks(sources, render, jobs, stdin, chunk_size):
        yield from chunk


def render_chunks(sources: Iterable[str], render: Renderer = as_json_line, jobs: int = 1,
                  stdin: IO[str] | None = None, chunk_size: int = DEFAULT_CHUNK) -> Iterator[list[Rendered]]:
    """:func:`render_batch` a chunk at a time (a writer can write each chunk in one call)."""
    chunks = chunked(raw_sources(sources, stdin), chunk_size)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None:  # one chunk: no worker start-up
        yield _decide_and_render(Engine(chunk_size), first, render)
        return
    # forkserver: replacement workers are forked from a clean single-threaded server process
    # (forking this process, whose pool threads are running, can deadlock a new worker).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["spinekb.bridge.warm", "spinekb.bridge.engine", "spinekb.bridge.loading"])
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init,
                             max_tasks_per_child=CHUNKS_PER_WORKER) as pool:
        pending: deque[Any] = deque()
        for chunk in chain([first, second], chunks):
            pending.append(pool.submit(_worker_chunk, (chunk, render)))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

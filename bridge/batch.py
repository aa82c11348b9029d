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

No input can take another down with it. A case that makes deciding fail (a bug, not a bad
input: bad inputs are errors before this point) is decided again alone, and gets an error
record if it fails alone too; the rest of its chunk is decided as usual. A renderer that fails
on one outcome renders that input's error record instead. A worker process that dies (killed,
out of memory) breaks its pool: the pool is restarted, chunks that were merely in flight are
sent again, and the chunk it was deciding is split in halves until the input that kills a worker
stands alone and gets an error record. Every input gets exactly one record, in input order.
"""
from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import chain
from typing import IO, Any, Union

from spinekb.bridge.engine import DEFAULT_CHUNK, Engine, chunked
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.bridge.loading import Loaded, RawInput, one_line, raw_sources, validate_raw
from spinekb.bridge.models import shown
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


def internal_error(source: str, problem: BaseException | str, case_id: str | None = None) -> CaseError:
    """The error record of an input that broke something it should not have (a bug to report)."""
    what = problem if isinstance(problem, str) else f"{type(problem).__name__}: {shown(str(problem))}"
    return CaseError(source=source, case_id=case_id, error=one_line(f"internal error (please report): {what}"))


def decide_loaded(engine: Engine, items: list[Loaded]) -> list[Outcome]:
    """Decide the valid cases of ``items`` in one grounding; errors pass through, order kept.

    If the chunk cannot be decided, each case is decided alone: one case that fails costs its
    own record (an error), never its neighbours'.
    """
    valid = [item.case for item in items if item.case is not None]
    decided: list[Decided | BaseException]
    try:
        decided = list(engine.evaluate_chunk(valid)) if valid else []
    except Exception:  # noqa: BLE001 - find the case at fault; the others are decided alone
        decided = [_decide_alone(engine, case) for case in valid]
    results = iter(decided)
    outcomes: list[Outcome] = []
    for item in items:
        if item.error is not None or item.case is None:
            outcomes.append(item.error or internal_error(item.source, "no case and no error"))
            continue
        result = next(results)
        if isinstance(result, BaseException):
            outcomes.append(internal_error(item.source, result, item.case.request.id))
            continue
        result.source = item.source
        if item.unmapped or item.assumed:  # FHIR input: say what did not reach the decision
            result.record = result.record.model_copy(update={"unmapped": item.unmapped, "assumed": item.assumed})
        outcomes.append(result)
    return outcomes


def _decide_alone(engine: Engine, case: Any) -> Decided | BaseException:
    try:
        return engine.evaluate_one(case)
    except Exception as problem:  # noqa: BLE001 - becomes this case's error record
        return problem


def evaluate_sources(sources: Iterable[str], stdin: IO[str] | None = None,
                     chunk_size: int = DEFAULT_CHUNK, engine: Engine | None = None,
                     knowledge: KnowledgeBase | None = None) -> Iterator[Outcome]:
    """Decide every input of ``sources`` in this process (typed results, for Python callers),
    under ``knowledge`` (default: the installed KB) unless an ``engine`` is given."""
    engine = engine or Engine(chunk_size, knowledge=knowledge)
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


def render_safely(render: Renderer, outcome: Outcome) -> Rendered:
    """``render(outcome)``; if the renderer fails on it, the input's error record instead."""
    try:
        return render(outcome)
    except Exception as problem:  # noqa: BLE001 - one record's rendering must not end the batch
        source = outcome.source if isinstance(outcome, (CaseError, Decided)) else "?"
        error = internal_error(source, problem, getattr(outcome, "case_id", None))
        try:
            return render(error)
        except Exception:  # noqa: BLE001
            return as_json_line(error)


def _decide_and_render(engine: Engine, raws: list[RawInput], render: Renderer) -> list[Rendered]:
    return [render_safely(render, o) for o in decide_loaded(engine, [validate_raw(raw) for raw in raws])]


_WORKER_ENGINE: Engine | None = None


def _worker_init(knowledge: KnowledgeBase | None = None, kinds: bool = False) -> None:
    global _WORKER_ENGINE  # one engine per worker process, built once (the KB text is inherited)
    _WORKER_ENGINE = Engine(knowledge=knowledge, kinds=kinds)


def _worker_chunk(args: tuple[list[RawInput], Renderer]) -> list[Rendered]:
    raws, render = args
    assert _WORKER_ENGINE is not None
    return _decide_and_render(_WORKER_ENGINE, raws, render)


def render_batch(sources: Iterable[str], render: Renderer = as_json_line, jobs: int = 1,
                 stdin: IO[str] | None = None, chunk_size: int = DEFAULT_CHUNK,
                 knowledge: KnowledgeBase | None = None, kinds: bool = False) -> Iterator[Rendered]:
    """Decide and render every input of ``sources`` in order, with ``jobs`` recycled workers,
    under ``knowledge`` (default: the installed KB); ``kinds``: every denial gets its denial_kind."""
    for chunk in render_chunks(sources, render, jobs, stdin, chunk_size, knowledge, kinds):
        yield from chunk


def render_chunks(sources: Iterable[str], render: Renderer = as_json_line, jobs: int = 1,
                  stdin: IO[str] | None = None, chunk_size: int = DEFAULT_CHUNK,
                  knowledge: KnowledgeBase | None = None, kinds: bool = False) -> Iterator[list[Rendered]]:
    """:func:`render_batch` a chunk at a time (a writer can write each chunk in one call)."""
    chunks = chunked(raw_sources(sources, stdin), chunk_size)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None:  # one chunk: no worker start-up
        yield _decide_and_render(Engine(chunk_size, knowledge=knowledge, kinds=kinds), first, render)
        return
    workers = _Workers(jobs, render, knowledge, kinds)
    try:
        pending: deque[tuple[list[RawInput], _Ticket]] = deque()
        for chunk in chain([first, second], chunks):
            pending.append((chunk, workers.submit(chunk)))
            if len(pending) >= 2 * jobs:
                yield workers.collect(*pending.popleft())
        while pending:
            yield workers.collect(*pending.popleft())
    finally:
        workers.close()


_Ticket = tuple[int, "Future[list[Rendered]]"]


class _Workers:
    """Recycled worker processes that outlive a worker's death (see the module docstring)."""

    def __init__(self, jobs: int, render: Renderer, knowledge: KnowledgeBase | None = None,
                 kinds: bool = False) -> None:
        self.jobs, self.render, self.kinds = jobs, render, kinds
        # None for the installed KB: the workers' fork server has it loaded already
        self.knowledge = None if knowledge is None or knowledge.is_installed else knowledge
        self.generation = 0
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # forkserver: replacement workers are forked from a clean single-threaded server process
        # (forking this process, whose pool threads are running, can deadlock a new worker).
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["spinekb.bridge.warm", "spinekb.bridge.engine", "spinekb.bridge.loading"])
        return ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_worker_init,
                                   initargs=(self.knowledge, self.kinds), max_tasks_per_child=CHUNKS_PER_WORKER)

    def submit(self, raws: list[RawInput]) -> _Ticket:
        """Send a chunk to the workers; the ticket remembers which pool took it."""
        return self.generation, self.pool.submit(_worker_chunk, (raws, self.render))

    def collect(self, raws: list[RawInput], ticket: _Ticket) -> list[Rendered]:
        """The rendered outcomes of a chunk, whatever happened to the worker deciding it."""
        while True:
            generation, future = ticket
            try:
                return future.result()
            except BrokenProcessPool:
                if generation != self.generation:  # a pool another chunk broke: send it again
                    ticket = self.submit(raws)
                    continue
            self._restart()
            if len(raws) == 1:
                error = internal_error(raws[0].source, "the worker process deciding this input died")
                return [render_safely(self.render, error)]
            half = len(raws) // 2
            return (self.collect(raws[:half], self.submit(raws[:half]))
                    + self.collect(raws[half:], self.submit(raws[half:])))

    def _restart(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.generation += 1
        self.pool = self._start()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

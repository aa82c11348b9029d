"""Decide a batch on an existing Dask distributed cluster, records in input order.

    >>> from spinekb.bridge.distributed import render_on_cluster
    >>> for chunk in render_on_cluster("tcp://scheduler:8786", ["-"]):   # doctest: +SKIP
    ...     sys.stdout.write("".join(r.text + "\\n" for r in chunk))

``spinekb evaluate --cluster tcp://HOST:PORT`` uses it. The inputs are read here, in input order,
and cut into partitions of ``chunk_size`` JSON Lines (the same chunks a local run grounds); each
partition is one Dask task, decided and rendered by a worker, and the rendered records come back
in partition order, so the output is byte for byte that of a local run. Each worker process keeps
one loaded engine (the KB parsed and stratified once, then reused for every partition it
decides). At most two partitions per worker thread are in flight, so the input is never read
ahead of what the cluster can take.

The workers need this package installed, at the same KB version: :func:`check_workers` asks
each one first, and a mismatch is an error before any input is read. clingo keeps every symbol a
process has seen, so run workers that are replaced now and then (``dask worker --lifetime 1h
--lifetime-restart``), as a local batch replaces its worker processes.
"""
from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

from spinekb.bridge.batch import Rendered, Renderer, as_json_line, decide_loaded, internal_error, render_safely
from spinekb.bridge.engine import DEFAULT_CHUNK, Engine, chunked
from spinekb.bridge.loading import RawInput, raw_sources, validate_raw
from spinekb.kb.knowledge import KnowledgeBase

#: Partitions in flight per worker thread of the cluster.
IN_FLIGHT_PER_THREAD = 2

_ENGINES: dict[tuple[str, bool], Engine] = {}
_ENGINES_LOCK = threading.Lock()


class ClusterError(RuntimeError):
    """The cluster cannot decide this batch (unreachable, no workers, another KB); one line."""


def _worker_engine(knowledge: KnowledgeBase | None, kinds: bool) -> Engine:
    """This worker process's engine for ``knowledge`` (built on first use, then kept)."""
    key = (knowledge.version if knowledge is not None else "installed", kinds)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = Engine(knowledge=knowledge, kinds=kinds)
        return engine


def decide_partition(raws: list[RawInput], render: Renderer, knowledge: KnowledgeBase | None = None,
                     kinds: bool = False) -> list[Rendered]:
    """The task a worker runs: validate, decide and render one partition, in order."""
    engine = _worker_engine(knowledge, kinds)
    return [render_safely(render, outcome) for outcome in decide_loaded(engine, [validate_raw(raw) for raw in raws])]


def worker_kb_version(knowledge: KnowledgeBase | None = None) -> str:
    """The version of the KB a worker would decide under (run on every worker by :func:`check_workers`)."""
    return (knowledge or KnowledgeBase.installed()).version


def check_workers(client: Any, knowledge: KnowledgeBase | None = None) -> int:
    """The number of worker threads of the cluster; raises :class:`ClusterError` when it has no
    worker or when a worker would decide under another KB version than this process."""
    expected = worker_kb_version(knowledge)
    try:
        versions = client.run(worker_kb_version, knowledge)
    except Exception as problem:  # noqa: BLE001 - a worker without spinekb, an unreadable KB folder
        raise ClusterError(f"a worker cannot load the KB: {type(problem).__name__}: {problem}") from problem
    if not versions:
        raise ClusterError("the cluster has no worker")
    other = sorted({f"{address}: {version}" for address, version in versions.items() if version != expected})
    if other:
        raise ClusterError(f"workers decide under another KB than {expected}: {'; '.join(other)}")
    threads = client.nthreads()
    return max(1, sum(threads.values()))


def render_on_cluster(address: str | Any, sources: Iterable[str], render: Renderer = as_json_line,
                      stdin: IO[str] | None = None, chunk_size: int = DEFAULT_CHUNK,
                      knowledge: KnowledgeBase | None = None, kinds: bool = False,
                      timeout: float = 30) -> Iterator[list[Rendered]]:
    """Decide and render every input of ``sources`` on the cluster at ``address`` (or an existing
    ``distributed.Client``), a partition at a time, in input order. ``timeout``: seconds to wait
    for the scheduler."""
    from distributed import Client

    own = not isinstance(address, Client)
    client: Any
    try:
        client = Client(address, timeout=timeout, set_as_default=False) if own else address
    except OSError as problem:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {problem}") from problem
    try:
        window = IN_FLIGHT_PER_THREAD * check_workers(client, knowledge)
        pending: deque[tuple[list[RawInput], Any]] = deque()
        batch = uuid.uuid4().hex[:12]
        for number, raws in enumerate(chunked(raw_sources(sources, stdin), chunk_size)):
            future = client.submit(decide_partition, raws, render, knowledge, kinds,
                                   key=f"spinekb-{batch}-{number}", retries=1)
            pending.append((raws, future))
            if len(pending) >= window:
                yield _collect(render, *pending.popleft())
        while pending:
            yield _collect(render, *pending.popleft())
    finally:
        if own:
            client.close()


def _collect(render: Renderer, raws: list[RawInput], future: Any) -> list[Rendered]:
    """A partition's records; if its task failed for good (a worker died twice on it), an error
    record for each of its inputs, so every input still gets exactly one record."""
    try:
        return future.result()
    except Exception as problem:  # noqa: BLE001 - becomes these inputs' error records
        return [render_safely(render, internal_error(raw.source, problem)) for raw in raws]

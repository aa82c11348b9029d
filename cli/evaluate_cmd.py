"""``spinekb evaluate``: decide cases from files, folders or JSON Lines on stdin."""
from __future__ import annotations

import os
import sys

import click

from spinekb.bridge.batch import render_chunks
from spinekb.bridge.distributed import ClusterError, render_on_cluster
from spinekb.bridge.engine import DEFAULT_CHUNK
from spinekb.cli.kb_options import chosen_kb, kb_options
from spinekb.explain.decisions import DECISION_FORMATS, decision_renderer
from spinekb.kb.knowledge import KnowledgeBase


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(DECISION_FORMATS), default="text", show_default=True,
              help="text for people; json (an array) or jsonl (a record a line).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes for batches of more than one chunk  [default: CPU count].")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=DEFAULT_CHUNK, show_default=True,
              help="Cases grounded together in one clingo program.")
@click.option("--kinds/--no-kinds", default=True, show_default=True,
              help="Give every denied study its denial_kind (documentation, not_yet, not_supported), "
                   "found by the what-if program: one more clingo grounding per denial that a pathway "
                   "of the case's presentation addresses.")
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Decide on an existing Dask distributed cluster (tcp://HOST:PORT of its scheduler) "
                   "instead of local worker processes: same records, same order.")
@kb_options
def evaluate(sources: tuple[str, ...], fmt: str, jobs: int | None, chunk_size: int, kinds: bool,
             kb_dir: str | None, kb_ref: str | None, cluster: str | None = None) -> None:
    """Decide every requested study of every case in SOURCES.

    SOURCES are case files (.json, .yaml, .jsonl), folders of them, or - for JSON Lines on
    stdin. Every input gets a record, in input order: a decision, or an error naming the field
    and the problem (also printed on stderr). Exits 2 if any input was rejected, 0 otherwise.
    """
    jobs = jobs or max(1, min(os.cpu_count() or 1, 8))
    knowledge = chosen_kb(kb_dir, kb_ref) if kb_dir or kb_ref else None
    try:
        rejected = _write_records(sources, fmt, jobs, chunk_size, knowledge, kinds, cluster)
    except ClusterError as problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("\ninterrupted", err=True)
        sys.exit(130)
    sys.exit(2 if rejected else 0)


def _write_records(sources: tuple[str, ...], fmt: str, jobs: int, chunk_size: int,
                   knowledge: KnowledgeBase | None = None, kinds: bool = False, cluster: str | None = None) -> int:
    """Write every input's record to stdout (errors also to stderr); the number rejected."""
    progress = _Progress() if sys.stderr.isatty() else None
    rejected = 0
    out, err = sys.stdout, sys.stderr
    separator = "[\n" if fmt == "json" else ""
    render = decision_renderer(fmt)
    chunks = (render_on_cluster(cluster, sources, render, sys.stdin, chunk_size, knowledge, kinds) if cluster
              else render_chunks(sources, render, jobs, sys.stdin, chunk_size, knowledge, kinds))
    for chunk in chunks:
        errors = [r.error for r in chunk if r.error]
        rejected += len(errors)
        if errors:
            err.write("".join(line + "\n" for line in errors))
            err.flush()
        texts = [r.text for r in chunk if r.text or fmt != "text"]
        if fmt == "json":
            out.write(separator + ",\n".join(texts))
            separator = ",\n"
        else:
            out.write("".join(text + "\n" for text in texts))
        if progress:
            progress.tick(len(chunk))
    if fmt == "json":
        out.write("[\n]\n" if separator == "[\n" else "\n]\n")
    out.flush()
    if progress:
        progress.done()
    return rejected


class _Progress:
    """A case counter on stderr, for long batches at a terminal."""

    def __init__(self) -> None:
        self.count = 0

    def tick(self, cases: int) -> None:
        self.count += cases
        click.echo(f"\r{self.count} cases", err=True, nl=False)

    def done(self) -> None:
        if self.count >= 1000:
            click.echo(f"\r{self.count} cases", err=True)

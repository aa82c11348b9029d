"""``spinekb evaluate``: decide cases from files, folders or JSON Lines on stdin."""
from __future__ import annotations

import json
import sys

import click

from spinekb.bridge.batch import Outcome, evaluate_lines_parallel, evaluate_sources
from spinekb.bridge.engine import DEFAULT_CHUNK
from spinekb.bridge.records import CaseError
from spinekb.explain.summary import summary_text


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text",
              show_default=True, help="text for people; json (an array) or jsonl (a record a line).")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=DEFAULT_CHUNK, show_default=True,
              help="Cases grounded together in one clingo program.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (JSON Lines on stdin only, with --format jsonl).")
def evaluate(sources: tuple[str, ...], fmt: str, chunk_size: int, jobs: int) -> None:
    """Decide every requested study of every case in SOURCES.

    SOURCES are case files (.json, .yaml, .jsonl), folders of them, or - for JSON Lines on
    stdin. Every input gets a record: a decision, or an error naming the field and the problem.
    Exits 2 if any input was rejected, 0 otherwise.
    """
    progress = _Progress() if sys.stderr.isatty() else None
    rejected = 0
    if jobs > 1 and (sources != ("-",) or fmt != "jsonl"):
        raise click.UsageError("--jobs > 1 takes JSON Lines on stdin (-) with --format jsonl")
    if jobs > 1:
        for is_error, line in evaluate_lines_parallel(sys.stdin, "<stdin>", jobs, chunk_size):
            rejected += is_error
            click.echo(line)
            if is_error:
                record = json.loads(line)
                click.echo(f"error: {record['source']}: {record['error']}", err=True)
            if progress:
                progress.tick()
    else:
        outcomes = evaluate_sources(sources, sys.stdin, chunk_size)
        rejected = _print(outcomes, fmt, progress)
    if progress:
        progress.done()
    sys.exit(2 if rejected else 0)


def _print(outcomes: "Iterable[Outcome]", fmt: str, progress: "_Progress | None") -> int:
    rejected = 0
    first = True
    if fmt == "json":
        click.echo("[")
    for outcome in outcomes:
        if isinstance(outcome, CaseError):
            rejected += 1
            click.echo(outcome.line(), err=True)
        if fmt == "jsonl":
            click.echo(json.dumps(outcome.to_json()))
        elif fmt == "json":
            text = json.dumps(outcome.to_json(), indent=2)
            click.echo(("" if first else ",\n") + text, nl=False)
        elif not isinstance(outcome, CaseError):
            click.echo(summary_text(outcome) + "\n")
        first = False
        if progress:
            progress.tick()
    if fmt == "json":
        click.echo("\n]")
    return rejected


class _Progress:
    """A case counter on stderr, for long batches at a terminal."""

    def __init__(self) -> None:
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count % 500 == 0:
            click.echo(f"\r{self.count} cases", err=True, nl=False)

    def done(self) -> None:
        if self.count >= 500:
            click.echo(f"\r{self.count} cases", err=True)


from collections.abc import Iterable  # noqa: E402  (used in annotations only)

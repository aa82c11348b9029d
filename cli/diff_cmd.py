"""``spinekb diff``: the impact of a KB revision on the same cases."""
from __future__ import annotations

import sys

import click

from spinekb.bridge.engine import DEFAULT_CHUNK
from spinekb.bridge.revision import impact
from spinekb.cli.kb_options import chosen_kb
from spinekb.explain.impact import impact_text


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--kb", "kb_dir", metavar="DIR", type=click.Path(file_okay=False), default=None,
              help="The other KB: a folder of .lp files in the same shape as kb/.")
@click.option("--kb-ref", "kb_ref", metavar="GIT_REF", default=None,
              help="The other KB: kb/ as it was at this git revision.")
@click.option("--base", "base_dir", metavar="DIR", type=click.Path(file_okay=False), default=None,
              help="Compare against this KB folder instead of the installed KB.")
@click.option("--base-ref", "base_ref", metavar="GIT_REF", default=None,
              help="Compare against kb/ at this git revision instead of the installed KB.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json: the whole report (every changed study, both records).")
@click.option("--limit", type=click.IntRange(0, None), default=20, show_default=True,
              help="text: studies listed per criterion (0: all).")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=DEFAULT_CHUNK, show_default=True,
              help="Cases grounded together in one clingo program.")
def diff(sources: tuple[str, ...], kb_dir: str | None, kb_ref: str | None, base_dir: str | None,
         base_ref: str | None, fmt: str, limit: int, chunk_size: int) -> None:
    """Decide the cases of SOURCES under the installed KB (or --base/--base-ref) and under
    another KB (--kb DIR or --kb-ref GIT_REF), and report every study whose decision or deciding
    reasons changed, grouped by the criteria whose rules differ, with counts.

    SOURCES are read as `spinekb evaluate` reads them (files, folders, - for JSON Lines on stdin).
    Exits 0 when nothing changed, 1 when some study changed, 2 on a KB or input that cannot be read.
    """
    if not kb_dir and not kb_ref:
        click.echo("error: name the other KB with --kb DIR or --kb-ref GIT_REF", err=True)
        sys.exit(2)
    base = chosen_kb(base_dir, base_ref)
    other = chosen_kb(kb_dir, kb_ref)
    report = impact(sources, base, other, stdin=sys.stdin, chunk_size=chunk_size,
                    on_error=lambda error: click.echo(error.line(), err=True))
    if fmt == "json":
        click.echo(report.model_dump_json(indent=2))
    else:
        click.echo(impact_text(report, limit or None), nl=False)
    sys.exit(1 if report.changed else 0)

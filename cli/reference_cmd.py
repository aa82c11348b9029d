"""``spinekb schema`` and ``spinekb vocabulary``: the case format, for people and programs."""
from __future__ import annotations

import json

import click

from spinekb.bridge.models import Case
from spinekb.bridge.vocabulary import vocabulary as load_vocabulary


@click.command()
def schema() -> None:
    """Print the JSON Schema of a case file."""
    click.echo(json.dumps(Case.model_json_schema(), indent=2))


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def vocabulary(fmt: str) -> None:
    """List every documented-finding term with its definition and the sections that use it."""
    terms = load_vocabulary().values()
    if fmt == "json":
        click.echo(json.dumps([{"term": t.name, "definition": t.definition, "sections": list(t.sections)}
                               for t in terms], indent=2))
        return
    for term in terms:
        click.echo(f"{term.name}  [{', '.join(term.sections)}]\n    {term.definition}")

"""Helpers for the page tests: read an HTML page's ids, links and outside references."""
from __future__ import annotations

from html.parser import HTMLParser


class PageFacts(HTMLParser):
    """Every id, every in-page link, every reference to another file or host, the headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.anchors: list[str] = []
        self.outside: list[str] = []
        self.headings: list[str] = []
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for name in ("href", "src"):
            value = values.get(name)
            if value is None:
                continue
            if value.startswith("#"):
                self.anchors.append(value[1:])
            elif tag in ("script", "link", "img", "iframe") or value.startswith(("http:", "https:", "//")):
                self.outside.append(value)
        if tag in ("h1", "h2", "h3"):
            self.headings.append(tag)


def page_facts(html: str) -> PageFacts:
    """The facts of one page."""
    facts = PageFacts()
    facts.feed(html)
    return facts

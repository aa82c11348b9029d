"""Charts for the HTML pages: Vega-Lite specifications built with Altair, rendered to SVG text by
vl-convert (its own embedded engine: no browser, no network, no JavaScript in the page).

    >>> svg = bar_chart([("72148", "approved", 3), ("72148", "denied", 2)], "CPT", "studies")  # doctest: +SKIP
    >>> svg.startswith("<svg")                                                               # doctest: +SKIP
    True

Colours are a blue/orange pair that colour-blind readers and greyscale printers tell apart, and
every bar carries its number, so a chart reads on paper too.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

#: approved / denied, and one colour for single-series charts
APPROVED, DENIED, SINGLE = "#1f5fa8", "#c4541b", "#4a5a6a"
_FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"


def bar_chart(rows: Sequence[tuple[str, str, int]], category: str, measure: str,
              series: Sequence[str] = ("approved", "denied"), colours: Sequence[str] = (APPROVED, DENIED),
              width: int = 560, title: str = "") -> str:
    """Horizontal bars, stacked by series: ``rows`` are (category, series, value), in display order."""
    import altair as alt

    order = list(dict.fromkeys(c for c, _, _ in rows))
    data = alt.Data(values=[{"category": c, "series": s, "value": v, "rank": series.index(s) if s in series else 0}
                            for c, s, v in rows if v])
    height = max(40, 20 * len(order))
    base = alt.Chart(data, title=title or alt.Undefined).encode(
        y=alt.Y("category:N", sort=order, title=None, axis=alt.Axis(labelLimit=300)),
    )
    bars = base.mark_bar().encode(
        x=alt.X("sum(value):Q", title=measure, stack="zero", axis=alt.Axis(format="d", tickMinStep=1)),
        color=alt.Color("series:N", scale=alt.Scale(domain=list(series), range=list(colours)),
                        legend=alt.Legend(title=None, orient="top") if len(series) > 1 else None),
        order=alt.Order("rank:Q"),
    )
    totals = base.mark_text(align="left", dx=4, fontSize=11, color="#222").encode(
        x=alt.X("sum(value):Q", stack="zero"), text=alt.Text("sum(value):Q"))
    chart = (bars + totals).properties(width=width, height=height).configure(font=_FONT).configure_view(stroke=None)
    return _svg(chart.to_dict())


def _svg(spec: dict[str, object]) -> str:
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec)
    # The chart is one picture to assistive technology: its figure's caption names it and the
    # table beside it gives its numbers. Vega's inner ARIA roles (graphics-object ...) are not
    # valid ARIA, so they go.
    svg = _INNER_ARIA.sub("", svg)
    return svg.replace('class="marks"', 'class="marks chart" role="img" aria-hidden="true" focusable="false"', 1)


_INNER_ARIA = re.compile(r'\s(?:role|aria-roledescription|aria-label)="[^"]*"')

"""Flows from or to one touchpoint, as a Sankey drawn from the most frequent paths.

The links are read off :meth:`Workspace.top_paths` (path strings "a > b > c" with their
journey counts): for ``direction="from"`` the steps after the first visit of the touchpoint
(then "converted" / "no conversion"), for ``"to"`` the steps before it. Paths outside the top
``n`` are not drawn; the figure says which share of journeys it covers.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import pandas as pd
import plotly.graph_objects as go

from touchlens.charts.theme import BAD, GOOD, PALETTE, empty, style

SEP = " > "


def _chains(paths: pd.DataFrame, touchpoint: str, direction: str, depth: int):
    """Per path through ``touchpoint``: its steps as (offset, name), journeys, conversions."""
    for row in paths.itertuples():
        steps = [s for s in str(row.path).split(SEP) if s]
        if touchpoint not in steps:
            continue
        at = steps.index(touchpoint)
        if direction == "from":
            chain = [(i, s) for i, s in enumerate(steps[at:at + depth + 1])]
        else:
            part = steps[max(0, at - depth):at + 1]
            chain = [(i - len(part) + 1, s) for i, s in enumerate(part)]
        yield chain, int(row.n_journeys), int(row.n_conversions)


def _label(offset: int, name: str) -> str:
    return name if offset == 0 else f"{offset:+d}· {name}".replace("-", "−")


def flow_links(paths: pd.DataFrame, touchpoint: str, *, direction: str = "from",
               depth: int = 3, per_step: int = 8) -> tuple[Counter, int]:
    """Links ``(source_label, target_label) -> journeys`` and the journeys drawn.

    Each step keeps its ``per_step`` busiest touchpoints; the rest are drawn as "other".
    """
    chains = list(_chains(paths, touchpoint, direction, depth))
    volume: Counter = Counter()
    for chain, n, _ in chains:
        for node in chain:
            volume[node] += n
    keep = set()
    for offset in {o for o, _ in volume}:
        busiest = sorted(((v, name) for (o, name), v in volume.items() if o == offset),
                         reverse=True)[:per_step]
        keep.update((offset, name) for _, name in busiest)
    links: Counter = Counter()
    drawn = 0
    for chain, n, conversions in chains:
        drawn += n
        labels = [_label(o, name if (o, name) in keep else "other") for o, name in chain]
        for a, b in pairwise(labels):
            links[(a, b)] += n
        if direction == "from":
            if conversions:
                links[(labels[-1], "converted")] += conversions
            if n - conversions:
                links[(labels[-1], "no conversion")] += n - conversions
    return links, drawn


def flows(paths: pd.DataFrame, touchpoint: str | None, *, direction: str = "from",
          total_journeys: int | None = None) -> go.Figure:
    """A Sankey of the journeys through ``touchpoint`` (see the module docstring)."""
    if paths.empty or not touchpoint:
        return empty("No journeys in this period")
    links, drawn = flow_links(paths, touchpoint, direction=direction)
    if not links:
        return empty(f"No frequent path goes through {touchpoint}")
    nodes = list(dict.fromkeys([a for a, _ in links] + [b for _, b in links]))
    index = {n: i for i, n in enumerate(nodes)}
    colours = [GOOD if n == "converted" else BAD if n == "no conversion" else
               PALETTE[0] if n == touchpoint else PALETTE[(i % (len(PALETTE) - 1)) + 1]
               for i, n in enumerate(nodes)]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": nodes, "color": colours, "pad": 14, "thickness": 16},
        link={"source": [index[a] for a, _ in links], "target": [index[b] for _, b in links],
              "value": list(links.values()), "color": "rgba(148,163,184,0.35)"}))
    cover = f" · {drawn:,} journeys"
    if total_journeys:
        cover += f" ({100 * drawn / total_journeys:.0f}% of all)"
    word = "after" if direction == "from" else "before"
    return style(fig, title=f"Steps {word} {touchpoint}{cover}", height=520)

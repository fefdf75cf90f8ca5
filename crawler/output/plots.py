"""The report's plots as inline SVG, drawn by matplotlib (its SVG backend, no GUI, no pyplot state): one function
per plot, from the data ``crawler.reporting.trends`` computes."""

from __future__ import annotations

import functools
import io
import math
from datetime import datetime, timedelta

import matplotlib
from matplotlib.collections import PolyCollection
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from crawler.reporting.outcome import HOST_STATES
from crawler.reporting.trends import EVENTS, Lane

STATE_COLOURS = {"up": "#2e7d32", "throttled": "#f9a825", "down": "#c62828", "seized": "#6a1b9a", "banned": "#212121",
                 "not asked": "#cfd8dc"}
WIDTH = 9.5  # inches at 100 dpi: the page's column
CHARACTER = 0.066  # inches: the average width of a character at 9 points
STYLE = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, and escaped as XML by matplotlib's writer
    "text.parse_math": False,  # a "$" in a site or host name is a dollar sign, not mathtext
    "font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
}


def styled(plot):
    """Draws the plot under ``STYLE`` (matplotlib reads most of it when an artist is made)."""
    @functools.wraps(plot)
    def draw(*args, **kwargs) -> str:
        with matplotlib.rc_context(STYLE):
            return plot(*args, **kwargs)
    return draw


def svg(figure: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element for an HTML page: no XML declaration, no creation date, and element ids
    made from ``name`` (unique in the page, the same for the same data)."""
    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name}):
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg"):]


def new_figure(height: float, rows: int = 1, tick_labels=(), legend_right=(), legend_above: bool = False) -> tuple[Figure, list]:
    """A figure of ``rows`` axes sharing their x axis, with room for the longest y tick label and for a legend on
    the right or above. The room is estimated from the labels' length: a layout engine would draw every figure
    twice (a third of the report's time)."""
    def inches(labels) -> float:
        return CHARACTER * max((len(str(label)) for label in labels), default=0)

    figure = Figure(figsize=(WIDTH, height), dpi=100)
    left = 0.75 + inches(tick_labels)
    right = 0.15 + (0.45 + inches(legend_right) if legend_right else 0)
    top = 0.1 + (0.3 if legend_above else 0)
    figure.subplots_adjust(left=left / WIDTH, right=1 - right / WIDTH, bottom=0.6 / height, top=1 - top / height, hspace=0.12)
    return figure, list(figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0])


def time_axis(axes, times: list[datetime]) -> None:
    """Dates on the x axis; a single moment gets a day either side (matplotlib would span years)."""
    locator = AutoDateLocator(maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if times and min(times) == max(times):
        axes.set_xlim(min(times) - timedelta(days=1), max(times) + timedelta(days=1))


def count_axis(axes, values) -> None:
    """Whole numbers on the y axis, from 0 (to 1 at least: a flat line of zeros sits on the axis)."""
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([1, *(v for v in values if v is not None)]) * 1.1)


@styled
def articles_per_day_svg(days: list[str], counts: dict[str, list[int | None]]) -> str:
    figure, [axes] = new_figure(3.2, tick_labels=["1000"], legend_right=counts)
    x = [datetime.fromisoformat(day) for day in days]
    for site, values in counts.items():
        axes.plot(x, [math.nan if v is None else v for v in values], marker="o", markersize=3, label=site)
    axes.set_ylabel("new articles")
    count_axis(axes, [v for values in counts.values() for v in values])
    time_axis(axes, x)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return svg(figure, "articles-per-day")


@styled
def host_timeline_svg(lanes: list[Lane]) -> str:
    names = [f"{lane.site} · {lane.host}" for lane in lanes]
    figure, [axes] = new_figure(1.1 + 0.28 * len(lanes), tick_labels=names, legend_above=True)
    for state in HOST_STATES:  # one collection of rectangles per state
        boxes = [[(x0, row - 0.4), (x0, row + 0.4), (x1, row + 0.4), (x1, row - 0.4)]
                 for row, lane in enumerate(lanes) for s in lane.segments if s.state == state
                 for x0, x1 in [(date2num(s.start), date2num(s.end))]]
        if boxes:
            axes.add_collection(PolyCollection(boxes, facecolors=STATE_COLOURS[state], linewidths=0))
    axes.autoscale_view()
    axes.set_yticks(range(len(lanes)), names)
    axes.set_ylim(len(lanes) - 0.5, -0.5)
    axes.grid(False)
    axes.xaxis_date()
    time_axis(axes, [moment for lane in lanes for s in lane.segments for moment in (s.start, s.end)])
    axes.legend(handles=[Patch(color=STATE_COLOURS[s], label=s) for s in HOST_STATES], ncols=len(HOST_STATES),
                loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)
    return svg(figure, "host-timeline")


@styled
def events_svg(bucket: str, events: dict[str, dict[str, list[tuple[datetime, int]]]]) -> str:
    figure, panels = new_figure(5.4, rows=len(EVENTS), tick_labels=["1000"], legend_right=events[EVENTS[0][0]])
    for axes, (field, label) in zip(panels, EVENTS):
        for site, points in events[field].items():
            axes.plot([x for x, _ in points], [y for _, y in points], marker="o", markersize=3, label=site,
                      drawstyle="steps-post" if bucket == "day" else "default")
        axes.set_ylabel(f"{label}\nper {bucket}")
        count_axis(axes, [y for points in events[field].values() for _, y in points])
    time_axis(panels[-1], [x for sites in events.values() for points in sites.values() for x, _ in points])
    panels[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return svg(figure, "events")


@styled
def flag_shares_svg(shares_by_site: dict[str, dict[str, float | None]]) -> str:
    flags = ("truncated", "paywalled", "short")
    sites = list(shares_by_site)
    figure, [axes] = new_figure(1.2 + 0.45 * len(sites), tick_labels=sites, legend_above=True)
    height = 0.8 / len(flags)
    for index, flag in enumerate(flags):
        values = [100 * (shares_by_site[site][flag] or 0) for site in sites]
        axes.barh([row + (index - 1) * height for row in range(len(sites))], values, height=height, label=flag)
    axes.set_yticks(range(len(sites)), sites)
    axes.set_ylim(len(sites) - 0.5, -0.5)
    axes.set_xlabel("% of the records in the run files")
    axes.set_xlim(0, max([5.0, *(100 * (v or 0) for s in shares_by_site.values() for v in s.values())]))
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(flags), frameon=False)
    return svg(figure, "flag-shares")

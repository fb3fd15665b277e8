"""A bar chart of downloads per day, drawn as inline SVG (no script, no library, styled by the CSS).

The SVG scales with the page, its text with it: the admin pages' CSS draws the text larger on narrow screens
(and leaves out the dates marked ``minor``, every other one), so the margins here leave room for that."""

from __future__ import annotations

from datetime import date
from html import escape

from markupsafe import Markup

from learning.web.formatting import date_fr

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 20, 44


def _nice_ceiling(value: int) -> int:
    """The top of the scale: 1, 2 or 5 times a power of ten, at least ``value`` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= max(value, 1):
                return factor * step
        step *= 10


def downloads_chart(days: list[tuple[date, int]], *, title: str) -> Markup:
    """One bar per day; each bar carries its own ``<title>`` (the day and its count) for assistive tools."""
    top = _nice_ceiling(max((count for _, count in days), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_description(days))}</desc>',
    ]
    for tick in (0, top // 2, top) if top > 1 else (0, top):
        y = TOP + plot_height - plot_height * tick / top
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 8}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle">{tick}</text>'
        )
    for index, (day, count) in enumerate(days):
        height = plot_height * count / top
        x = LEFT + index * slot + (slot - bar) / 2
        y = TOP + plot_height - height
        label = f"{date_fr(day)} : {count} téléchargement{'s' if count > 1 else ''}"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}">'
            f"<title>{escape(label)}</title></rect>"
        )
    labelled = _labelled(days)
    for rank, (index, (day, _)) in enumerate(labelled):
        x = LEFT + index * slot + slot / 2
        # Counted from the last date, which every screen shows: the others alternate.
        minor = " minor" if (len(labelled) - 1 - rank) % 2 else ""
        anchor = "end" if index == len(days) - 1 and len(days) > 1 else "middle"
        parts.append(
            f'<text class="axis{minor}" x="{x:.1f}" y="{HEIGHT - BOTTOM + 8}" text-anchor="{anchor}" '
            f'dominant-baseline="hanging">{day.day:02d}/{day.month:02d}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it went through html.escape


def _labelled(days: list[tuple[date, int]]) -> list[tuple[int, tuple[date, int]]]:
    """About six dates under the axis, the last day always among them."""
    if not days:
        return []
    every = max(1, round(len(days) / 6))
    return [(index, item) for index, item in enumerate(days) if (len(days) - 1 - index) % every == 0]


def _description(days: list[tuple[date, int]]) -> str:
    if not days:
        return "Aucune donnée."
    total = sum(count for _, count in days)
    best_day, best = max(days, key=lambda item: item[1])
    text = f"Du {date_fr(days[0][0])} au {date_fr(days[-1][0])} : {total} téléchargement{'s' if total > 1 else ''}"
    return text + (f", au plus {best} le {date_fr(best_day)}." if best else ".")

"""Charts drawn on the server as SVG: no chart library, no script, readable when printed.

Every mark carries a <title>, so a pointer shows the exact figure, and each chart sits
beside a table of the same numbers for screen readers and for copying. Colours come
from CSS classes, since the content security policy forbids inline styles. Text goes
in through ``Markup.format``, which escapes it: a field or department name can never
become markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

PALETTE = 8

_OPEN = Markup(
    '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" '
    'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
)
_CLOSE = Markup("</svg>")
_HGRID = Markup(
    '<line class="grid" x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}"/>'
    '<text class="axis" x="{tx}" y="{ty:.1f}" text-anchor="end">{label}</text>'
)
_COLUMN = Markup(
    '<rect class="s{n}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}">'
    "<title>{category} · {series}: {value:,} {unit}</title></rect>"
)
_XLABEL = Markup('<text class="axis" x="{x:.1f}" y="{y}" text-anchor="middle">{label}</text>')
_KEY = Markup(
    '<li><svg class="key" viewBox="0 0 10 10" aria-hidden="true">'
    '<rect class="s{n}" width="10" height="10"/></svg>{label}</li>'
)
_VGRID = Markup(
    '<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{y2}"/>'
    '<text class="axis" x="{x:.1f}" y="{ty}" text-anchor="middle">{label}</text>'
)
_BAR = Markup(
    '<text class="label" x="{lx}" y="{ly}" text-anchor="end">{label}</text>'
    '<rect class="{css}" x="{x}" y="{y}" width="{w:.1f}" height="{h}">'
    "<title>{label}: {share:.1%} · {note}</title></rect>"
    '<text class="axis" x="{nx}" y="{ny}">{share:.0%} · {note}</text>'
)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value``."""
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def stacked_columns(
    categories: Sequence[str], series: Sequence[Series], *, title: str, unit: str
) -> Markup:
    """One column per category (a month, ``YYYY-MM``), stacked by series (a field)."""
    width, height = 760, 300
    left, right, top, bottom = 56, 12, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    peak = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(categories), 1)
    bar = slot * 0.7
    parts = [_OPEN.format(w=width, h=height, title=title)]
    for tick in range(5):
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            _HGRID.format(
                x1=left, x2=width - right, y=y, tx=left - 6, ty=y + 4, label=f"{peak * tick // 4:,}"
            )
        )
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        y = float(top + plot_h)
        for n, s in enumerate(series):
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(
                _COLUMN.format(
                    n=n % PALETTE,
                    x=x,
                    y=y,
                    w=bar,
                    h=h,
                    category=category,
                    series=s.label,
                    value=value,
                    unit=unit,
                )
            )
        parts.append(_XLABEL.format(x=x + bar / 2, y=height - bottom + 16, label=category[2:]))
    parts.append(_CLOSE)
    return Markup("").join(parts)


def legend(series: Sequence[Series]) -> Markup:
    items = Markup("").join(_KEY.format(n=n % PALETTE, label=s.label) for n, s in enumerate(series))
    return Markup('<ul class="legend">{}</ul>').format(items)


def share_bars(rows: Sequence[tuple[str, float, str]], *, title: str) -> Markup:
    """Horizontal bars of a share from 0 to 1, one per labelled row, with a note each."""
    row_h, left, width = 26, 230, 760
    height = row_h * len(rows) + 24
    plot_w = width - left - 150
    parts = [_OPEN.format(w=width, h=height, title=title)]
    for tick in (0.0, 0.5, 1.0):
        parts.append(
            _VGRID.format(
                x=left + plot_w * tick, y2=height - 18, ty=height - 4, label=f"{tick:.0%}"
            )
        )
    for i, (label, share, note) in enumerate(rows):
        y = i * row_h + 4
        clamped = max(0.0, min(share, 1.0))
        parts.append(
            _BAR.format(
                lx=left - 8,
                ly=y + 15,
                label=label,
                css="good" if share >= 0.9 else "fair" if share >= 0.6 else "poor",
                x=left,
                y=y,
                w=plot_w * clamped,
                h=row_h - 8,
                share=share,
                note=note,
                nx=left + plot_w + 8,
                ny=y + 14,
            )
        )
    parts.append(_CLOSE)
    return Markup("").join(parts)


_COUNT = Markup(
    '<text class="label" x="{lx}" y="{ly}" text-anchor="end">{label}</text>'
    '<rect class="s0" x="{x}" y="{y}" width="{w:.1f}" height="{h}">'
    "<title>{label}: {value:,} {unit}</title></rect>"
    '<text class="axis" x="{nx:.1f}" y="{ny}">{value:,}</text>'
)


def count_bars(rows: Sequence[tuple[str, int]], *, title: str, unit: str) -> Markup:
    """Horizontal bars of a count, one per labelled row, on an axis from zero."""
    row_h, left, width = 26, 150, 760
    height = row_h * len(rows) + 24
    plot_w = width - left - 80
    peak = _nice_max(max((value for _, value in rows), default=0))
    parts = [_OPEN.format(w=width, h=height, title=title)]
    for tick in range(5):
        x = left + plot_w * tick / 4
        parts.append(
            _VGRID.format(x=x, y2=height - 18, ty=height - 4, label=f"{peak * tick // 4:,}")
        )
    for i, (label, value) in enumerate(rows):
        y = i * row_h + 4
        w = plot_w * value / peak
        parts.append(
            _COUNT.format(
                lx=left - 8,
                ly=y + 15,
                label=label,
                x=left,
                y=y,
                w=w,
                h=row_h - 8,
                value=value,
                unit=unit,
                nx=left + w + 6,
                ny=y + 14,
            )
        )
    parts.append(_CLOSE)
    return Markup("").join(parts)

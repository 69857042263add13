"""The timeline figure (`charts.timeline_figure`) drawn as a static SVG, for print and PDF.

Pure: the Plotly figure dict in, SVG text out. It draws what the printed page needs from
the same figure the page shows, so the two never disagree: both panels on one date axis,
each trace's line and markers (size, colour, symbol per point), the treatment lines and
their labels, the "no signed study yet" notes and a legend.

Why not Plotly's own image export: kaleido drives a headless Chrome it downloads, which
clinics' offline servers cannot do; matplotlib would be a second charting library redrawing
the chart from scratch. An SVG is text, renders the same in browsers and in WeasyPrint,
and stays sharp at any print size.
"""

import math
from dataclasses import dataclass
from datetime import date
from html import escape

FONT = "DejaVu Sans, sans-serif"
INK, MUTED, GRID, AXIS = "#1f2933", "#616e7c", "#eef2f6", "#bcccdc"
DASHES = {"solid": "", "dot": "2 3", "dash": "6 4", "dashdot": "6 3 2 3"}


@dataclass(frozen=True)
class _Axis:
    """Maps data values to pixels along one axis."""

    lo: float
    hi: float
    start: float  # pixel of `lo`
    end: float  # pixel of `hi`

    def __call__(self, value: float) -> float:
        span = (self.hi - self.lo) or 1.0
        return self.start + (value - self.lo) / span * (self.end - self.start)


def _day(value: str | date) -> float:
    d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return float(d.toordinal())


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    if raw <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _y_ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    first = step * (lo // step + (1 if lo % step else 0))
    ticks, value = [], max(first, 0.0) if lo < 0 else first
    while value <= hi + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _date_ticks(lo: date, hi: date) -> list[tuple[date, str]]:
    """January of each year (every second year past 12 years); quarters under two years."""
    years = (hi - lo).days / 365.25
    if years < 2:
        ticks, month = [], ((lo.month - 1) // 3 + 1) * 3 + 1
        year = lo.year + (month > 12)
        month = month - 12 if month > 12 else month
        while date(year, month, 1) <= hi:
            ticks.append((date(year, month, 1), date(year, month, 1).strftime("%b %Y")))
            month += 3
            if month > 12:
                year, month = year + 1, month - 12
        return ticks
    every = 2 if years > 12 else 1
    return [
        (date(y, 1, 1), str(y)) for y in range(lo.year + 1, hi.year + 1) if (y - lo.year - 1) % every == 0
    ]


def _each(value, n: int) -> list:
    return list(value) if isinstance(value, list | tuple) else [value] * n


def _symbol(kind: str, x: float, y: float, size: float, fill: str, stroke: str, width: float) -> str:
    r = max(size, 2.0) / 2
    style = f'fill="{fill}" stroke="{stroke}" stroke-width="{width:g}"'
    if kind == "circle-open":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="#fff" stroke="{fill}" stroke-width="1.5"/>'
        )
    if kind == "square-open":
        return (f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" '
                f'fill="none" stroke="{stroke}" stroke-width="{width:g}"/>')
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" {style}/>'
    if kind == "diamond":
        pts = [(x, y - r * 1.2), (x + r * 1.2, y), (x, y + r * 1.2), (x - r * 1.2, y)]
    elif kind == "triangle-up":
        pts = [(x - r, y + r * 0.8), (x + r, y + r * 0.8), (x, y - r)]
    elif kind == "triangle-down":
        pts = [(x - r, y - r * 0.8), (x + r, y - r * 0.8), (x, y + r)]
    elif kind == "star":
        pts = [
            (
                x + (r if k % 2 == 0 else r * 0.45) * math.sin(k * math.pi / 5),
                y - (r if k % 2 == 0 else r * 0.45) * math.cos(k * math.pi / 5),
            )
            for k in range(10)
        ]
    elif kind == "x":
        d = r * 0.8
        return (
            f'<path d="M{x - d:.1f},{y - d:.1f}L{x + d:.1f},{y + d:.1f}M{x - d:.1f},{y + d:.1f}'
            f'L{x + d:.1f},{y - d:.1f}" stroke="{fill}" stroke-width="3" fill="none"/>'
        )
    else:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {style}/>'
    points = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
    return f'<polygon points="{points}" {style}/>'


def _text(
    x: float, y: float, text: str, *, size: int = 11, fill: str = INK, anchor: str = "start", extra: str = ""
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}"{extra}>{escape(text)}</text>'
    )


def figure_svg(figure: dict, *, width: int = 960, height: int = 560, title: str = "") -> str:
    """The figure as an `<svg>` element (no XML prolog: it goes inside HTML)."""
    layout = figure.get("layout", {})
    margin = layout.get("margin", {})
    traces = [t for t in figure.get("data", []) if t.get("x")]
    legend = [t for t in traces if t.get("showlegend", True)]
    legend_rows = (len(legend) + 1) // 2
    left, right = float(margin.get("l", 60)), float(width - margin.get("r", 20))
    top = float(margin.get("t", 30)) + 6
    bottom = float(height - 28 - 18 * legend_rows)
    x_lo, x_hi = (_day(v) for v in layout["xaxis"]["range"])
    x = _Axis(x_lo, x_hi, left, right)

    def panel(axis: str) -> _Axis:
        d0, d1 = layout[axis]["domain"]
        y_lo, y_hi = layout[axis]["range"]
        return _Axis(y_lo, y_hi, bottom - d0 * (bottom - top), bottom - d1 * (bottom - top))

    panels = {"y": panel("yaxis"), "y2": panel("yaxis2")}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title or "Timeline chart")}">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    lo_day, hi_day = date.fromordinal(int(x_lo)), date.fromordinal(int(x_hi))
    ticks = _date_ticks(lo_day, hi_day)
    for name, y in panels.items():
        axis = layout["yaxis" if name == "y" else "yaxis2"]
        out.append(
            f'<rect x="{left:.1f}" y="{y.end:.1f}" width="{right - left:.1f}" '
            f'height="{y.start - y.end:.1f}" fill="none" stroke="{AXIS}"/>'
        )
        for day, _ in ticks:
            px = x(day.toordinal())
            out.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y.end:.1f}" y2="{y.start:.1f}" stroke="{GRID}"/>'
            )
        for value in _y_ticks(*axis["range"]):
            py = y(value)
            colour = AXIS if value == 0 else GRID
            out.append(
                f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{py:.1f}" y2="{py:.1f}" stroke="{colour}"/>'
            )
            out.append(_text(left - 6, py + 4, f"{value:g}", size=10, fill=MUTED, anchor="end"))
        label = axis.get("title", {}).get("text", "")
        mid = (y.start + y.end) / 2
        out.append(
            _text(
                16,
                mid,
                label,
                size=11,
                fill=MUTED,
                anchor="middle",
                extra=f' transform="rotate(-90 16 {mid:.1f})"',
            )
        )
    for day, text in ticks:
        out.append(_text(x(day.toordinal()), bottom + 16, text, size=10, fill=MUTED, anchor="middle"))
    for shape in layout.get("shapes", []):
        px = x(_day(shape["x0"]))
        style = shape.get("line", {})
        out.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" '
            f'stroke="{style.get("color", MUTED)}" stroke-dasharray="4 3" stroke-width="1"/>'
        )
    for note in layout.get("annotations", []):
        font = note.get("font", {})
        if note.get("xref") == "x":
            out.append(
                _text(
                    x(_day(note["x"])) + 3,
                    top - 4 - float(note.get("yshift", 2)) + 2,
                    note["text"],
                    size=int(font.get("size", 11)),
                    fill=font.get("color", MUTED),
                )
            )
        else:  # a note in the middle of an empty panel
            y = panels[note["yref"].split()[0]]
            out.append(
                _text(
                    (left + right) / 2,
                    (y.start + y.end) / 2,
                    note["text"],
                    size=12,
                    fill=font.get("color", MUTED),
                    anchor="middle",
                )
            )
    for trace in traces:
        y = panels.get(trace.get("yaxis", "y"), panels["y"])
        points = [
            (x(_day(a)), y(float(b))) for a, b in zip(trace["x"], trace["y"], strict=True) if b is not None
        ]
        mode = trace.get("mode", "markers")
        line = trace.get("line", {})
        if "lines" in mode and len(points) > 1:
            drawn = points[:1]
            for px, py in points[1:]:
                if line.get("shape") == "hv":  # a step: across, then up or down
                    drawn.append((px, drawn[-1][1]))
                drawn.append((px, py))
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in drawn)
            dash = DASHES.get(line.get("dash", "solid"), "")
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{line.get("color", INK)}" '
                f'stroke-width="{line.get("width", 2)}"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        if "markers" in mode:
            marker = trace.get("marker", {})
            n = len(points)
            sizes, colours = _each(marker.get("size", 8), n), _each(marker.get("color", INK), n)
            symbols = _each(marker.get("symbol", "circle"), n)
            edge = marker.get("line", {})
            edges, edge_width = _each(edge.get("color", "#fff"), n), float(edge.get("width", 1))
            for (px, py), size, colour, symbol, stroke in zip(
                points, sizes, colours, symbols, edges, strict=True
            ):
                fill = "none" if colour == "rgba(0,0,0,0)" else colour
                out.append(_symbol(symbol, px, py, float(size), fill, stroke, edge_width))
    for i, trace in enumerate(legend):
        lx = left + (i % 2) * (right - left) / 2
        ly = bottom + 34 + 18 * (i // 2)
        marker, line = trace.get("marker", {}), trace.get("line", {})
        edge = marker.get("line", {}).get("color")
        colour = line.get("color") or (_each(edge, 1)[0] if edge else _each(marker.get("color", INK), 1)[0])
        symbol = _each(marker.get("symbol", "circle"), 1)[0]
        out.append(
            _symbol(symbol, lx + 6, ly - 4, 10, "none" if colour == "rgba(0,0,0,0)" else colour, colour, 1.5)
        )
        out.append(_text(lx + 18, ly, trace.get("name", ""), size=11))
    out.append("</svg>")
    return "".join(out)

"""Server-rendered SVG map of opinion groups: works without JavaScript and under a strict CSP.

The page's Content-Security-Policy forbids ``style=`` attributes and ``<style>`` elements,
so everything is drawn with SVG presentation attributes (``fill=``, ``stroke=``, ...).
Groups differ by mark shape as well as colour, so the map reads without colour vision;
the colours are Okabe-Ito tones with at least 3:1 contrast against white (WCAG 1.4.11).
The chart scales to any width (``viewBox``, ``width="100%"``) and is announced to screen
readers as one image through its ``<title>`` and ``<desc>``; the page should also offer
the numbers as text, since a scatter of thousands of marks has no useful text form.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

__all__ = ["GROUP_COLOURS", "GROUP_SHAPES", "opinion_map_svg"]

# Contrast against white: 5.2, 3.9, 3.4, 3.1, 21.0.
GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000")
GROUP_SHAPES = ("circle", "square", "triangle", "diamond", "cross")

MARK_SIZE = 4.0  # half-width of a mark, in viewBox units
PADDING = 32.0  # room for marks and labels at the edges
LABEL_SIZE = 28  # group label font size, in viewBox units: still ~15 px on a 390 px phone
AXIS_COLOUR = "#C8C8C8"
TEXT_COLOUR = "#1A1A1A"


def opinion_map_svg(
    points: Sequence[tuple[float, float, int]],
    group_names: Mapping[int, str],
    *,
    title: str,
    description: str,
    width: int = 640,
    height: int = 400,
    highlight: tuple[float, float] | None = None,
    highlight_label: str = "",
    id_prefix: str = "opinion-map",
) -> Markup:
    """Draw each participant ``(x, y, group)`` as a shaped mark; label group centroids.

    ``highlight`` rings one position (the viewer's own) labelled ``highlight_label``
    (pass the translated word; "You" when empty). Groups 0-4 get distinct shapes and
    colours; higher ids reuse them cyclically (Polis forms at most five groups).
    ``id_prefix`` keeps the ``<title>``/``<desc>`` ids unique when a page has two maps.
    """
    if width <= 2 * PADDING or height <= 2 * PADDING:
        raise ValueError(f"the map needs more than {2 * PADDING:g} units each way")
    coordinates = [(x, y) for x, y, _ in points]
    if highlight is not None:
        coordinates.append(highlight)
    if not all(math.isfinite(value) for pair in coordinates for value in pair):
        raise ValueError("coordinates must be finite numbers")
    place = _scaler(coordinates, width, height)

    title_id = f"{id_prefix}-title"
    desc_id = f"{id_prefix}-desc"
    origin_x, origin_y = place(0.0, 0.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="100%" preserveAspectRatio="xMidYMid meet" role="img"'
        f' aria-labelledby="{escape(title_id)} {escape(desc_id)}" class="opinion-map">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
        f'<g stroke="{AXIS_COLOUR}" stroke-width="1">'
        f'<line x1="0" y1="{_n(origin_y)}" x2="{width}" y2="{_n(origin_y)}"/>'
        f'<line x1="{_n(origin_x)}" y1="0" x2="{_n(origin_x)}" y2="{height}"/></g>',
    ]

    by_group: dict[int, list[tuple[float, float]]] = {}
    for x, y, group in points:
        by_group.setdefault(group, []).append(place(x, y))
    for group in sorted(by_group):
        colour = GROUP_COLOURS[group % len(GROUP_COLOURS)]
        shape = GROUP_SHAPES[group % len(GROUP_SHAPES)]
        paint = (
            f'fill="none" stroke="{colour}" stroke-width="2"'
            if shape == "cross"
            else f'fill="{colour}"'
        )
        marks = "".join(_MARKS[shape](x, y) for x, y in by_group[group])
        parts.append(f'<g {paint} class="opinion-group" data-group="{group}">{marks}</g>')

    for group in sorted(by_group):
        placed = by_group[group]
        centre_x = sum(x for x, _ in placed) / len(placed)
        centre_y = sum(y for _, y in placed) / len(placed)
        name = group_names.get(group, str(group))
        # Baseline a little below the centroid so the text is centred on it.
        parts.append(_label(name, centre_x, centre_y + 0.35 * LABEL_SIZE, width, "group-label"))

    if highlight is not None:
        x, y = place(*highlight)
        parts.append(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(2.5 * MARK_SIZE)}" fill="none"'
            f' stroke="{TEXT_COLOUR}" stroke-width="2.5" class="opinion-highlight"/>'
        )
        # Above the ring, or below it when the ring is near the top edge.
        label_y = y - 3 * MARK_SIZE if y - 3 * MARK_SIZE - LABEL_SIZE > 0 else y + 7 * MARK_SIZE
        parts.append(_label(highlight_label or "You", x, label_y, width, "highlight-label"))

    parts.append("</svg>")
    return Markup("".join(parts))


def _scaler(
    coordinates: list[tuple[float, float]], width: int, height: int
) -> Callable[[float, float], tuple[float, float]]:
    """Map data to the viewBox with one scale for both axes, so distances stay honest.

    The origin is kept in view (the axes cross there) and a zero span (one point, or all
    equal) simply centres the points instead of dividing by zero.
    """
    xs = [x for x, _ in coordinates] + [0.0]
    ys = [y for _, y in coordinates] + [0.0]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    spans = [
        room / span
        for room, span in (
            (width - 2 * PADDING, high_x - low_x),
            (height - 2 * PADDING, high_y - low_y),
        )
        if span > 0
    ]
    scale = min(spans) if spans else 1.0
    mid_x, mid_y = (low_x + high_x) / 2, (low_y + high_y) / 2

    def place(x: float, y: float) -> tuple[float, float]:
        # SVG y grows downwards; data y grows upwards.
        return width / 2 + (x - mid_x) * scale, height / 2 - (y - mid_y) * scale

    return place


def _label(text: str, x: float, y: float, width: int, css_class: str) -> str:
    """Bold text with a white halo, nudged so a rough estimate of its width stays in view."""
    half = 0.3 * LABEL_SIZE * len(text)
    if 2 * half < width:
        x = min(max(x, half), width - half)
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="middle" font-size="{LABEL_SIZE}"'
        f' font-weight="bold" fill="{TEXT_COLOUR}" stroke="#FFFFFF" stroke-width="4"'
        f' stroke-linejoin="round" paint-order="stroke" class="{css_class}">'
        f"{escape(text)}</text>"
    )


def _n(value: float) -> str:
    """Short number text: one decimal at most, no "-0"."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _circle(x: float, y: float) -> str:
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(MARK_SIZE * 0.9)}"/>'


def _square(x: float, y: float) -> str:
    side = MARK_SIZE * 1.6
    return (
        f'<rect x="{_n(x - side / 2)}" y="{_n(y - side / 2)}"'
        f' width="{_n(side)}" height="{_n(side)}"/>'
    )


def _triangle(x: float, y: float) -> str:
    s = MARK_SIZE
    return f'<path d="M{_n(x)} {_n(y - s)}l{_n(s)} {_n(1.8 * s)}h{_n(-2 * s)}z"/>'


def _diamond(x: float, y: float) -> str:
    s = MARK_SIZE
    return f'<path d="M{_n(x)} {_n(y - s)}l{_n(s)} {_n(s)} {_n(-s)} {_n(s)} {_n(-s)} {_n(-s)}z"/>'


def _cross(x: float, y: float) -> str:
    s = MARK_SIZE * 0.8
    return (
        f'<path d="M{_n(x - s)} {_n(y - s)}l{_n(2 * s)} {_n(2 * s)}'
        f'm0 {_n(-2 * s)}l{_n(-2 * s)} {_n(2 * s)}"/>'
    )


_MARKS: dict[str, Callable[[float, float], str]] = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "diamond": _diamond,
    "cross": _cross,
}

"""Opinion map SVG: well-formed, accessible, CSP-safe, one mark per participant in view."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from app.consultations.charts import GROUP_COLOURS, opinion_map_svg

SVG = "{http://www.w3.org/2000/svg}"
MARK_TAGS = {f"{SVG}circle", f"{SVG}rect", f"{SVG}path"}


def render(points: list[tuple[float, float, int]], **options: object) -> ET.Element:
    names = options.pop("group_names", {0: "A", 1: "B", 2: "C", 3: "D", 4: "E"})
    svg = opinion_map_svg(
        points, names, title="Opinion groups", description="Each mark is a person.", **options
    )
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def marks(root: ET.Element) -> list[ET.Element]:
    return [
        mark
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "opinion-group"
        for mark in group
    ]


def view_box(root: ET.Element) -> tuple[float, float, float, float]:
    x, y, w, h = (float(value) for value in root.get("viewBox", "").split())
    return x, y, w, h


def path_points(d: str) -> list[tuple[float, float]]:
    """Vertices of the path commands the chart uses (M, m, l, h, z)."""
    tokens = re.findall(r"[MmLlHhVvZz]|-?\d+(?:\.\d+)?", d)
    points: list[tuple[float, float]] = []
    x = y = 0.0
    command = ""
    i = 0
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "Zz":
                continue
        if command in "ML":
            x, y = float(tokens[i]), float(tokens[i + 1])
            i += 2
        elif command in "ml":
            x, y = x + float(tokens[i]), y + float(tokens[i + 1])
            i += 2
        elif command == "h":
            x += float(tokens[i])
            i += 1
        elif command == "v":
            y += float(tokens[i])
            i += 1
        else:
            raise AssertionError(f"unexpected path command {command!r}")
        points.append((x, y))
    return points


def extent(mark: ET.Element) -> list[tuple[float, float]]:
    """Corners of a mark's bounding box."""
    tag = mark.tag.removeprefix(SVG)
    if tag == "circle":
        cx, cy, r = (float(mark.get(name, "")) for name in ("cx", "cy", "r"))
        return [(cx - r, cy - r), (cx + r, cy + r)]
    if tag == "rect":
        x, y, w, h = (float(mark.get(name, "")) for name in ("x", "y", "width", "height"))
        return [(x, y), (x + w, y + h)]
    return path_points(mark.get("d", ""))


def shape_of(mark: ET.Element) -> str:
    """A shape signature: the element name, and for paths the command letters."""
    tag = mark.tag.removeprefix(SVG)
    if tag == "path":
        return "path:" + "".join(re.findall(r"[A-Za-z]", mark.get("d", "")))
    return tag


def test_svg_is_an_accessible_scalable_image() -> None:
    root = render([(0.5, 1.0, 0), (-0.5, -1.0, 1)])
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("height") is None
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert view_box(root) == (0, 0, 640, 400)
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Opinion groups"
    assert desc is not None and desc.text == "Each mark is a person."
    assert root.get("aria-labelledby", "").split() == [title.get("id"), desc.get("id")]
    assert title.get("id") != desc.get("id")


def test_id_prefix_keeps_two_maps_apart() -> None:
    first = render([(0, 0, 0)])
    second = render([(0, 0, 0)], id_prefix="map-2")
    assert second.get("aria-labelledby") == "map-2-title map-2-desc"
    assert set(first.get("aria-labelledby", "").split()).isdisjoint(
        second.get("aria-labelledby", "").split()
    )


def test_one_mark_per_point_inside_the_view_box() -> None:
    points = [(x * 0.37 - 3, (x * 7 % 11) - 5.0, x % 5) for x in range(60)]
    points += [(1000.0, 20.0, 0), (-3.0, -400.0, 3)]  # far-out points stay in view too
    root = render(points, width=320, height=240)
    found = marks(root)
    assert len(found) == len(points)
    _, _, width, height = view_box(root)
    for mark in found:
        for x, y in extent(mark):
            assert 0 <= x <= width and 0 <= y <= height, (mark.tag, mark.attrib)


def test_groups_have_distinct_shapes_and_colours() -> None:
    root = render([(float(g), float(g), g) for g in range(5)])
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "opinion-group"]
    assert [g.get("data-group") for g in groups] == ["0", "1", "2", "3", "4"]
    shapes = {shape_of(next(iter(g))) for g in groups}
    assert len(shapes) == 5
    colours = {g.get("fill") if g.get("fill") != "none" else g.get("stroke") for g in groups}
    assert len(colours) == 5


def test_mark_element_stays_short() -> None:
    svg = str(opinion_map_svg([(1.234567, -7.654321, 0)], {}, title="t", description="d"))
    circle = re.search(r"<circle [^>]*/>", svg)
    assert circle is not None and len(circle.group()) <= 40


def contrast_with_white(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("colour", GROUP_COLOURS)
def test_group_colours_contrast_with_white(colour: str) -> None:
    assert contrast_with_white(colour) >= 3.0


def test_no_style_attributes_or_elements() -> None:
    root = render(
        [(0.0, 1.0, 0), (1.0, 0.0, 1), (2.0, 2.0, 2), (3.0, 1.0, 3), (1.0, 3.0, 4)],
        highlight=(0.5, 0.5),
        highlight_label="Vous",
    )
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert element.tag != f"{SVG}style"
        assert element.tag != f"{SVG}script"


def test_text_is_escaped() -> None:
    svg = opinion_map_svg(
        [(0.0, 0.0, 0), (1.0, 1.0, 1)],
        {0: "<A&B>", 1: '"quoted"'},
        title="<script>alert(1)</script>",
        description="x & y",
        highlight=(0.0, 1.0),
        highlight_label="<you>",
        id_prefix='m"1',
    )
    assert "<script>" not in svg
    root = ET.fromstring(str(svg))
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert labels == ["<A&B>", '"quoted"', "<you>"]
    assert root.findtext(f"{SVG}title") == "<script>alert(1)</script>"
    assert root.findtext(f"{SVG}desc") == "x & y"


def test_group_labels_sit_at_centroids() -> None:
    root = render([(0.0, 0.0, 0), (2.0, 0.0, 0), (1.0, 5.0, 1)])
    labels = {t.text: t for t in root.iter(f"{SVG}text") if t.get("class") == "group-label"}
    assert set(labels) == {"A", "B"}
    circles = [m for m in marks(root) if m.tag == f"{SVG}circle"]
    mid_x = sum(float(c.get("cx", "")) for c in circles) / 2
    assert float(labels["A"].get("x", "")) == pytest.approx(mid_x, abs=0.1)
    for label in labels.values():
        assert label.get("font-weight") == "bold"
        assert label.get("paint-order") == "stroke"
        assert label.get("stroke") == "#FFFFFF"


def test_unnamed_group_falls_back_to_its_number() -> None:
    root = render([(0.0, 0.0, 3)], group_names={})
    assert [t.text for t in root.iter(f"{SVG}text")] == ["3"]


@pytest.mark.parametrize(
    "points",
    [
        [],
        [(0.3, -0.2, 0)],
        [(2.0, 2.0, 1)] * 4,
        [(0.0, 0.0, 0)] * 3,
        [(1.0, 5.0, 0), (1.0, -5.0, 1)],  # no spread along x
        [(-5.0, 1.0, 0), (5.0, 1.0, 1)],  # no spread along y
    ],
)
def test_degenerate_inputs_do_not_crash(points: list[tuple[float, float, int]]) -> None:
    root = render(points)
    found = marks(root)
    assert len(found) == len(points)
    for mark in found:
        for x, y in extent(mark):
            assert 0 <= x <= 640 and 0 <= y <= 400
    text = " ".join(f"{c.get('cx')} {c.get('cy')}" for c in root.iter(f"{SVG}circle"))
    assert "nan" not in text and "inf" not in text


def test_degenerate_with_highlight() -> None:
    root = render([], highlight=(3.0, 3.0), highlight_label="You")
    assert [t.text for t in root.iter(f"{SVG}text")] == ["You"]


def test_highlight_adds_ring_and_label() -> None:
    without = render([(0.0, 0.0, 0), (1.0, 1.0, 1)])
    assert not [t for t in without.iter(f"{SVG}text") if t.get("class") == "highlight-label"]
    root = render([(0.0, 0.0, 0), (1.0, 1.0, 1)], highlight=(1.0, 1.0), highlight_label="You")
    label = [t for t in root.iter(f"{SVG}text") if t.get("class") == "highlight-label"]
    assert [t.text for t in label] == ["You"]
    rings = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "opinion-highlight"]
    assert len(rings) == 1
    assert rings[0].get("fill") == "none"
    # The ring is centred on the highlighted participant's mark (group 1 is a square).
    square = next(m for m in marks(root) if m.tag == f"{SVG}rect")
    centre_x = float(square.get("x", "")) + float(square.get("width", "")) / 2
    assert float(rings[0].get("cx", "")) == pytest.approx(centre_x, abs=0.1)


def test_highlight_label_defaults_to_you() -> None:
    root = render([(0.0, 0.0, 0)], highlight=(0.0, 0.0))
    assert [t.text for t in root.iter(f"{SVG}text")][-1] == "You"


def test_non_finite_coordinates_are_refused() -> None:
    with pytest.raises(ValueError):
        opinion_map_svg([(float("nan"), 0.0, 0)], {}, title="t", description="d")


def test_ten_thousand_points_render_compactly() -> None:
    points = [((i % 100) / 10, (i // 100) / 10, i % 5) for i in range(10_000)]
    svg = opinion_map_svg(points, {}, title="t", description="d")
    assert len(marks(ET.fromstring(str(svg)))) == 10_000
    assert len(svg) < 600_000

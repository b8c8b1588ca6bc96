"""The SVG post-processing for print: reproducible ids, presentation attributes, and nothing drawn that
shows nothing (markers clipped out of the plot area, transparent click targets, empty groups)."""

import io

import kaleido
from PIL import Image

from reports.packs.svg import _for_print, _stable_ids, svg_to_png

PLOT = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="760" height="340">'
    '<defs id="defs-1a2b3c"><g class="clips"><clipPath id="clip1a2b3cxyplot" class="plotclip">'
    '<rect width="673" height="211"/></clipPath></g></defs><g class="layer-below"></g>'
    '<g class="xy" clip-path="url(#clip1a2b3cxyplot)"><g class="points">'
    '<path class="point plotly-customdata" transform="translate(-656.41,133.71)" d="M4,0Z" style="fill: red;"/>'
    '<path class="point plotly-customdata" transform="translate(-20,100)" d="M4,0Z" style="fill: red;"/>'
    '<path class="point plotly-customdata" transform="translate(16.59,132.72)" d="M4,0Z" style="fill: blue;"/>'
    '<path class="point plotly-customdata" transform="translate(656.41,126.29)" d="M4,0Z" style="fill: blue;"/>'
    "</g></g>"
    '<g class="layers"><path class="xlines-below"/><g class="legendsymbols"></g></g>'
    '<rect class="legendtoggle" x="0" y="-9.5" width="72.6" height="19" style="fill: rgb(0, 0, 0); fill-opacity: 0;"/>'
    '<rect class="scrollbar" rx="20" ry="3" width="0" height="0" style="fill: rgb(128, 139, 164); fill-opacity: 1;" x="0" y="0"/>'
    "</svg>"
)


def test_markers_outside_the_plot_area_and_invisible_nodes_are_left_out():
    svg = _stable_ids(PLOT, prefix="c0")
    assert svg.count('class="point ') == 3  # the one far left of the window is clipped out of sight anyway
    assert "translate(-656.41" not in svg
    assert 'd="M4,0Z" fill="red" transform="translate(-20,100)"' in svg  # near the edge: its edge may show
    assert 'd="M4,0Z" fill="blue" transform="translate(656.41,126.29)"' in svg
    assert "legendtoggle" not in svg and "scrollbar" not in svg and "xlines-below" not in svg
    assert "layer-below" not in svg and 'class="layers"' not in svg  # empty, or empty once cleared
    assert 'id="c0-0"' in svg and "url(#c0-1)" in svg  # reproducible ids


def test_lengths_in_pixels_are_plain_numbers():
    svg = _for_print(
        '<svg><path d="M0,0H9" style="stroke-width: 2px; stroke-dasharray: 9px, 9px;"/>'
        '<text x="1" style="font-size: 12px;">12px wide</text></svg>'
    )
    assert svg == (
        '<svg><path d="M0,0H9" stroke-dasharray="9, 9" stroke-width="2"/><text font-size="12" x="1">12px wide</text></svg>'
    )


def test_the_order_plotly_set_attributes_in_makes_no_difference():
    """With two tabs drawing at once Plotly may set an element's attributes (or its style's declarations)
    in another order: the print SVG is the same bytes."""
    legend = '<rect class="bg" shape-rendering="crispEdges" width="270" height="29" x="0" y="0" style="{}"/>'
    first = PLOT.replace("</svg>", legend.format("stroke: rgb(68, 68, 68); stroke-opacity: 1;") + "</svg>")
    other = PLOT.replace(
        "</svg>",
        '<rect x="0" y="0" class="bg" height="29" width="270" shape-rendering="crispEdges" '
        'style="stroke-opacity: 1; stroke: rgb(68, 68, 68)"/></svg>',
    ).replace('rx="20" ry="3" width="0" height="0"', 'height="0" ry="3" width="0" rx="20"')
    assert first != other
    assert _stable_ids(first, prefix="c0") == _stable_ids(other, prefix="c0")
    assert "scrollbar" not in _stable_ids(other, prefix="c0")
    assert '<rect class="bg" height="29" shape-rendering="crispEdges" stroke="rgb(68, 68, 68)"' in _for_print(other)


def test_a_chart_with_several_plot_areas_keeps_every_marker():
    two = PLOT.replace(
        "</g></defs>", '<clipPath id="x2" class="plotclip"><rect width="9" height="9"/></clipPath></g></defs>'
    )
    assert _for_print(two).count('class="point ') == 4


def test_kaleido_still_has_the_hook_the_batch_overrides():
    """The batch keeps kaleido's page between figures by overriding ``_return_kaleido_tab``: if kaleido
    renamed it, every figure would reload plotly.js again (slow, silently)."""
    assert callable(getattr(kaleido.Kaleido, "_return_kaleido_tab", None))


def test_a_chart_for_the_word_document_is_rasterised_at_three_times_its_size_reading_nothing_else(tmp_path):
    secret = tmp_path / "secret.png"
    Image.new("RGB", (100, 100), "red").save(secret)
    png = svg_to_png(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="760" '
        'height="340"><rect width="760" height="340" fill="white"/><rect width="10" height="10" fill="blue"/>'
        f'<image x="100" width="100" height="100" xlink:href="file://{secret}"/></svg>'
    )
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (2280, 1020)
    assert image.getpixel((15, 15)) == (0, 0, 255)
    assert image.getpixel((450, 150)) == (255, 255, 255)  # the file was not read

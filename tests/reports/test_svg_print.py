"""The SVG post-processing for print: reproducible ids, presentation attributes, and nothing drawn that
shows nothing (markers clipped out of the plot area, transparent click targets, empty groups)."""

import kaleido

from reports.packs.svg import _for_print, _stable_ids

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
    assert 'translate(-20,100)" d="M4,0Z" fill="red"' in svg  # near the edge: its edge may show
    assert 'translate(656.41,126.29)" d="M4,0Z" fill="blue"' in svg
    assert "legendtoggle" not in svg and "scrollbar" not in svg and "xlines-below" not in svg
    assert "layer-below" not in svg and 'class="layers"' not in svg  # empty, or empty once cleared
    assert 'id="c0-0"' in svg and "url(#c0-1)" in svg  # reproducible ids


def test_a_chart_with_several_plot_areas_keeps_every_marker():
    two = PLOT.replace(
        "</g></defs>", '<clipPath id="x2" class="plotclip"><rect width="9" height="9"/></clipPath></g></defs>'
    )
    assert _for_print(two).count('class="point ') == 4


def test_kaleido_still_has_the_hook_the_batch_overrides():
    """The batch keeps kaleido's page between figures by overriding ``_return_kaleido_tab``: if kaleido
    renamed it, every figure would reload plotly.js again (slow, silently)."""
    assert callable(getattr(kaleido.Kaleido, "_return_kaleido_tab", None))

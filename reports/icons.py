"""Making Data Count variation icons as small vector (SVG) symbols: the same symbol on the web, in the PDF
pack and in the Word document, with the legend that explains them.

Each icon is a ring in the variation's colour around a dark letter on white (never white on white, never a
letter that could be read as another verdict) and a short run of dots that shows the kind of variation:
level for common cause, the last points off the line for a special cause. Presentation attributes only (no
``style``), so WeasyPrint draws them without CSS warnings. Assurance icons (will a target be met?) are not
used: the framework sets no targets."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Icon:
    key: str
    letter: str
    ring: str  # Making Data Count colour
    ink: str  # a darker shade for the letter and dots (contrast on white)
    label: str
    meaning: str
    dots: tuple[float, ...]  # y of five dots (0 top .. 1 bottom)
    dashed: bool = False


_LEVEL = (0.5, 0.5, 0.5, 0.5, 0.5)
_RISING = (0.55, 0.5, 0.55, 0.2, 0.05)

ICONS: dict[str, Icon] = {
    icon.key: icon
    for icon in (
        Icon(
            "improvement",
            "I",
            "#289de0",
            "#12577f",
            "Improvement",
            "special cause variation in the direction the measure should move",
            _RISING,
        ),
        Icon(
            "concern",
            "!",
            "#fab428",
            "#8a4a00",
            "Concern",
            "special cause variation against the direction the measure should move",
            _RISING,
        ),
        Icon(
            "neutral",
            "N",
            "#361475",
            "#361475",
            "Special cause (neutral)",
            "special cause variation on a measure with no better direction",
            _RISING,
        ),
        Icon(
            "common_cause",
            "C",
            "#7b7d7d",
            "#3d4245",
            "Common cause",
            "the latest quarter is within the usual variation: no signal",
            _LEVEL,
        ),
        Icon(
            "stale",
            "–",
            "#b1b4b6",
            "#505a5f",
            "Out of date",
            "the latest figure is older than the quarter by more than the setting allows: not judged",
            (),
            dashed=True,
        ),
        Icon("none", "×", "#b1b4b6", "#505a5f", "No data", "no figures for this measure", (), dashed=True),
    )
}


def icon_key(variation: str | None) -> str:
    """The icon for an evidence ``verdict`` / ``variation_key`` or a full ``variation`` value."""
    if not variation:
        return "none"
    key = variation.removeprefix("special_cause_")
    return key if key in ICONS else "none"


def icon_svg(variation: str | None, *, size: str = "1.5em", title: bool = False) -> SafeString:
    """The icon as inline SVG. ``title``: give it an accessible name (otherwise it is decorative, the
    words beside it carry the meaning)."""
    icon = ICONS[icon_key(variation)]
    dash = ' stroke-dasharray="3 2"' if icon.dashed else ""
    dots = "".join(
        f'<circle cx="{6 + 3 * i}" cy="{16.5 + y * 2.5:.1f}" r="1" fill="{icon.ink if i >= 3 and icon.key != "common_cause" else "#7b7d7d"}"/>'
        for i, y in enumerate(icon.dots)
    )
    letter_y = 13 if icon.dots else 16
    label = (
        f'role="img" aria-label="{escape(icon.label)}"><title>{escape(icon.label)}</title>'
        if title
        else 'aria-hidden="true" focusable="false">'
    )
    return mark_safe(  # noqa: S308 - built from the constants above
        f'<svg class="mdc-icon mdc-{icon.key}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" '
        f'width="{size}" height="{size}" {label}'
        f'<circle cx="12" cy="12" r="10.5" fill="#ffffff" stroke="{icon.ring}" stroke-width="2.5"{dash}/>'
        f'<text x="12" y="{letter_y}" text-anchor="middle" font-family="Liberation Sans, Arial, sans-serif" '
        f'font-size="{11 if icon.dots else 12}" font-weight="700" fill="{icon.ink}">{icon.letter}</text>'
        f"{dots}</svg>"
    )


def legend() -> list[tuple[SafeString, Icon]]:
    """Every icon with its label and meaning, in the order a legend lists them."""
    return [(icon_svg(key), icon) for key, icon in ICONS.items()]


ASSURANCE_NOTE = (
    "Assurance icons (whether a target will be met) are not used: the framework sets no targets, as UK "
    "practice asks — measures are read against their own history, their peers and England and Wales."
)

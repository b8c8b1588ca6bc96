"""Plain-English findings and text alternatives for charts, generated from the statistics."""

from __future__ import annotations

from collections.abc import Sequence

from metrics.quarters import period_label
from metrics.stats.compare import PeerComparison
from metrics.stats.disproportionality import GroupRate
from metrics.stats.findings import ordinal
from metrics.stats.presentation import format_value

VARIATION_WORDS = {
    "common_cause": "common cause variation",
    "special_cause_improvement": "special cause variation showing improvement",
    "special_cause_concern": "special cause variation of concern",
    "special_cause_neutral": "special cause variation",
    None: "no data",
}
VARIATION_LETTER = {
    "common_cause": "C",
    "special_cause_improvement": "I",
    "special_cause_concern": "!",
    "special_cause_neutral": "N",
    None: "–",
}
VARIATION_SHORT = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Improvement",
    "special_cause_concern": "Concern",
    "special_cause_neutral": "Special cause (neutral)",
    None: "No data",
}
# The variation for residents (the public local pages): the same judgement, in everyday words.
VARIATION_PLAIN = {
    "common_cause": "Usual variation: nothing unusual",
    "special_cause_improvement": "Unusual change, for the better",
    "special_cause_concern": "Unusual change, for the worse",
    "special_cause_neutral": "Unusual change (neither better nor worse)",
    None: "No data",
}


def peer_text(
    comparison: PeerComparison | None,
    unit: str,
    area_name: str,
    *,
    decimals: int | None = None,
    stale: bool = False,
    national_name: str = "England and Wales",
) -> str:
    """Where the area stands among its peers, on comparable figures only, and which peers and quarter."""
    if comparison is None:
        return "No peer comparison: the area has no peer group, or its peers have no figures."

    def fmt(value: float | None) -> str:
        return format_value(value, unit, decimals)

    if comparison.rank is not None and comparison.comparable:
        if comparison.rank == comparison.of and comparison.of > 1:  # last: "the lowest", not "the 8th highest"
            place = f"the {'highest' if comparison.ranked_from == 'lowest' else 'lowest'}"
        else:
            place = f"{'the' if comparison.rank == 1 else 'the ' + ordinal(comparison.rank)} {comparison.ranked_from}"
        rank = f"is {place} of {comparison.of} in its peer group"
    else:
        why = "the figure is out of date" if stale else "counts depend on an area's size; compare rates"
        rank = f"is not ranked among its {comparison.of} peers ({why})"
    national = f"; {national_name} {fmt(comparison.national)}" if comparison.national is not None else ""
    return (
        f"In {period_label(comparison.period)} {area_name} {rank}; the peer average is "
        f"{fmt(comparison.peer_mean)} (range {fmt(comparison.peer_min)} to {fmt(comparison.peer_max)}){national}."
    )


def disproportionality_sentences(
    groups: Sequence[GroupRate], *, reference_name: str, labels: dict[str, str]
) -> list[str]:
    """One sentence per group: its rate against the reference group's, and whether the difference is
    statistically significant (the 95% interval excludes 1)."""
    sentences = []
    for g in groups:
        name = labels.get(g.category, g.category)
        if g.ratio is None:
            sentences.append(f"{name}: no ratio ({g.note}).")
            continue
        interval = f"95% interval {g.ci_lower:.2f} to {g.ci_upper:.2f}"
        if g.significant and g.ratio >= 1:
            sentences.append(
                f"The rate for {name} people was {g.ratio:.1f} times the rate for {reference_name} people ({interval}): significantly higher."
            )
        elif g.significant:
            sentences.append(
                f"The rate for {name} people was {g.ratio:.2f} times the rate for {reference_name} people ({interval}): significantly lower."
            )
        else:
            sentences.append(
                f"The rate for {name} people was {g.ratio:.2f} times the rate for {reference_name} people ({interval}): not a significant difference."
            )
    return sentences


ILLUSTRATIVE = "Illustrative figures, made up for the demonstration: not published data."

DISPROPORTIONALITY_CAVEAT = (
    "Disproportionality shows how rates differ between groups; it does not show why. Differences can reflect "
    "where and when policing happens, who is present in public places, and the use of a census residential "
    "population as the denominator (each measure's caveats say which census)."
)


def cause_text_short(cause: str | None) -> str:
    return {
        "improvement": "Special cause: improvement",
        "concern": "Special cause: concern",
        "neutral": "Special cause",
    }.get(cause or "", "Common cause")

"""Findings in plain English, from plain data: what matters about a measure in one or two short sentences.

The first sentence says how the latest figure varies and what that means for the measure's direction,
naming the one rule that decided it in a board member's words ("above its usual range", "below average
for seven quarters in a row") — never a list of rule names. The second gives the change on a year before
and the peer position (highest/lowest, never "best" for a measure with no direction). A stale figure
or withheld ratios say so instead of judging.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics.quarters import Quarter

from .compare import Change, PeerComparison
from .currency import Staleness
from .presentation import format_change
from .spc import OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE, SpcResult

_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


@dataclass(frozen=True)
class Signal:
    """The rule that decided the latest point's label, read for words."""

    rule: str  # outside_limits | trend | two_of_three | shift
    side: int  # 1: above the mean (or rising, for a trend); -1: below (or falling)
    length: int  # points in the run or trend; points beyond the line in the last three; 1 outside limits


def latest_signal(result: SpcResult) -> Signal | None:
    """The signal behind the latest point's special cause; None when it is common cause or there are no points.

    The rule is the first of the point's rules (the order that labels it: outside limits, trend, two of
    three, run). Lengths count the segment's points in order, as the rules do (a gap does not break them).
    """
    if not result.points or not result.points[-1].rules:
        return None
    last = result.points[-1]
    segment = result.segments[last.segment]
    values = [p.value for p in result.points if p.segment == last.segment]
    rule = last.rules[0]
    if rule == TREND:
        side = 1 if len(values) > 1 and values[-1] > values[-2] else -1
        length = 1
        while length < len(values) and (values[-length] - values[-length - 1]) * side > 0:
            length += 1
        return Signal(rule, side, length)
    side = 1 if last.value > segment.mean else -1
    if rule == SHIFT:
        length = 0
        while length < len(values) and (values[-1 - length] - segment.mean) * side > 0:
            length += 1
        return Signal(rule, side, length)
    if rule == TWO_OF_THREE:
        line = segment.upper_two_sigma if side > 0 else segment.lower_two_sigma
        beyond = sum(1 for v in values[-3:] if line is not None and (v - line) * side > 0)
        return Signal(rule, side, beyond)
    return Signal(rule, side, 1)


def number_word(n: int) -> str:
    """``7`` -> ``seven`` (up to twelve; digits after)."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def signal_words(signal: Signal) -> str:
    """The rule in a board member's words: "is above its usual range", "has risen for seven quarters in a row"."""
    up = signal.side > 0
    if signal.rule == OUTSIDE_LIMITS:
        return f"is {'above' if up else 'below'} its usual range"
    if signal.rule == TREND:
        return f"has {'risen' if up else 'fallen'} for {number_word(signal.length)} quarters in a row"
    if signal.rule == TWO_OF_THREE:
        edge = "at or above the top" if up else "at or below the bottom"
        return f"has been {edge} of its usual range in " + (
            "two of the last three quarters" if signal.length < 3 else "each of the last three quarters"
        )
    if signal.rule == SHIFT:
        return f"has been {'above' if up else 'below'} average for {number_word(signal.length)} quarters in a row"
    raise ValueError(f"unknown rule {signal.rule!r}")


def peer_words(peer: PeerComparison | None) -> str:
    """``"the 3rd highest of 8 peers"``; empty when not ranked (no rank, not comparable)."""
    if peer is None or peer.rank is None or not peer.comparable:
        return ""
    place = "the" if peer.rank == 1 else f"the {ordinal(peer.rank)}"
    return f"{place} {peer.ranked_from} of {peer.of} peers"


def plain_finding(
    *,
    name: str,
    unit: str,
    variation: str | None,
    signal: Signal | None = None,
    year_change: Change | None = None,
    peer: PeerComparison | None = None,
    staleness: Staleness | None = None,
    withheld: str | None = None,
    decimals: int | None = None,
) -> str:
    """One or two short sentences on a measure (see the module's docstring).

    ``variation`` is ``SpcResult.variation`` (it carries the direction's meaning); ``signal`` is ``latest_signal`` of the same result;
    ``year_change`` the change on the same quarter a year before; ``peer`` the peer comparison;
    ``staleness`` from ``currency.staleness``; ``withheld`` the reason ratios are withheld, if they are.
    """
    if staleness is not None and staleness.stale and staleness.latest is not None:
        years = (staleness.quarters_old or 0) // 4
        age = f"{number_word(years)} year{'s' if years != 1 else ''} old" if years >= 1 else "out of date"
        return (
            f"The latest figure for {name} is from {Quarter.containing(staleness.latest).label}, {age}: "
            "it is shown for reference, not judged or ranked."
        )
    if variation is None:
        return f"No figures for {name}."
    if variation == "common_cause":
        first = f"{name} is within its usual range"
    else:
        words = signal_words(signal) if signal is not None else "is outside its usual pattern"
        meaning = {"special_cause_improvement": ", an improvement", "special_cause_concern": ", a concern"}
        first = f"{name} {words}{meaning.get(variation, '')}"
    first = first[0].upper() + first[1:] + "."
    extras = []
    if year_change is not None:
        change = format_change(year_change, unit, decimals)
        extras.append("unchanged" + change.removeprefix("no change") if change.startswith("no change") else change)
    if place := peer_words(peer):
        extras.append(place)
    sentences = [first]
    if extras:
        sentences.append("It is " + " and ".join(extras) + ".")
    if withheld:
        sentences.append(f"Ratios between groups are withheld: {withheld}.")
    return " ".join(sentences)

"""The executive summary drafted from the evidence (the analyst edits it; the pack prints what was kept):
what improved, what needs attention and why, figures out of date or missing, questions for the board."""

from __future__ import annotations

from collections.abc import Sequence

from metrics.quarters import period_label
from reports.evidence.build import snapshot_evidence
from reports.evidence.items import MetricEvidence, Part
from reports.models import Report
from reports.wording import ILLUSTRATIVE


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + ("." if dot or not head.endswith(".") else "")


def _named(e: MetricEvidence, text: str | None = None) -> str:
    """The finding's first sentence with the measure's name in bold (named once, not twice); an illustrative
    or national figure says so after the name."""
    if text is None:
        text = _first_sentence(e.finding.removeprefix(ILLUSTRATIVE).strip())
    name = e.metric.name
    label = name + (" (illustrative figures)" if e.illustrative else "")
    if e.national_fallback:
        label += f" ({e.area.name})"
    if text.startswith(name):
        rest = text[len(name) :]
        if e.national_fallback and rest.startswith(f" ({e.area.name})"):
            rest = rest[len(f" ({e.area.name})") :]
        return f"**{label}**{rest}"
    return f"**{label}**: {text}"


def _lower_first(name: str) -> str:
    """ "Police recorded crime" -> "police recorded crime"; "CPS conviction rate" and "Crown Court ..." kept."""
    first = name.split(" ", 1)[0]
    if first[1:].islower() and first not in PROPER:
        return name[0].lower() + name[1:]
    return name


PROPER = {"Crown", "Magistrates'", "Victims'"}


def draft_summary(evidence: Sequence[MetricEvidence], *, quarter: str) -> str:
    """Markdown: four short parts, each measure named with the reason drawn from its evidence."""
    # National figures are context: the board is not asked what it did to move them.
    local = [e for e in evidence if not e.national_fallback]
    national = [e for e in evidence if e.national_fallback and e.verdict in ("improvement", "concern", "neutral")]
    improved = [e for e in local if e.verdict == "improvement"]
    concern = [e for e in local if e.verdict == "concern"]
    neutral = [e for e in local if e.verdict == "neutral"]
    stale = [e for e in evidence if e.verdict == "stale"]
    missing = [e for e in evidence if not e.has_figures]
    fair = [(e, f) for e in local for f in e.fairness if not e.stale]  # an old ratio is not judged either
    common = sum(1 for e in evidence if e.verdict == "common_cause")

    out = [
        f"In {quarter}, of {len(evidence)} measures, {len(improved)} showed improvement, {len(concern)} a concern, "
        f"{len(neutral)} special cause variation with no better direction and {common} common cause variation "
        f"only; {len(stale)} {'is' if len(stale) == 1 else 'are'} out of date and {len(missing)} "
        f"{'has' if len(missing) == 1 else 'have'} no figures.",
        "",
        "### What improved",
        "",
    ]
    out += [f"- {_named(e)}" for e in improved] or [
        "- No measure showed a statistically significant improvement this quarter."
    ]
    out += ["", "### What needs attention", ""]
    attention = [f"- {_named(e)} {e.change_year_text.capitalize()}." for e in concern]
    for e in neutral:
        attention.append(f"- {_named(e)} (a measure with no better direction)")
    for e, f in fair:
        if f.withheld:
            attention.append(f"- **{e.metric.name}**: ratios between groups are withheld ({f.withheld}).")
        else:
            higher = [g for g in f.groups if g.significant and g.ratio is not None and g.ratio > 1]
            if higher:
                names = ", ".join(f"{f.labels.get(g.category, g.category)} ({g.ratio:.1f} times)" for g in higher)
                attention.append(
                    f"- **{e.metric.name}**: rates significantly higher than for {f.reference.name} people "
                    f"in {period_label(f.period)} for {names}."
                )
    out += attention or ["- No measure showed special cause variation of concern this quarter."]
    if national:
        out += ["", "### National context", ""]
        out += [f"- {_named(e)}" for e in national]
    out += ["", "### Out of date or missing", ""]
    gaps = [f"- **{e.metric.name}**: {e.stale_text}." for e in stale]
    gaps += [f"- **{e.metric.name}**: no figures ({e.metric.agency.name})." for e in missing]
    out += gaps or ["- Every measure has a current figure."]
    out += ["", "### Questions for the board", ""]
    questions = [
        f"- What lies behind the change in {_lower_first(e.metric.name)}, and what is being done about it?"
        for e in concern[:4]
    ]
    if len(concern) > 4:
        questions.append(f"- Which of the other {len(concern) - 4} measures of concern needs a deep dive next?")
    questions += [
        f"- Which actions led to the improvement in {_lower_first(e.metric.name)}, and can it be sustained?"
        for e in improved[:3]
    ]
    questions += [
        f"- What does the board need to understand the {_lower_first(e.metric.name)} figures, and is recording "
        "good enough?"
        for e, f in fair
        if f.withheld
    ]
    if stale or missing:
        names = ", ".join(_lower_first(e.metric.name) for e in [*stale, *missing])
        questions.append(f"- When will current figures be available for {names}, and from whom?")
    out += questions or ["- Is the board content that the usual variation shown is acceptable?"]
    return "\n".join(out) + "\n"


def draft_for(report: Report) -> str:
    """The summary drafted afresh from the report's snapshot (the edit page's "Draft from the evidence")."""
    evidence = snapshot_evidence(snapshot=report.snapshot, parts=Part.FAIRNESS)
    return draft_summary(evidence, quarter=period_label(report.snapshot.period))

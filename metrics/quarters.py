"""UK financial-year quarters, identified by the quarter's end date.

2024/25 Q1 is April–June 2024 and ends on 2024-06-30; Q4 is January–March 2025 and ends on 2025-03-31.
Pure Python: no Django import.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache, total_ordering

# Financial quarter number -> (month of the quarter's end, year offset from the financial year's start).
_END_MONTH = {1: 6, 2: 9, 3: 12, 4: 3}
_QUARTER_OF_END_MONTH = {6: 1, 9: 2, 12: 3, 3: 4}

_LABEL_RE = re.compile(r"^\s*(\d{4})\s*[/-]\s*(\d{2})\s*Q\s*([1-4])\s*$", re.IGNORECASE)
_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


class QuarterError(ValueError):
    """A text that is not a quarter end date nor a financial-year quarter label."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Quarter:
    """A financial-year quarter: ``fy_start`` is the calendar year the financial year begins in."""

    fy_start: int
    number: int

    def __post_init__(self) -> None:
        if self.number not in _END_MONTH:
            raise QuarterError(f"quarter number must be 1–4, not {self.number}")
        if not 1900 <= self.fy_start <= 2999:
            raise QuarterError(f"financial year {self.fy_start} is out of range")

    # --- constructors -------------------------------------------------------------------------------
    @classmethod
    def from_end_date(cls, end: dt.date) -> Quarter:
        """The quarter ending on ``end``; any other date is an error."""
        number = _QUARTER_OF_END_MONTH.get(end.month)
        if number is None or end.day != calendar.monthrange(end.year, end.month)[1]:
            raise QuarterError(f"{end.isoformat()} is not a quarter end date (30 Jun, 30 Sep, 31 Dec, 31 Mar)")
        return cls(end.year - 1 if number == 4 else end.year, number)

    @classmethod
    def containing(cls, day: dt.date) -> Quarter:
        """The quarter that contains ``day``."""
        if day.month <= 3:
            return cls(day.year - 1, 4)
        return cls(day.year, (day.month - 4) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read ``2024-06-30``, ``2024/25 Q1`` or ``2024-25 Q1``."""
        if not isinstance(text, str):
            raise QuarterError(f"{text!r} is not a quarter")
        match = _LABEL_RE.match(text)
        if match:
            start, end2, number = int(match[1]), int(match[2]), int(match[3])
            if (start + 1) % 100 != end2:
                raise QuarterError(f"'{text.strip()}': {start}/{end2:02d} is not a financial year")
            return cls(start, number)
        match = _DATE_RE.match(text)
        if match:
            try:
                day = dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError as exc:
                raise QuarterError(f"'{text.strip()}' is not a date: {exc}") from None
            return cls.from_end_date(day)
        raise QuarterError(f"'{text.strip()}' is not a quarter end date (2024-06-30) or label (2024/25 Q1)")

    # --- views ---------------------------------------------------------------------------------------
    @property
    def end_date(self) -> dt.date:
        month = _END_MONTH[self.number]
        year = self.fy_start + 1 if self.number == 4 else self.fy_start
        return dt.date(year, month, calendar.monthrange(year, month)[1])

    @property
    def start_date(self) -> dt.date:
        end = self.end_date
        month = end.month - 2
        return dt.date(end.year, month, 1)

    @property
    def financial_year(self) -> str:
        return f"{self.fy_start}/{(self.fy_start + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return f"{self.financial_year} Q{self.number}"

    def __str__(self) -> str:
        return self.label

    def _ordinal(self) -> int:
        return self.fy_start * 4 + self.number - 1

    @classmethod
    def _from_ordinal(cls, ordinal: int) -> Quarter:
        return cls(ordinal // 4, ordinal % 4 + 1)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quarter):
            return NotImplemented
        return self._ordinal() < other._ordinal()

    def shift(self, quarters: int) -> Quarter:
        return self._from_ordinal(self._ordinal() + quarters)

    def previous(self) -> Quarter:
        return self.shift(-1)

    def same_quarter_last_year(self) -> Quarter:
        return self.shift(-4)

    def quarters_between(self, other: Quarter) -> int:
        """How many quarters ``other`` lies after ``self`` (negative when before)."""
        return other._ordinal() - self._ordinal()


def parse_period(text: str) -> dt.date:
    """A period text as its quarter end date."""
    return Quarter.parse(text).end_date


@lru_cache(maxsize=4096)
def period_label(end: dt.date) -> str:
    """``2024-06-30`` -> ``2024/25 Q1`` (remembered: a page labels the same few dozen quarters thousands of
    times)."""
    return Quarter.from_end_date(end).label


def is_quarter_end(day: dt.date) -> bool:
    try:
        Quarter.from_end_date(day)
    except QuarterError:
        return False
    return True

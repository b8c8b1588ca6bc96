"""Checks on one value of a parsed YAML document, each problem collected as ``key.path: message``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from metrics.quarters import Quarter, QuarterError

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class Checker:
    """Collects errors with their key paths."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, required: set[str], optional: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {type(value).__name__}")
            return None
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join(sorted(required | optional))
                self.error(f"{path}.{key}" if path else str(key), f"unknown key (allowed: {allowed})")
        for key in sorted(required):
            if key not in value or value[key] is None:
                self.error(f"{path}.{key}" if path else key, "is required")
        return value

    def sequence(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list, got {type(value).__name__}")
            return []
        return value

    def text(self, value: Any, path: str, *, required: bool = True, max_length: int = 300) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(path, f"expected text, got {type(value).__name__}")
            return ""
        text = str(value).strip()
        if required and not text:
            self.error(path, "must not be empty")
        if len(text) > max_length:
            self.error(path, f"is longer than {max_length} characters")
        return text

    def code(self, value: Any, path: str, *, max_length: int = 64) -> str:
        text = self.text(value, path, max_length=max_length)
        if text and not CODE_RE.match(text):
            self.error(path, f"'{text}' is not a code (letters, digits, - and _ only)")
        return text

    def choice(self, value: Any, path: str, choices: list[str], default: str | None = None) -> str:
        if value is None and default is not None:
            return default
        if value not in choices:
            self.error(path, f"'{value}' is not one of {', '.join(choices)}")
            return choices[0]
        return str(value)

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(path, f"'{value}' is not true or false")
            return default
        return value

    def integer(self, value: Any, path: str, default: int, minimum: int, maximum: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.error(path, f"'{value}' is not a whole number from {minimum} to {maximum}")
            return default
        return value

    def number(self, value: Any, path: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(path, f"'{value}' is not a number")
            return None
        return float(value)

    def date(self, value: Any, path: str) -> dt.date | None:
        if value is None:
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.error(path, f"'{value}' is not a date (YYYY-MM-DD)")
            return None

    def quarter(self, value: Any, path: str) -> dt.date | None:
        try:
            if isinstance(value, dt.date):
                return Quarter.from_end_date(value).end_date
            return Quarter.parse(str(value)).end_date
        except QuarterError as exc:
            self.error(path, str(exc))
            return None

    def unique(self, codes: list[tuple[str, str]], what: str) -> None:
        seen: set[str] = set()
        for path, code in codes:
            if code and code in seen:
                self.error(path, f"{what} '{code}' appears twice")
            seen.add(code)

"""Parsing and checking one CSV row of each import format.

Each parser takes the row as a dict of strings and returns the store row,
or raises ``RowError`` naming the column and what is wrong with it.
Empty cells of optional columns are missing values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from segmentation_service.domain import formats

MAX_ID = 64
MAX_NAME = 200
MIN_BIRTH_YEAR = 1900


class RowError(ValueError):
    def __init__(self, column: str, problem: str) -> None:
        super().__init__(f"{column}: {problem}")


@dataclass(frozen=True)
class CsvFormat:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    parse: Callable[[Mapping[str, str]], dict[str, Any]]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


def _text(
    row: Mapping[str, str], column: str, *, required: bool = False, limit: int = MAX_ID
) -> str | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise RowError(column, "is required")
        return None
    if len(value) > limit:
        raise RowError(column, f"longer than {limit} characters")
    return value


def _number(
    row: Mapping[str, str], column: str, *, required: bool = False, minimum: float | None = None
) -> float | None:
    raw = _text(row, column, required=required)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise RowError(column, f"not a number ({raw!r})") from None
    if not math.isfinite(value):
        raise RowError(column, f"not a finite number ({raw!r})")
    if minimum is not None and value < minimum:
        raise RowError(column, f"must be at least {minimum:g} ({raw!r})")
    return value


def _whole(row: Mapping[str, str], column: str, minimum: int, maximum: int) -> int | None:
    value = _number(row, column)
    if value is None:
        return None
    if not value.is_integer():
        raise RowError(column, f"not a whole number ({row[column].strip()!r})")
    if not minimum <= value <= maximum:
        raise RowError(column, f"must be between {minimum} and {maximum} ({int(value)})")
    return int(value)


def _moment(row: Mapping[str, str], column: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 date or date-time as naive UTC (a bare date is its midnight)."""
    raw = _text(row, column, required=required)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
    except ValueError:
        raise RowError(column, f"not an ISO 8601 date or date-time ({raw!r})") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _date(row: Mapping[str, str], column: str) -> date | None:
    moment = _moment(row, column)
    return None if moment is None else moment.date()


def parse_customer(row: Mapping[str, str]) -> dict[str, Any]:
    return {
        "customer_id": _text(row, "customer_id", required=True),
        "name": _text(row, "name", required=True, limit=MAX_NAME),
        "customer_type": _text(row, "customer_type"),
        "industry": _text(row, "industry"),
        "employee_count": _whole(row, "employee_count", 0, 10_000_000),
        "annual_revenue": _number(row, "annual_revenue", minimum=0),
        "region": _text(row, "region"),
        "country": _text(row, "country"),
        "birth_year": _whole(row, "birth_year", MIN_BIRTH_YEAR, date.today().year),
        "preferred_channel": _text(row, "preferred_channel"),
        "signup_date": _date(row, "signup_date"),
        "acquisition_cost": _number(row, "acquisition_cost", minimum=0),
        "annual_cost_to_serve": _number(row, "annual_cost_to_serve", minimum=0),
    }


def parse_transaction(row: Mapping[str, str]) -> dict[str, Any]:
    return {
        "transaction_id": _text(row, "transaction_id", required=True),
        "customer_id": _text(row, "customer_id", required=True),
        "occurred_at": _moment(row, "occurred_at", required=True),
        "amount": _number(row, "amount", required=True),
        "cost": _number(row, "cost"),
        "channel": _text(row, "channel"),
        "category": _text(row, "category"),
    }


def parse_need(row: Mapping[str, str]) -> dict[str, Any]:
    return {
        "customer_id": _text(row, "customer_id", required=True),
        "need": _text(row, "need", required=True),
        "score": _number(row, "score", required=True),
        "surveyed_at": _date(row, "surveyed_at"),
    }


CUSTOMERS = CsvFormat(
    "customers",
    required=formats.CUSTOMER_REQUIRED,
    optional=formats.CUSTOMER_COLUMNS[len(formats.CUSTOMER_REQUIRED) :],
    key=("customer_id",),
    parse=parse_customer,
)
TRANSACTIONS = CsvFormat(
    "transactions",
    required=formats.TRANSACTION_REQUIRED,
    optional=formats.TRANSACTION_COLUMNS[len(formats.TRANSACTION_REQUIRED) :],
    key=("transaction_id",),
    parse=parse_transaction,
)
NEEDS = CsvFormat(
    "needs",
    required=formats.NEED_REQUIRED,
    optional=formats.NEED_COLUMNS[len(formats.NEED_REQUIRED) :],
    key=("customer_id", "need"),
    parse=parse_need,
)

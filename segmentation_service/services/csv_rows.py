"""Parsing and checking the CSV rows of each import format.

A format is a list of fields, each a column with its check and conversion.
``CsvFormat.parse`` takes one row as a dict of strings and returns the store
row, or raises ``RowError`` naming the first bad column and what is wrong with
it. ``CsvFormat.parse_columns`` does the same for a batch of rows a column at
a time (no dict per row, no call per field: the import's time per row was
mostly that); rows with any problem are parsed again one by one, so a rejected
row's reason is exactly ``parse``'s. Empty cells of optional columns are
missing values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from operator import attrgetter, itemgetter
from typing import Any

from segmentation_service.domain import formats

MAX_ID = 64
MAX_NAME = 200
MIN_BIRTH_YEAR = 1900


class RowError(ValueError):
    def __init__(self, column: str, problem: str) -> None:
        super().__init__(f"{column}: {problem}")


class BadValue(ValueError):
    """What is wrong with a cell's (stripped, non-empty) text."""


@dataclass(frozen=True)
class Conversion:
    """A cell's text to its value, one cell at a time or a whole column at once.

    ``one`` raises ``BadValue`` saying what is wrong. ``column`` converts texts
    (stripped, non-empty) by calls in C (``map``, ``all``, ``min``): a tenth of
    the time per cell; it raises ``ValueError`` (``BadValue`` included) when any
    text is refused, and then ``one`` finds which and why. Both accept the same texts.
    """

    one: Callable[[str], Any]
    column: Callable[[list[str]], list[Any]]


@dataclass(frozen=True)
class Field:
    """A column: required or not, its length limit, and the conversion of its text."""

    column: str
    convert: Conversion | None = None  # None: the text itself
    required: bool = False
    limit: int = MAX_ID

    def value(self, text: str | None) -> Any:
        raw = (text or "").strip()
        if not raw:
            if self.required:
                raise RowError(self.column, "is required")
            return None
        if len(raw) > self.limit:
            raise RowError(self.column, f"longer than {self.limit} characters")
        if self.convert is None:
            return raw
        try:
            return self.convert.one(raw)
        except BadValue as problem:
            raise RowError(self.column, str(problem)) from None

    def values(self, texts: Sequence[str]) -> tuple[list[Any], set[int]]:
        """``value`` of each text, and the positions of those it refuses (None there).

        Whole-column comprehensions where they can be: the common case, a column
        of good values, then costs a fraction of a call per cell.
        """
        raws = list(map(str.strip, texts))
        limit = self.limit
        bad: set[int] = set()
        if max(map(len, raws), default=0) > limit:  # checks in C first: rarely any
            bad.update(i for i, raw in enumerate(raws) if len(raw) > limit)
        if self.required and not all(raws):
            bad.update(i for i, raw in enumerate(raws) if not raw)
        if self.convert is None:
            found: list[Any] = [raw or None for raw in raws]
        else:
            found = self._converted(raws, bad)
        for position in bad:
            found[position] = None
        return found, bad

    def _converted(self, raws: list[str], bad: set[int]) -> list[Any]:
        convert = self.convert
        assert convert is not None
        complete = not bad and all(raws)
        present = None if complete else [i for i, raw in enumerate(raws) if raw and i not in bad]
        try:  # no refusals: one conversion of the whole column
            if present is None:
                return convert.column(raws)
            found: list[Any] = [None] * len(raws)
            for position, value in zip(
                present, convert.column([raws[i] for i in present]), strict=True
            ):
                found[position] = value
            return found
        except ValueError:
            pass
        found = []
        for position, raw in enumerate(raws):
            if not raw or position in bad:
                found.append(None)
                continue
            try:
                found.append(convert.one(raw))
            except BadValue:
                bad.add(position)
                found.append(None)
        return found


@dataclass(frozen=True)
class ParsedColumns:
    """A batch's good rows by column (in ``fields`` order), and the bad rows' errors."""

    positions: list[int]  # of the good rows in the batch
    columns: dict[str, list[Any]]
    errors: dict[int, RowError]  # by position in the batch


@dataclass(frozen=True)
class CsvFormat:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    fields: tuple[Field, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def parse(self, row: Mapping[str, str]) -> dict[str, Any]:
        return {field.column: field.value(row.get(field.column)) for field in self.fields}

    def parse_columns(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> ParsedColumns:
        """``parse`` of each row (each as wide as ``header``), a column at a time."""
        index = {name: i for i, name in enumerate(header)}
        blank = [""] * len(rows)
        columns: dict[str, list[Any]] = {}
        refused: set[int] = set()
        for field in self.fields:
            i = index.get(field.column)
            texts = blank if i is None else list(map(itemgetter(i), rows))
            columns[field.column], bad = field.values(texts)
            refused |= bad
        errors: dict[int, RowError] = {}
        for position in sorted(refused):
            try:
                parsed = self.parse(dict(zip(header, rows[position], strict=True)))
            except RowError as error:
                errors[position] = error
            else:  # refused in bulk but not alone: what ``parse`` says stands
                for column, value in parsed.items():
                    columns[column][position] = value
        positions = [position for position in range(len(rows)) if position not in errors]
        if errors:
            columns = {name: [values[p] for p in positions] for name, values in columns.items()}
        return ParsedColumns(positions, columns, errors)


def _number(minimum: float | None = None) -> Conversion:
    def one(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise BadValue(f"not a number ({raw!r})") from None
        if not math.isfinite(value):
            raise BadValue(f"not a finite number ({raw!r})")
        if minimum is not None and value < minimum:
            raise BadValue(f"must be at least {minimum:g} ({raw!r})")
        return value

    def column(raws: list[str]) -> list[float]:
        values = list(map(float, raws))
        if not all(map(math.isfinite, values)):
            raise BadValue("not a finite number")
        if minimum is not None and values and min(values) < minimum:
            raise BadValue("below the minimum")
        return values

    return Conversion(one, column)


def _whole(minimum: int, maximum: int | Callable[[], int]) -> Conversion:
    number = _number()

    def one(raw: str) -> int:
        value = number.one(raw)
        if not value.is_integer():
            raise BadValue(f"not a whole number ({raw!r})")
        top = maximum() if callable(maximum) else maximum
        if not minimum <= value <= top:
            raise BadValue(f"must be between {minimum} and {top} ({int(value)})")
        return int(value)

    def column(raws: list[str]) -> list[int]:
        values = number.column(raws)
        if not all(map(float.is_integer, values)):
            raise BadValue("not a whole number")
        top = maximum() if callable(maximum) else maximum
        if values and not minimum <= min(values) <= max(values) <= top:
            raise BadValue("out of range")
        return list(map(int, values))

    return Conversion(one, column)


def _one_moment(raw: str) -> datetime:
    """An ISO 8601 date or date-time as naive UTC (a bare date is its midnight)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadValue(f"not an ISO 8601 date or date-time ({raw!r})") from None
    return _naive_utc(moment)


def _moments(raws: list[str]) -> list[datetime]:
    moments = list(map(datetime.fromisoformat, raws))
    if any(map(attrgetter("tzinfo"), moments)):  # an offset given: rarely
        return [_naive_utc(moment) for moment in moments]
    return moments


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


_MOMENT = Conversion(_one_moment, _moments)
_DATE = Conversion(
    lambda raw: _one_moment(raw).date(),
    lambda raws: [moment.date() for moment in _moments(raws)],
)


def _this_year() -> int:
    return date.today().year


CUSTOMER_FIELDS = (
    Field("customer_id", required=True),
    Field("name", required=True, limit=MAX_NAME),
    Field("customer_type"),
    Field("industry"),
    Field("employee_count", _whole(0, 10_000_000)),
    Field("annual_revenue", _number(minimum=0)),
    Field("region"),
    Field("country"),
    Field("birth_year", _whole(MIN_BIRTH_YEAR, _this_year)),
    Field("preferred_channel"),
    Field("signup_date", _DATE),
    Field("acquisition_cost", _number(minimum=0)),
    Field("annual_cost_to_serve", _number(minimum=0)),
)
TRANSACTION_FIELDS = (
    Field("transaction_id", required=True),
    Field("customer_id", required=True),
    Field("occurred_at", _MOMENT, required=True),
    Field("amount", _number(), required=True),
    Field("cost", _number()),
    Field("channel"),
    Field("category"),
)
NEED_FIELDS = (
    Field("customer_id", required=True),
    Field("need", required=True),
    Field("score", _number(), required=True),
    Field("surveyed_at", _DATE),
)

CUSTOMERS = CsvFormat(
    "customers",
    required=formats.CUSTOMER_REQUIRED,
    optional=formats.CUSTOMER_COLUMNS[len(formats.CUSTOMER_REQUIRED) :],
    key=("customer_id",),
    fields=CUSTOMER_FIELDS,
)
TRANSACTIONS = CsvFormat(
    "transactions",
    required=formats.TRANSACTION_REQUIRED,
    optional=formats.TRANSACTION_COLUMNS[len(formats.TRANSACTION_REQUIRED) :],
    key=("transaction_id",),
    fields=TRANSACTION_FIELDS,
)
NEEDS = CsvFormat(
    "needs",
    required=formats.NEED_REQUIRED,
    optional=formats.NEED_COLUMNS[len(formats.NEED_REQUIRED) :],
    key=("customer_id", "need"),
    fields=NEED_FIELDS,
)

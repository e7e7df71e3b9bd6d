"""The bulk path writes SQLite datetimes and dates as the very text SQLAlchemy writes."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import Date, DateTime, Float
from sqlalchemy.dialects import sqlite

from segmentation_service.store.bulk import _sqlite_temporal


def test_sqlite_datetime_text_is_sqlalchemy_s() -> None:
    dialect = sqlite.dialect()
    processor = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    fast = _sqlite_temporal(processor, DateTime())
    rng = random.Random(7)
    moments = [datetime(999, 12, 31, 23, 59, 59, 123), datetime(2025, 1, 2, 3, 4, 5)]
    moments += [
        datetime(1900, 1, 1)
        + timedelta(seconds=rng.randrange(10**10), microseconds=rng.randrange(10**6))
        for _ in range(2000)
    ]

    assert [fast(moment) for moment in moments] == [processor(moment) for moment in moments]
    assert fast(date(2025, 1, 2)) == processor(date(2025, 1, 2))  # not a datetime: as before


def test_sqlite_date_text_is_sqlalchemy_s() -> None:
    dialect = sqlite.dialect()
    processor = Date().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    fast = _sqlite_temporal(processor, Date())
    rng = random.Random(8)
    days = [date(1, 1, 1), date(999, 12, 31), date(9999, 12, 31)]
    days += [date(1900, 1, 1) + timedelta(days=rng.randrange(80_000)) for _ in range(2000)]

    assert [fast(day) for day in days] == [processor(day) for day in days]
    moment = datetime(2025, 1, 2, 3, 4, 5)
    assert fast(moment) == processor(moment)  # a datetime given for a date: as before


def test_other_types_keep_their_processor() -> None:
    def processor(value: object) -> object:
        return value

    assert _sqlite_temporal(processor, Float()) is processor

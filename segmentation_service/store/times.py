"""Stored times are naive UTC; the service's are aware."""

from __future__ import annotations

from datetime import datetime, timezone


def to_utc(moment: datetime | None) -> datetime | None:
    """Stored times are naive UTC; callers get aware ones."""
    return None if moment is None else aware_utc(moment)


def aware_utc(moment: datetime) -> datetime:
    """A stored (naive UTC) time that is never NULL, as an aware one."""
    return moment.replace(tzinfo=timezone.utc)


def to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)

"""Telling an unreachable store from a bug in what it was asked."""

from __future__ import annotations

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)


def is_unavailability(error: BaseException) -> bool:
    """Whether a database error means "cannot reach the store now" rather than a bug.

    A refused or dropped connection, or (SQLite) a database locked past the
    busy timeout: the caller may retry later. Anything else (e.g. a missing
    table) is an internal error.
    """
    if isinstance(error, DisconnectionError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    message = str(error.orig).lower()
    if (
        isinstance(error, (OperationalError, InterfaceError))
        and "sqlite" not in type(error.orig).__module__
    ):
        return True
    return "database is locked" in message or "unable to open database" in message

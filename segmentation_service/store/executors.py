"""Where Core statements run: a connection, or a unit of work's session."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

Executor = Connection | Session


def dialect_of(executor: Executor) -> str:
    bind = executor if isinstance(executor, Connection) else executor.get_bind()
    return bind.dialect.name

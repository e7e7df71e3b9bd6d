"""Users with their roles and password secrets, and the WS-Security nonces already used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Insert,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from segmentation_service.store.executors import Executor, dialect_of
from segmentation_service.store.tables import UsedNonceRow, UserRow, table
from segmentation_service.store.times import to_naive_utc


@dataclass(frozen=True)
class UserRecord:
    """A stored user: ``password_hash`` is Argon2id, ``password_encrypted`` a Fernet token."""

    username: str
    role: str
    password_hash: str
    password_encrypted: str
    created_at: datetime


_USERS = table(UserRow).c
_NONCES = table(UsedNonceRow)
# Built once: every authenticated request runs these, and building a statement costs
# more than running it.
USER_BY_NAME = select(
    _USERS.username, _USERS.role, _USERS.password_hash, _USERS.password_encrypted, _USERS.created_at
).where(_USERS.username == bindparam("username"))
PURGE_NONCES = delete(_NONCES).where(_NONCES.c.seen_at < bindparam("before"))


def _new_row(dialect: str, into: Table, values: dict[str, Any]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the key: a row back when it was new.

    Unlike catching an IntegrityError, a conflict leaves the transaction usable.
    RETURNING tells whether a row went in (psycopg reports no rowcount for INSERTs).
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement: Insert = insert(into).values(values).on_conflict_do_nothing()
    return statement.returning(*into.primary_key.columns)


DIALECTS = ("postgresql", "sqlite")
_NONCE_VALUES: dict[str, Any] = {"nonce": bindparam("nonce"), "seen_at": bindparam("seen_at")}
NEW_NONCE = {
    dialect: _new_row(dialect, _NONCES, _NONCE_VALUES) for dialect in ("postgresql", "sqlite")
}


def _record(row: Any) -> UserRecord:
    """The record of a user row (ORM or Core: the same attribute names)."""
    return UserRecord(
        username=row.username,
        role=row.role,
        password_hash=row.password_hash,
        password_encrypted=row.password_encrypted,
        created_at=row.created_at.replace(tzinfo=timezone.utc),
    )


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _insert_new(session: Executor, into: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless its key exists: True when it was new (see ``_new_row``)."""
    return session.execute(_new_row(dialect_of(session), into, values)).first() is not None


class UserRepository:
    def __init__(self, session: Executor) -> None:
        self._session = session

    def get(self, username: str) -> UserRecord | None:
        row = self._session.execute(USER_BY_NAME, {"username": username}).first()
        return None if row is None else _record(row)

    def all(self) -> list[UserRecord]:
        rows = self._session.scalars(select(UserRow).order_by(UserRow.username))
        return [_record(row) for row in rows]

    def add(self, user: UserRecord) -> bool:
        """Insert ``user``; False (and nothing written) when the username is taken."""
        values = {
            "username": user.username,
            "role": user.role,
            "password_hash": user.password_hash,
            "password_encrypted": user.password_encrypted,
            "created_at": to_naive_utc(user.created_at),
        }
        return _insert_new(self._session, table(UserRow), values)

    def remove(self, username: str) -> bool:
        result = self._session.execute(delete(UserRow).where(UserRow.username == username))
        return _rowcount(result) == 1

    def set_role(self, username: str, role: str) -> bool:
        statement = update(UserRow).where(UserRow.username == username).values(role=role)
        return _rowcount(self._session.execute(statement)) == 1


class NonceRepository:
    """Nonces of accepted PasswordDigest tokens: one table, so every worker process sees them."""

    def __init__(self, session: Executor) -> None:
        self._session = session

    def remember(self, nonce: str, seen_at: datetime) -> bool:
        """Record ``nonce`` as seen at ``seen_at``; False when it is already recorded (a replay).

        The primary key makes this atomic across processes: of two requests with the
        same nonce, exactly one insert takes effect.
        """
        values = {"nonce": nonce, "seen_at": to_naive_utc(seen_at)}
        statement = NEW_NONCE[dialect_of(self._session)]
        return self._session.execute(statement, values).first() is not None

    def purge(self, before: datetime) -> int:
        """Forget the nonces seen before ``before``; how many went."""
        return _rowcount(self._session.execute(PURGE_NONCES, {"before": to_naive_utc(before)}))

    def count(self) -> int:
        return int(self._session.scalar(select(func.count()).select_from(UsedNonceRow)) or 0)

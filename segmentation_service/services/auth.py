"""Who may call what: WS-Security UsernameToken checks, the role table, user administration.

Roles are ordered; each has every right of the roles before it:

    viewer   lookups: segments, members, value scores, runs and run comparisons
    analyst  also runs segmentations and names segment owners
    admin    also anything that changes customer data: every operation

A PasswordText token is checked against the user's Argon2id hash. A PasswordDigest token,
Base64(SHA1(nonce + created + password)), is checked against the password decrypted from
the store; its Created time must lie within the window around now, and its nonce must be
new. Nonces live in the store, so every worker process sees them, for as long as a token
carrying them could pass the window check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from segmentation_service.domain.errors import AccessDenied, AuthenticationFailed
from segmentation_service.domain.roles import ADMIN, ANALYST, ROLES, VIEWER
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.store.reads import LookupReads
from segmentation_service.store.secret_key import PasswordCipher
from segmentation_service.store.uow import UnitOfWork
from segmentation_service.store.users import UserRecord

MINIMUM_ROLE: dict[str, str] = {
    "GetCustomerSegment": VIEWER,
    "ListSegmentMembers": VIEWER,
    "ScoreCustomerValue": VIEWER,
    "GetSegmentationRun": VIEWER,
    "ListSegmentationRuns": VIEWER,
    "CompareSegmentationRuns": VIEWER,
    "ListSegmentMovers": VIEWER,
    "GetSegmentInsights": VIEWER,
    "ListSegmentationSchedules": VIEWER,
    "GetPortfolio": VIEWER,  # evaluates now: reading the grid keeps it in the history
    "GetPortfolioHistory": VIEWER,
    "ListPortfolios": VIEWER,
    "SegmentCustomers": ANALYST,
    "SetSegmentOwner": ANALYST,
    "SubmitSegmentation": ANALYST,
    "CancelSegmentationRun": ANALYST,
    "CreateSegmentationSchedule": ANALYST,
    "DeleteSegmentationSchedule": ANALYST,
    "CreatePortfolio": ANALYST,
    "SetPortfolioCellOwner": ANALYST,
    "DeletePortfolio": ANALYST,
    "SetSegmentTreatment": ANALYST,
    "SetPortfolioCellTreatment": ANALYST,
}  # Any other operation needs ADMIN: a new operation is closed until it is listed here.

WRONG_CREDENTIALS = "unknown username or wrong password"
MIN_PASSWORD_LENGTH = 8
MAX_NONCE_BYTES = 64
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", re.ASCII)
# OWASP's baseline Argon2id parameters (19 MiB, 2 passes, 1 lane): a few tens of
# milliseconds per check, so eight request threads stay affordable on a small server.
# Each hash records its parameters, so they can be raised later without a migration.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class PasswordType(Enum):
    TEXT = "PasswordText"
    DIGEST = "PasswordDigest"


@dataclass(frozen=True)
class UsernameToken:
    """A wsse:UsernameToken as sent: ``nonce`` is the Base64 text, ``created`` the text hashed."""

    username: str
    password: str
    password_type: PasswordType = PasswordType.TEXT
    nonce: str | None = None
    created: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who made the request, once authenticated (the SOAP layer keeps it in ``ctx.udc``)."""

    username: str
    role: str


@dataclass(frozen=True)
class User:
    """A user as administrators see it: never a secret."""

    username: str
    role: str
    created_at: datetime


class UserAdministrationError(Exception):
    """A user command that cannot be carried out (unknown user or role, duplicate, bad value)."""


# ----------------------------------------------------------------- roles


def minimum_role(operation: str) -> str:
    return MINIMUM_ROLE.get(operation, ADMIN)


def authorize(caller: Caller, operation: str) -> None:
    """AccessDenied unless the caller's role ranks at least the operation's minimum role."""
    rank = ROLES.index(caller.role) if caller.role in ROLES else -1
    if rank < ROLES.index(minimum_role(operation)):
        raise AccessDenied(operation, caller.role)


# ------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _unknown_user_hash() -> str:
    """Checked against when the username is unknown, so that costs as much as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def password_digest(password: str, nonce: bytes, created: str) -> str:
    """WSS UsernameToken Profile 1.1: Base64(SHA-1(nonce + created + password))."""
    digest = hashlib.sha1(nonce + created.encode("utf-8") + password.encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def decode_nonce(text: str) -> bytes:
    try:
        nonce = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed("the Nonce is not Base64") from None
    if not 0 < len(nonce) <= MAX_NONCE_BYTES:
        raise AuthenticationFailed(f"the Nonce must hold 1 to {MAX_NONCE_BYTES} bytes")
    return nonce


def parse_created(text: str) -> datetime:
    """An xsd:dateTime as an aware UTC datetime; without an offset it is taken as UTC."""
    try:
        if not _DATETIME.fullmatch(text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AuthenticationFailed(f"Created is not an xsd:dateTime: {text[:40]!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def check_created(created: datetime, now: datetime, window: timedelta) -> None:
    """Created may lie up to ``window`` before or after ``now`` (clock skew), edges included."""
    if abs(now - created) > window:
        seconds = int(window.total_seconds())
        raise AuthenticationFailed(
            f"Created {created.isoformat()} is more than {seconds} seconds from the "
            f"server's time {now.replace(microsecond=0).isoformat()}"
        )


# -------------------------------------------------------- authentication


class _VerifiedPasswords:
    """PasswordText passwords this process has verified recently, to skip Argon2 on repeats.

    An entry holds an HMAC of the password under a random per-process key (never the
    password) and the stored hash it was verified against, so a changed password
    invalidates it at once. Entries expire after ``seconds``; the oldest goes when full.
    """

    MAX_ENTRIES = 1024

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._key = secrets.token_bytes(32)
        self._entries: dict[str, tuple[str, bytes, float]] = {}
        self._lock = threading.Lock()

    def _mac(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode("utf-8"), hashlib.sha256).digest()

    def holds(self, user: UserRecord, password: str) -> bool:
        with self._lock:
            entry = self._entries.get(user.username)
        if entry is None:
            return False
        password_hash, mac, expires = entry
        fresh = password_hash == user.password_hash and time.monotonic() < expires
        return fresh and hmac.compare_digest(mac, self._mac(password))

    def add(self, user: UserRecord, password: str) -> None:
        if self._seconds <= 0:
            return
        entry = (user.password_hash, self._mac(password), time.monotonic() + self._seconds)
        with self._lock:
            self._entries.pop(user.username, None)
            if len(self._entries) >= self.MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]
            self._entries[user.username] = entry


class Authenticator:
    """Checks UsernameTokens against the users in the store.

    The user is read on every call, so removing a user or changing a role takes effect
    at once; only the slow Argon2 check of a PasswordText password is skipped for
    ``cache_seconds`` after it succeeded (see ``_VerifiedPasswords``).
    """

    def __init__(
        self,
        cipher: PasswordCipher,
        window_seconds: int = 300,
        now: Clock = utc_now,
        cache_seconds: float = 300.0,
    ) -> None:
        self._cipher = cipher
        self._window = timedelta(seconds=window_seconds)
        self._now = now
        self._verified = _VerifiedPasswords(cache_seconds)
        self._purged_at: datetime | None = None

    def authenticate(self, token: UsernameToken | None, uow: UnitOfWork) -> Caller:
        if token is None:
            raise AuthenticationFailed("a WS-Security UsernameToken is required")
        if token.password_type is PasswordType.DIGEST:
            return self._check_digest(token, uow)
        return self._check_text(token, uow)

    def _check_text(self, token: UsernameToken, uow: UnitOfWork) -> Caller:
        user = uow.read(lambda reads: reads.users.get(token.username))
        if user is None:
            verify_password(_unknown_user_hash(), token.password)
            raise AuthenticationFailed(WRONG_CREDENTIALS)
        if not self._verified.holds(user, token.password):
            if not verify_password(user.password_hash, token.password):
                raise AuthenticationFailed(WRONG_CREDENTIALS)
            self._verified.add(user, token.password)
        return Caller(user.username, user.role)

    def _check_digest(self, token: UsernameToken, uow: UnitOfWork) -> Caller:
        """The digest checked against the user's password, then its nonce recorded.

        Outside a transaction (``uow.read``): the user's read and the nonce's insert
        are single statements, the insert atomic on its own.
        """
        if token.nonce is None or token.created is None:
            raise AuthenticationFailed("a PasswordDigest token needs a Nonce and a Created time")
        nonce, created_text = decode_nonce(token.nonce), token.created.strip()
        created, now = parse_created(created_text), self._now()
        check_created(created, now, self._window)
        presented = "".join(token.password.split()).encode("utf-8")

        def check(reads: LookupReads) -> Caller:
            user = reads.users.get(token.username)
            password = None if user is None else self._cipher.decrypt(user.password_encrypted)
            expected = password_digest(password or "", nonce, created_text).encode("ascii")
            if user is None or not hmac.compare_digest(expected, presented):
                raise AuthenticationFailed(WRONG_CREDENTIALS)
            if self._purge_due(now):
                reads.nonces.purge(now - self._window)
            # Kept until Created has left the window too (Created may be ahead of now).
            if not reads.nonces.remember(nonce_key(nonce), max(now, created)):
                raise AuthenticationFailed("the Nonce has been used before: a replayed request")
            return Caller(user.username, user.role)

        return uow.read(check)

    def _purge_due(self, now: datetime) -> bool:
        """Whether to forget old nonces now: at most every tenth of the window per process.

        Nonces outside the window are never needed (their Created fails the window
        check), so purging is housekeeping, not a check: doing it on every request
        was a DELETE per call for nothing.
        """
        last = self._purged_at
        if last is not None and timedelta(0) <= now - last < self._window / 10:
            return False
        self._purged_at = now
        return True


def nonce_key(nonce: bytes) -> str:
    """How a nonce is stored: its SHA-256, so every Base64 spelling of it is the same key."""
    return hashlib.sha256(nonce).hexdigest()


# ------------------------------------------------------ user administration


def add_user(
    username: str,
    role: str,
    password: str,
    cipher: PasswordCipher,
    uow: UnitOfWork,
    now: Clock = utc_now,
) -> User:
    _check_username(username)
    _check_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserAdministrationError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    record = UserRecord(username, role, hash_password(password), cipher.encrypt(password), now())
    with uow:
        if not uow.users.add(record):
            raise UserAdministrationError(f"user {username!r} already exists")
        uow.commit()
    return User(record.username, record.role, record.created_at)


def list_users(uow: UnitOfWork) -> list[User]:
    with uow:
        return [User(u.username, u.role, u.created_at) for u in uow.users.all()]


def remove_user(username: str, uow: UnitOfWork) -> None:
    with uow:
        if not uow.users.remove(username):
            raise UserAdministrationError(f"no user {username!r}")
        uow.commit()


def set_role(username: str, role: str, uow: UnitOfWork) -> None:
    _check_role(role)
    with uow:
        if not uow.users.set_role(username, role):
            raise UserAdministrationError(f"no user {username!r}")
        uow.commit()


def _check_username(username: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise UserAdministrationError(
            f"invalid username {username!r}: 1 to 64 letters, digits or . _ @ + -, "
            "starting with a letter or digit"
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserAdministrationError(f"unknown role {role!r} (choose from {', '.join(ROLES)})")

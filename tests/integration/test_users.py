"""`segmentation-service users`, secrets at rest, the key file and the shared nonce table.

Every store test runs on SQLite and on a real PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import base64
import os
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from segmentation_service.cli import main
from segmentation_service.domain.errors import AuthenticationFailed
from segmentation_service.services.auth import (
    Authenticator,
    PasswordType,
    UsernameToken,
    add_user,
    nonce_key,
    password_digest,
)
from segmentation_service.store.database import Store
from segmentation_service.store.secret_key import (
    PasswordCipher,
    SecretKeyError,
    load_or_create_key_file,
)

PASSWORD = "a long enough secret"
KEY_FILE = Path("var/secret.key")


class Stdin:
    """Standard input that is not a terminal: one line, as from a pipe."""

    def __init__(self, text: str) -> None:
        self._text = text

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self._text


@pytest.fixture
def users_cli(
    database_url: str,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    """``users_cli(*argv, stdin=...)``: (status, stdout, stderr), in a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGMENTATION_SECRET_KEY", raising=False)

    def run(*argv: str, stdin: str = f"{PASSWORD}\n") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", Stdin(stdin))
        status = main(["--database-url", database_url, "users", *argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def user_rows(store: Store) -> list[Any]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT * FROM users ORDER BY username")))


# ------------------------------------------------------------------ the command


def test_users_add_list_set_role_and_remove(users_cli: Any) -> None:
    added = users_cli("add", "ana", "--role", "analyst")
    users_cli("add", "vera", "--role", "viewer", stdin="another long secret\n")
    changed = users_cli("set-role", "vera", "admin")
    status, listing, _ = users_cli("list")
    removed = users_cli("remove", "ana")
    _, after, _ = users_cli("list")

    assert added == (0, "added ana (analyst)\n", "")
    assert changed == (0, "vera is now admin\n", "")
    assert status == 0
    header, ana, vera = listing.splitlines()
    assert header.split() == ["username", "role", "created"]
    assert ana.split()[:2] == ["ana", "analyst"] and vera.split()[:2] == ["vera", "admin"]
    assert datetime.fromisoformat(ana.split()[2]).tzinfo is not None
    assert PASSWORD not in listing and "argon2" not in listing
    assert removed == (0, "removed ana\n", "")
    assert [line.split()[0] for line in after.splitlines()[1:]] == ["vera"]


def test_users_commands_refuse_duplicates_unknown_users_and_roles(users_cli: Any) -> None:
    users_cli("add", "ana", "--role", "analyst")

    duplicate = users_cli("add", "ana", "--role", "viewer")
    unknown_remove = users_cli("remove", "nobody")
    unknown_set = users_cli("set-role", "nobody", "viewer")
    with pytest.raises(SystemExit) as bad_role:
        users_cli("add", "bob", "--role", "superuser")

    assert duplicate == (1, "", "error: user 'ana' already exists\n")
    assert unknown_remove == (1, "", "error: no user 'nobody'\n")
    assert unknown_set == (1, "", "error: no user 'nobody'\n")
    assert bad_role.value.code == 2


@pytest.mark.parametrize(
    ("username", "stdin", "message"),
    [
        ("bob", "short\n", "at least 8 characters"),
        ("bob", "", "at least 8 characters"),
        ("bad name", f"{PASSWORD}\n", "invalid username"),
    ],
    ids=["short-password", "no-password", "bad-username"],
)
def test_users_add_refuses_bad_values_and_stores_nothing(
    users_cli: Any, store: Store, username: str, stdin: str, message: str
) -> None:
    status, out, err = users_cli("add", username, "--role", "viewer", stdin=stdin)

    assert (status, out) == (1, "")
    assert err.startswith("error: ") and message in err
    assert user_rows(store) == []


class Terminal(Stdin):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("answers", "status", "rows"),
    [(["same secret value", "same secret value"], 0, 1), (["first value", "second value"], 1, 0)],
    ids=["match", "mismatch"],
)
def test_users_add_on_a_terminal_asks_twice_hidden_and_refuses_a_mismatch(
    users_cli: Any,
    database_url: str,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answers: list[str],
    status: int,
    rows: int,
) -> None:
    prompts: list[str] = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return answers[len(prompts) - 1]

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr("sys.stdin", Terminal("never read\n"))

    result = main(["--database-url", database_url, "users", "add", "ada", "--role", "admin"])

    assert result == status
    assert len(prompts) == 2
    assert len(user_rows(store)) == rows
    if status:
        assert "differ" in capsys.readouterr().err


# ------------------------------------------------------------ secrets at rest


def test_passwords_are_stored_hashed_and_encrypted_never_in_plain_text(
    users_cli: Any, store: Store
) -> None:
    users_cli("add", "ana", "--role", "analyst")

    (row,) = user_rows(store)
    stored = " ".join(str(value) for value in row)
    key = KEY_FILE.read_bytes()

    assert PASSWORD not in stored
    assert PASSWORD.encode() not in base64.urlsafe_b64decode(row.password_encrypted + "==")
    assert row.password_hash.startswith("$argon2id$")
    assert PasswordCipher(key).decrypt(row.password_encrypted) == PASSWORD
    with pytest.raises(SecretKeyError):
        PasswordCipher(Fernet.generate_key()).decrypt(row.password_encrypted)


def test_the_key_file_is_created_once_with_mode_0600(users_cli: Any) -> None:
    users_cli("add", "ana", "--role", "analyst")
    first = KEY_FILE.read_bytes()
    users_cli("add", "vera", "--role", "viewer")

    assert stat.S_IMODE(KEY_FILE.stat().st_mode) == 0o600
    assert KEY_FILE.read_bytes() == first
    assert [p.name for p in KEY_FILE.parent.iterdir() if p.name.startswith(".")] == []


def test_the_configured_secret_key_is_used_instead_of_a_key_file(
    users_cli: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key()
    monkeypatch.setenv("SEGMENTATION_SECRET_KEY", key.decode())

    users_cli("add", "ana", "--role", "analyst")

    (row,) = user_rows(store)
    assert not KEY_FILE.exists()
    assert PasswordCipher(key).decrypt(row.password_encrypted) == PASSWORD


def test_a_malformed_configured_key_is_a_clear_error(
    users_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGMENTATION_SECRET_KEY", "not-a-fernet-key")

    status, _, err = users_cli("add", "ana", "--role", "analyst")

    assert status == 1
    assert "SEGMENTATION_SECRET_KEY is not a Fernet key" in err and "not-a-fernet-key" not in err


def test_key_file_created_concurrently_yields_one_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"
    keys: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: keys.append(load_or_create_key_file(path)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8 and len(set(keys)) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.key"]


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    load_or_create_key_file(path)
    os.chmod(path, 0o644)

    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_or_create_key_file(path)


# ------------------------------------------------------------- shared nonces


def digest_token(created: datetime, nonce: bytes = b"sixteen byte nce") -> UsernameToken:
    text = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return UsernameToken(
        "ana",
        password_digest(PASSWORD, nonce, text),
        PasswordType.DIGEST,
        base64.b64encode(nonce).decode(),
        text,
    )


def test_a_nonce_used_through_one_store_is_refused_through_another(
    store: Store, database_url: str
) -> None:
    cipher = PasswordCipher(Fernet.generate_key())
    add_user("ana", "analyst", PASSWORD, cipher, store.unit_of_work())
    other = Store(database_url)  # another worker process's engine on the same database
    now = datetime.now(timezone.utc).replace(microsecond=0)
    token = digest_token(now)
    try:
        first = Authenticator(cipher, 300).authenticate(token, store.unit_of_work())
        with pytest.raises(AuthenticationFailed, match="used before"):
            Authenticator(cipher, 300).authenticate(token, other.unit_of_work())
        fresh = Authenticator(cipher, 300).authenticate(
            digest_token(now, b"another nonce"), other.unit_of_work()
        )
    finally:
        other.dispose()

    assert (first.username, first.role) == ("ana", "analyst")
    assert fresh == first


def stored_nonces(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        return set(connection.scalars(sa.text("SELECT nonce FROM used_nonces")))


def test_nonces_are_kept_while_their_created_is_in_the_window_then_purged(store: Store) -> None:
    cipher = PasswordCipher(Fernet.generate_key())
    add_user("ana", "analyst", PASSWORD, cipher, store.unit_of_work())
    start = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    clock = [start]
    authenticator = Authenticator(cipher, 60, now=lambda: clock[0])

    def authenticate_at(seconds: int, created_ahead: int = 0) -> str:
        clock[0] = start + timedelta(seconds=seconds)
        nonce = f"nonce at {seconds}, Created {created_ahead} s ahead".encode()
        created = clock[0] + timedelta(seconds=created_ahead)
        authenticator.authenticate(digest_token(created, nonce), store.unit_of_work())
        return nonce_key(nonce)

    at_0 = authenticate_at(0)
    # A client clock 50 s ahead: this Created passes the window check until 110 s.
    at_0_ahead = authenticate_at(0, created_ahead=50)
    at_61 = authenticate_at(61)  # purges what was seen before 1 s
    kept = stored_nonces(store)
    at_112 = authenticate_at(112)  # purges what was seen before 52 s

    assert kept == {at_0_ahead, at_61}
    assert stored_nonces(store) == {at_61, at_112}
    assert at_0 not in kept

"""The service's secret key, and the cipher that keeps recoverable passwords encrypted at rest.

PasswordDigest (Base64(SHA1(nonce + created + password))) can only be checked with the
password itself, so each user's password is stored encrypted with Fernet (AES-128-CBC and
HMAC-SHA256, from ``cryptography``) under this key; never in plain text.

The key is ``SEGMENTATION_SECRET_KEY`` when set (a Fernet key: 32 url-safe base64-encoded
bytes). Otherwise it is read from a key file, generated on first use with mode 0600: written
to a private temporary file in the same directory, then hard-linked into place, which fails
when the file already exists. So two processes starting at once never see a half-written
key, and both end up with the one key that was linked first. A key file that others may
read is refused. Standard library and ``cryptography`` only.
"""

from __future__ import annotations

import binascii
import os
import stat
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

HOW_TO_MAKE_A_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretKeyError(Exception):
    """The secret key is missing, malformed, exposed, or not the one the data was encrypted with."""


def fernet(key: bytes | str, source: str) -> Fernet:
    """A Fernet for ``key``; a clear error naming ``source`` when it is not a Fernet key."""
    try:
        return Fernet(key.strip())
    except (ValueError, binascii.Error):
        raise SecretKeyError(
            f"{source} is not a Fernet key (32 url-safe base64-encoded bytes); "
            f"make one with: {HOW_TO_MAKE_A_KEY}"
        ) from None


def load_or_create_key_file(path: Path) -> bytes:
    """The key in ``path``, generating the file (mode 0600) when it does not exist yet."""
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"{path} may be read by others (mode {mode:04o}); make it private: chmod 600 {path}"
        )
    key = path.read_bytes().strip()
    fernet(key, str(path))
    return key


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".secret-key-", dir=path.parent)  # 0600
    try:
        with os.fdopen(descriptor, "wb") as output:
            output.write(Fernet.generate_key() + b"\n")
            output.flush()
            os.fsync(output.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process created it first: use theirs
    finally:
        os.unlink(temporary)


class PasswordCipher:
    """Encrypts passwords for storage and gives them back for PasswordDigest checks.

    Decrypted passwords are kept by their encrypted text (up to ``remembered`` of
    them): Fernet's HMAC and AES were a tenth of a PasswordDigest call. This exposes
    nothing new: whoever can read this process's memory reads the key that decrypts
    them too. A changed password is a new encrypted text, so it is never served stale.
    """

    def __init__(
        self, key: bytes | str, source: str = "the secret key", remembered: int = 1024
    ) -> None:
        self._fernet = fernet(key, source)
        self._decrypted: dict[str, str] = {}
        self._remembered = remembered

    @classmethod
    def from_settings(cls, configured: str | None, key_file: Path) -> PasswordCipher:
        """``configured`` (SEGMENTATION_SECRET_KEY) when given, else the key file."""
        if configured:
            return cls(configured, "SEGMENTATION_SECRET_KEY")
        return cls(load_or_create_key_file(key_file), str(key_file))

    def encrypt(self, password: str) -> str:
        return self._fernet.encrypt(password.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        known = self._decrypted.get(token)
        if known is not None:
            return known
        try:
            password = self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretKeyError(
                "a stored password cannot be decrypted: the secret key is not the one it "
                "was encrypted with (check SEGMENTATION_SECRET_KEY or var/secret.key)"
            ) from None
        if len(self._decrypted) >= self._remembered:
            self._decrypted.clear()  # rarely: more users than that calling with digests
        self._decrypted[token] = password
        return password

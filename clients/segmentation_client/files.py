"""Writing output files all at once or not at all."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class OutputFileError(Exception):
    """An output file could not be written; the message names it."""


def _failure(target: Path, error: OSError) -> OutputFileError:
    return OutputFileError(f"{target}: cannot write: {error.strerror or error}")


class OutputFile:
    """A text file opened for writing whose OS errors name the target file.

    (Network errors are OSErrors too: the distinction keeps a full disk from
    being reported as an unreachable service, and the other way round.)
    """

    def __init__(self, file: TextIO, target: Path) -> None:
        self._file = file
        self._target = target

    def write(self, text: str) -> int:
        try:
            return self._file.write(text)
        except OSError as error:
            raise _failure(self._target, error) from None


@contextmanager
def atomic_text_file(path: str | Path, *, newline: str | None = None) -> Iterator[OutputFile]:
    """Write `path` through a hidden temporary file renamed over it when the block succeeds.

    The temporary file is created in the target's directory (so the rename is
    atomic) with the usual permissions (0666 less the umask), flushed to disk
    before the rename, and removed when the block raises: a failed or
    interrupted write leaves no half file behind, and an existing file stays
    as it was.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise _failure(target, error) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline=newline) as file:
            yield OutputFile(file, target)
            try:
                file.flush()
                os.fsync(file.fileno())
            except OSError as error:
                raise _failure(target, error) from None
        try:
            os.replace(temporary, target)
        except OSError as error:
            raise _failure(target, error) from None
    finally:
        # After a successful rename the temporary name is gone already.
        temporary.unlink(missing_ok=True)

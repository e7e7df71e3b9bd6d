"""Reading a CSV file as spreadsheets and CRMs save it: its encoding, delimiter and records.

``check_file`` decodes the whole file once, before anything is imported, so a
file in another encoding than the one given is refused as a whole (naming the
line and the byte), never half loaded. It also counts the lines (the progress
bar's total) and picks the delimiter: the one of ``, ; tab |`` that occurs most
often in the header line (the first of them on a tie; a comma when none
occurs). ``RecordReader`` then reads the records in batches, each record with the
line it starts on; a
quoted field may hold delimiters and line breaks (RFC 4180). Standard library only.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TextIO

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
DEFAULT_ENCODING = "utf-8"
_BLOCK = 1 << 20
_CONTEXT = 30  # characters of the line shown before an undecodable byte
_NOT_CSV = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an Excel .xls workbook",
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class CsvFileError(ValueError):
    """A file that cannot be imported at all: the message says why, ``hint`` what to try."""

    def __init__(self, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.hint = hint


class UnreadableRecord(ValueError):
    """A record the CSV reader gives up on; ``line`` is where the record starts."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line


@dataclass(frozen=True)
class CsvFile:
    """A file that decodes in ``encoding`` from start to end (a UTF-8 BOM is skipped)."""

    path: Path
    encoding: str  # a Python codec name
    delimiter: str
    data_lines: int  # lines after the header; a quoted field may span several

    def open(self) -> TextIO:
        return self.path.open(newline="", encoding=self.encoding)


def text_encoding(name: str | None) -> str:
    """The codec to decode with: ``name`` checked, and UTF-8 made to accept a BOM."""
    name = name or DEFAULT_ENCODING
    try:
        codec = codecs.lookup(name).name
        "".encode(codec)  # LookupError for codecs that are not text encodings (hex, zlib)
    except LookupError:
        raise CsvFileError(
            f"--encoding {name!r}: not a text encoding Python knows",
            "e.g. utf-8 (the default), cp1252, latin-1, utf-16",
        ) from None
    return "utf-8-sig" if codec == "utf-8" else codec


def detect_delimiter(header: str) -> str:
    """The candidate that occurs most often in ``header``; a comma when none does."""
    counts = [header.count(candidate) for candidate in DELIMITERS]
    best = max(counts)
    return DELIMITERS[counts.index(best)] if best else ","


def describe_delimiter(delimiter: str) -> str:
    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


def check_file(path: Path, encoding: str | None = None, delimiter: str | None = None) -> CsvFile:
    """Decode ``path`` in full; raise ``CsvFileError`` if it cannot be read or decoded."""
    codec = text_encoding(encoding)
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise CsvFileError(f"--delimiter {delimiter!r}: give one character other than a quote")
    try:
        header, lines = _decode_all(path, codec)
    except OSError as error:
        raise CsvFileError(f"cannot read {path}: {error.strerror or error}") from None
    return CsvFile(path, codec, delimiter or detect_delimiter(header), max(lines - 1, 0))


def _decode_all(path: Path, codec: str) -> tuple[str, int]:
    """The header line and the number of lines (a last line without line break counts)."""
    decoder = codecs.getincrementaldecoder(codec)()
    head, lines, tail, last = "", 0, "", ""
    with path.open("rb") as handle:
        start = handle.read(_BLOCK)
        for signature, what in _NOT_CSV.items():
            if start.startswith(signature):
                raise CsvFileError(
                    f"{path}: this is {what}, not a CSV file",
                    "save it as CSV (in Excel: File > Save As > CSV UTF-8)",
                )
        block = start
        while True:
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                raise _undecodable(path, codec, error, lines, tail, start) from None
            if "\n" not in head and len(head) < _BLOCK:
                head += text
            lines += text.count("\n")
            tail = text.rsplit("\n", 1)[-1] if "\n" in text else tail + text
            tail, last = tail[-_CONTEXT:], (text[-1:] or last)
            if not block:
                break
            block = handle.read(_BLOCK)
    if last not in ("", "\n"):
        lines += 1
    return head.split("\n", 1)[0].rstrip("\r"), lines


def _undecodable(
    path: Path, codec: str, error: UnicodeDecodeError, lines: int, tail: str, start: bytes
) -> CsvFileError:
    """Where the first byte that is not valid in ``codec`` lies, and what to try instead."""
    before = error.object[: error.start].decode(codec, errors="replace")
    line = lines + before.count("\n") + 1
    context = (tail + before).rsplit("\n", 1)[-1][-_CONTEXT:]
    bad = error.object[error.start : error.end]
    shown = " ".join(f"0x{byte:02X}" for byte in bad)
    where = f' after "{context}"' if context else " at the start of the line"
    name = "UTF-8" if codec == "utf-8-sig" else codec
    if codec == "utf-8-sig" and start.startswith(_UTF16_BOMS):
        hint = "the file starts with a UTF-16 byte order mark: try --encoding utf-16"
    elif codec == "utf-8-sig":
        hint = (
            "if it was saved by Excel or another Windows program, try --encoding cp1252 "
            "(latin-1 for other Western European files)"
        )
    else:
        hint = "give the encoding the file was saved in with --encoding (the default is utf-8)"
    return CsvFileError(
        f"{path}:{line}: {'byte' if len(bad) == 1 else 'bytes'} {shown}{where} "
        f"{'is' if len(bad) == 1 else 'are'} not valid {name}",
        hint,
    )


@dataclass(frozen=True)
class RecordBatch:
    """Consecutive records, each with the line it starts on; ``unreadable``: the record
    after them, which the reader gave up on (nothing can be read past it)."""

    records: list[list[str]]
    lines: list[int]
    unreadable: UnreadableRecord | None = None


class RecordReader:
    """A file's records in batches, numbered by the line each starts on.

    A blank line is an empty record. Reading a batch is one loop of three steps per
    record (the import reads millions): no generator, no tuple per record.
    """

    def __init__(self, handle: TextIO, delimiter: str) -> None:
        self._reader = csv.reader(handle, delimiter=delimiter)
        self._line = 1  # where the next record starts
        self.finished = False

    def batch(self, size: int) -> RecordBatch:
        """Up to ``size`` records; fewer at the end of the file, or before one the reader
        gives up on (a field over the size limit, or bytes that no longer decode because
        the file changed meanwhile): then ``unreadable`` says where, and reading stops."""
        records: list[list[str]] = []
        lines: list[int] = []
        reader, append, number = self._reader, records.append, lines.append
        line = self._line
        unreadable = None
        if not self.finished:
            try:
                for fields in islice(reader, size):
                    append(fields)
                    number(line)
                    line = reader.line_num + 1
            except (csv.Error, UnicodeDecodeError) as error:
                unreadable = UnreadableRecord(line, str(error))
        self._line = line
        self.finished = self.finished or unreadable is not None or len(records) < size
        return RecordBatch(records, lines, unreadable)

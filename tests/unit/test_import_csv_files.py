"""csv_files: encodings checked in full, delimiters found, records numbered by their first line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from segmentation_service.services import csv_files
from segmentation_service.services.csv_files import (
    CsvFileError,
    RecordReader,
    check_file,
    detect_delimiter,
    text_encoding,
)


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("customer_id,name", ","),
        ("customer_id;name;country", ";"),
        ("customer_id\tname", "\t"),
        ("customer_id|name", "|"),
        ('"customer_id";"name"', ";"),
        ("customer_id", ","),  # one column: nothing to detect
        ("", ","),
        ("a;b,c", ","),  # a tie goes to the first of , ; tab |
        ("a;b;c,d", ";"),
    ],
)
def test_the_delimiter_is_the_candidate_found_most_often_in_the_header(
    header: str, delimiter: str
) -> None:
    assert detect_delimiter(header) == delimiter


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        (None, "utf-8-sig"),
        ("UTF8", "utf-8-sig"),
        ("utf-8-sig", "utf-8-sig"),
        ("latin-1", "iso8859-1"),
        ("Windows-1252", "cp1252"),
        ("utf-16", "utf-16"),
    ],
)
def test_encodings_are_looked_up_and_utf_8_accepts_a_byte_order_mark(
    name: str | None, codec: str
) -> None:
    assert text_encoding(name) == codec


@pytest.mark.parametrize("name", ["klingon", "hex", "zlib", "rot13"])
def test_names_that_are_no_text_encoding_are_refused(name: str) -> None:
    with pytest.raises(CsvFileError, match=f"--encoding '{name}': not a text encoding"):
        text_encoding(name)


@pytest.mark.parametrize(
    ("text", "data_lines"),
    [("", 0), ("a,b", 0), ("a,b\n", 0), ("a,b\n1,2", 1), ("a,b\r\n1,2\r\n", 1), ("a\n\n\n", 2)],
)
def test_check_file_counts_the_lines_after_the_header(
    tmp_path: Path, text: str, data_lines: int
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text, newline="")
    assert check_file(path).data_lines == data_lines


def test_an_undecodable_byte_far_into_a_file_is_placed_on_its_line(tmp_path: Path) -> None:
    lines = [f"C{i},Zoë Müller {i}".encode() for i in range(200_000)]  # ~4 MB, many blocks
    lines[150_000] = b"C150000,Caf\xe9 Paris"
    path = tmp_path / "big.csv"
    path.write_bytes(b"customer_id,name\n" + b"\n".join(lines) + b"\n")

    with pytest.raises(CsvFileError) as caught:
        check_file(path)

    assert str(caught.value) == (f'{path}:150002: byte 0xE9 after "C150000,Caf" is not valid UTF-8')
    assert caught.value.hint is not None and "--encoding cp1252" in caught.value.hint


@pytest.mark.parametrize("shift", [-2, -1, 0, 1])
def test_a_character_split_between_two_blocks_decodes(tmp_path: Path, shift: int) -> None:
    head = b"customer_id,name\nC1,"
    padding = b"x" * (csv_files._BLOCK - len(head) + shift)
    path = tmp_path / "f.csv"
    path.write_bytes(head + padding + "€ and ë\nC2,ok\n".encode())

    assert check_file(path).data_lines == 2


def test_an_undecodable_byte_right_after_a_block_boundary_is_found(tmp_path: Path) -> None:
    head = b"customer_id,name\n"
    padding = b"C1," + b"y" * (csv_files._BLOCK - len(head) - 4) + b"\n"  # ends the block
    path = tmp_path / "f.csv"
    path.write_bytes(head + padding + b"\xffC2,x\n")

    with pytest.raises(CsvFileError, match=r":3: byte 0xFF at the start of the line is not"):
        check_file(path)


def test_a_truncated_multibyte_character_at_the_end_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"customer_id,name\nC1,caf\xc3")

    with pytest.raises(CsvFileError, match=r'f\.csv:2: byte 0xC3 after "C1,caf" is not valid'):
        check_file(path)


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_records_carry_the_line_they_start_on(size: int) -> None:
    text = 'h1;h2\r\n"a\r\nb";c\r\n\r\n"x;y";"1\n2\n3"\nlast;row'
    reader = RecordReader(io.StringIO(text, newline=""), ";")

    found: list[tuple[int, list[str]]] = []
    while not reader.finished:
        batch = reader.batch(size)
        assert batch.unreadable is None and len(batch.records) <= size
        found += zip(batch.lines, batch.records, strict=True)

    assert found == [
        (1, ["h1", "h2"]),
        (2, ["a\r\nb", "c"]),
        (4, []),
        (5, ["x;y", "1\n2\n3"]),
        (8, ["last", "row"]),
    ]


def test_a_record_the_reader_gives_up_on_is_unreadable_at_its_first_line() -> None:
    huge = "z" * (csv.field_size_limit() + 1)
    handle = io.StringIO(f'h1,h2\nok,1\n"start\n{huge}",2\nnever,read\n', newline="")
    reader = RecordReader(handle, ",")

    batch = reader.batch(10)

    assert list(zip(batch.lines, batch.records, strict=True)) == [
        (1, ["h1", "h2"]),
        (2, ["ok", "1"]),
    ]
    assert batch.unreadable is not None and batch.unreadable.line == 3
    assert "field larger than field limit" in str(batch.unreadable)
    assert reader.finished and reader.batch(10).records == []


def test_a_file_that_cannot_be_read_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(CsvFileError, match="cannot read .*: Is a directory"):
        check_file(tmp_path)

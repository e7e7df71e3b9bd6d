"""`segmentation-service import` of files as CRMs and spreadsheets save them.

Encodings other than UTF-8, semicolon-, tab- and pipe-separated files, and
quoted fields holding delimiters and line breaks: what the user sees, and what
is stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from segmentation_service.cli import main

LATIN_1 = "customer_id,name,country\nC1,Acme,DE\nC2,Café Paris,FR\nC3,Zoë Müller,AT\n"
CP1252_HINT = (
    "hint: if it was saved by Excel or another Windows program, try --encoding cp1252 "
    "(latin-1 for other Western European files)"
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(sa.text(query))]
    engine.dispose()
    return found


def names(url: str) -> list[tuple[object, ...]]:
    return rows(url, "SELECT customer_id, name FROM customers ORDER BY customer_id")


def run(url: str, *arguments: str) -> int:
    return main(["--database-url", url, "import", *arguments])


def test_a_latin_1_file_is_refused_as_a_whole_naming_the_line_the_byte_and_the_encoding_to_try(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "customers.csv", LATIN_1.encode("latin-1"))
    assert main(["--database-url", url, "init-db"]) == 0
    capsys.readouterr()

    status = run(url, "--customers", str(path))

    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.splitlines() == [
        f'error: {path}:3: byte 0xE9 after "C2,Caf" is not valid UTF-8; nothing was imported',
        CP1252_HINT,
    ]
    assert names(url) == []  # line 2 was valid, yet nothing is half loaded


def test_an_undecodable_transactions_file_stops_the_import_before_customers_load(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = write(tmp_path, "customers.csv", b"customer_id,name\nC1,Acme\n")
    transactions = write(
        tmp_path,
        "transactions.csv",
        b"transaction_id,customer_id,occurred_at,amount,category\nT1,C1,2025-01-10,10,Caf\xe9\n",
    )

    status = run(url, "--customers", str(customers), "--transactions", str(transactions))

    assert status == 2
    assert "transactions.csv:2: byte 0xE9" in capsys.readouterr().err
    assert not (tmp_path / "store.db").exists()  # the store was not even opened


@pytest.mark.parametrize(
    ("encoding", "text", "stored"),
    [
        ("latin-1", LATIN_1, "Café Paris"),
        ("cp1252", LATIN_1.replace("Café Paris", "Café “Paris” €"), "Café “Paris” €"),
        ("utf-16", LATIN_1.replace(",", "\t"), "Café Paris"),  # Excel's "Unicode Text"
    ],
)
def test_a_file_imports_in_the_encoding_it_was_saved_in(
    tmp_path: Path,
    url: str,
    capsys: pytest.CaptureFixture[str],
    encoding: str,
    text: str,
    stored: str,
) -> None:
    path = write(tmp_path, "customers.csv", text.encode(encoding))

    assert run(url, "--customers", str(path), "--encoding", encoding) == 0

    assert capsys.readouterr().err == ""
    assert names(url) == [("C1", "Acme"), ("C2", stored), ("C3", "Zoë Müller")]


def test_a_utf_8_file_imports_with_or_without_a_byte_order_mark(tmp_path: Path, url: str) -> None:
    plain = write(tmp_path, "plain.csv", "customer_id,name\nC1,Café\n".encode())
    marked = write(tmp_path, "marked.csv", "customer_id,name\nC2,Zoë\n".encode("utf-8-sig"))

    assert run(url, "--customers", str(plain)) == 0
    assert run(url, "--customers", str(marked), "--encoding", "UTF-8") == 0

    assert names(url) == [("C1", "Café"), ("C2", "Zoë")]


def test_a_utf_16_file_given_as_utf_8_gets_the_utf_16_hint(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "customers.csv", "customer_id\tname\nC1\tCafé\n".encode("utf-16"))

    assert run(url, "--customers", str(path)) == 2

    assert capsys.readouterr().err.splitlines()[1] == (
        "hint: the file starts with a UTF-16 byte order mark: try --encoding utf-16"
    )


def test_bytes_not_valid_in_the_given_encoding_are_refused_too(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "c.csv", b"customer_id,name\nC1,Acme\nC2,bad \x81 byte\n")

    assert run(url, "--customers", str(path), "--encoding", "cp1252") == 2

    assert capsys.readouterr().err.splitlines() == [
        f'error: {path}:3: byte 0x81 after "C2,bad " is not valid cp1252; nothing was imported',
        "hint: give the encoding the file was saved in with --encoding (the default is utf-8)",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--encoding", "klingon"],
            "error: --encoding 'klingon': not a text encoding Python knows; nothing was imported",
        ),
        (
            ["--encoding", "hex"],
            "error: --encoding 'hex': not a text encoding Python knows; nothing was imported",
        ),
        (
            ["--delimiter", ";;"],
            "error: --delimiter ';;': give one character other than a quote; nothing was imported",
        ),
    ],
)
def test_unusable_encoding_and_delimiter_options_are_clear_errors(
    tmp_path: Path,
    url: str,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    path = write(tmp_path, "c.csv", b"customer_id,name\nC1,Acme\n")

    assert run(url, "--customers", str(path), *arguments) == 2

    assert capsys.readouterr().err.splitlines()[0] == message


def test_a_missing_file_and_an_excel_workbook_are_clear_errors(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.csv"
    workbook = write(tmp_path, "customers.xlsx", b"PK\x03\x04\x14\x00\x06\x00" + bytes(64))

    assert run(url, "--customers", str(missing)) == 2
    assert capsys.readouterr().err == (
        f"error: cannot read {missing}: No such file or directory; nothing was imported\n"
    )
    assert run(url, "--customers", str(workbook)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {workbook}: this is a ZIP archive (an Excel .xlsx workbook?), not a CSV file; "
        "nothing was imported",
        "hint: save it as CSV (in Excel: File > Save As > CSV UTF-8)",
    ]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"], ids=["semicolon", "tab", "pipe"])
def test_the_delimiter_is_found_from_the_header_line(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str], delimiter: str
) -> None:
    # What Excel writes in most European locales: decimal commas, so ; between fields.
    customers = write(
        tmp_path,
        "customers.csv",
        "customer_id;name;annual_revenue;country\nC1;Acme, Inc.;1200.5;DE\nC2;Café;;FR\n".replace(
            ";", delimiter
        ).encode(),
    )
    transactions = write(
        tmp_path,
        "transactions.csv",
        "transaction_id;customer_id;occurred_at;amount\nT1;C1;2025-01-10;10.5\n".replace(
            ";", delimiter
        ).encode(),
    )

    status = run(url, "--customers", str(customers), "--transactions", str(transactions))

    assert (status, capsys.readouterr().err) == (0, "")
    assert rows(
        url, "SELECT customer_id, name, annual_revenue, country FROM customers ORDER BY 1"
    ) == [
        ("C1", "Acme, Inc.", 1200.5, "DE"),
        ("C2", "Café", None, "FR"),
    ]
    assert rows(url, "SELECT transaction_id, amount FROM transactions") == [("T1", 10.5)]


def test_a_given_delimiter_wins_and_a_wrong_one_gets_a_hint(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    semicolons = write(tmp_path, "c.csv", b"customer_id;name\nC1;Acme\n")
    tabs = write(tmp_path, "t.csv", b"customer_id\tname\nC2\tA;B,C\n")

    assert run(url, "--customers", str(semicolons), "--delimiter", ",") == 1
    assert capsys.readouterr().err.splitlines() == [
        "rejected c.csv:1: missing required column(s): customer_id, name (the header holds no "
        "comma; is the delimiter a semicolon? see --delimiter)"
    ]
    assert run(url, "--customers", str(tabs), "--delimiter", "tab") == 0
    assert names(url) == [("C2", "A;B,C")]


def test_quoted_fields_hold_delimiters_and_line_breaks_and_rejections_name_the_line_a_row_starts(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "customer_id;name;industry;employee_count\r\n"  # line 1
        'C1;"Acme; ""the"" rocket company";"Aero\r\nspace";10\r\n'  # lines 2-3
        'C2;"Bad\nEmployees\nLtd";Retail;many\r\n'  # lines 4-6
        "\r\n"  # line 7, blank
        'C3;"Jane\r\n\r\nDoe";;\r\n'  # lines 8-10
        "C1;Duplicate;;\r\n"  # line 11
        "C4;Too;many;fields;here\r\n"  # line 12
    )
    path = write(tmp_path, "customers.csv", text.encode())

    assert run(url, "--customers", str(path)) == 1

    assert capsys.readouterr().err.splitlines() == [
        "rejected customers.csv:4: employee_count: not a number ('many')",
        "rejected customers.csv:11: duplicate customer_id, first on line 2",
        "rejected customers.csv:12: wrong number of fields (5, the header has 4)",
    ]
    assert rows(url, "SELECT customer_id, name, industry FROM customers ORDER BY 1") == [
        ("C1", 'Acme; "the" rocket company', "Aero\r\nspace"),
        ("C3", "Jane\r\n\r\nDoe", None),
    ]


def test_an_undecodable_file_ends_the_installed_command_without_a_traceback(
    tmp_path: Path, url: str
) -> None:
    path = write(tmp_path, "customers.csv", LATIN_1.encode("latin-1"))

    done = subprocess.run(
        [sys.executable, "-m", "segmentation_service.cli", "--database-url", url, "import"]
        + ["--customers", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f'error: {path}:3: byte 0xE9 after "C2,Caf" is not valid UTF-8; nothing was imported',
        CP1252_HINT,
    ]

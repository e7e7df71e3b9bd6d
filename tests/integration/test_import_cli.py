"""`segmentation-service import` and `load-demo`: good rows load, bad rows are reported by line."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from segmentation_service.cli import main
from segmentation_service.services.csv_files import CsvFile, check_file
from segmentation_service.services.importing import import_files
from segmentation_service.store.database import Store

HEADER = ",".join(
    [
        "customer_id",
        "name",
        "customer_type",
        "industry",
        "employee_count",
        "annual_revenue",
        "region",
        "country",
        "birth_year",
        "preferred_channel",
        "signup_date",
        "acquisition_cost",
        "annual_cost_to_serve",
    ]
)
CUSTOMERS = (
    HEADER
    + """
C1,Acme GmbH,B2B,Manufacturing,120,5000000,North,DE,,Field Sales,2024-01-15,900,1200
C2,Jane Doe,B2C,,,,South,FR,1985,Online,2024-03-01T10:00:00Z,,
C3,Bad Employees,B2B,Retail,many,,West,NL,,,,,
,No Id,B2C,,,,,,,,,,
C5,Too Young,B2C,,,,East,PL,2999,,,,
C1,Duplicate Acme,B2B,,,,,,,,,,
C7,Bad Date,B2C,,,,,,,,2024-13-45,,
"""
)
TRANSACTIONS = """transaction_id,customer_id,occurred_at,amount,cost,channel,category
T1,C1,2025-01-10,1000.50,600,Field Sales,Hardware
T2,C1,2025-02-10T09:30:00+01:00,0,,,
T3,C2,2025-03-01,-20,,Online,Supplies
T4,C9,2025-03-01,50,,,
T5,C2,yesterday,50,,,
T6,C2,2025-03-02,abc,,,
"""
NEEDS = """customer_id,need,score,surveyed_at
C1,price,6,2025-06-01
C1,quality,3,
C2,price,nan,
C2,service,7,2025-06-01
C9,price,4,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(found)


def test_import_loads_good_rows_and_reports_each_bad_one_by_line(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "--database-url",
            url,
            "import",
            "--customers",
            str(write(tmp_path, "customers.csv", CUSTOMERS)),
            "--transactions",
            str(write(tmp_path, "transactions.csv", TRANSACTIONS)),
            "--needs",
            str(write(tmp_path, "needs.csv", NEEDS)),
        ]
    )
    errors = capsys.readouterr().err.splitlines()
    assert status == 1
    assert errors == [
        "rejected customers.csv:4: employee_count: not a number ('many')",
        "rejected customers.csv:5: customer_id: is required",
        "rejected customers.csv:6: birth_year: must be between 1900 and "
        f"{__import__('datetime').date.today().year} (2999)",
        "rejected customers.csv:7: duplicate customer_id, first on line 2",
        "rejected customers.csv:8: signup_date: not an ISO 8601 date or date-time ('2024-13-45')",
        "rejected transactions.csv:5: customer_id: unknown customer 'C9'",
        "rejected transactions.csv:6: occurred_at: not an ISO 8601 date or date-time ('yesterday')",
        "rejected transactions.csv:7: amount: not a number ('abc')",
        "rejected needs.csv:4: score: not a finite number ('nan')",
        "rejected needs.csv:6: customer_id: unknown customer 'C9'",
    ]
    assert (count(url, "customers"), count(url, "transactions"), count(url, "need_responses")) == (
        2,
        3,
        3,
    )


def test_import_keeps_dates_and_time_zones_as_utc(tmp_path: Path, url: str) -> None:
    main(
        [
            "--database-url",
            url,
            "import",
            "--customers",
            str(write(tmp_path, "c.csv", CUSTOMERS)),
            "--transactions",
            str(write(tmp_path, "t.csv", TRANSACTIONS)),
        ]
    )
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        moment = connection.execute(
            sa.text("SELECT occurred_at FROM transactions WHERE transaction_id = 'T2'")
        ).scalar_one()
    engine.dispose()
    assert str(moment).startswith("2025-02-10 08:30:00")


def test_importing_the_same_files_twice_changes_nothing(tmp_path: Path, url: str) -> None:
    files = [
        "--customers",
        str(write(tmp_path, "customers.csv", CUSTOMERS)),
        "--transactions",
        str(write(tmp_path, "transactions.csv", TRANSACTIONS)),
    ]
    main(["--database-url", url, "import", *files])
    main(["--database-url", url, "import", *files])
    assert (count(url, "customers"), count(url, "transactions")) == (2, 3)


def test_the_garbage_collector_is_back_on_after_an_import(tmp_path: Path, url: str) -> None:
    # The import pauses it while files load; a process that imports goes on with it.
    path = write(tmp_path, "customers.csv", CUSTOMERS)
    main(["--database-url", url, "import", "--customers", str(path)])
    assert gc.isenabled()
    store = Store(url)
    with pytest.raises(FileNotFoundError):  # also when the import fails midway
        import_files(store.unit_of_work(), {"customers": _vanished(tmp_path)})
    store.dispose()
    assert gc.isenabled()


def _vanished(tmp_path: Path) -> CsvFile:
    path = write(tmp_path, "gone.csv", "customer_id,name\nA,Alpha\n")
    checked = check_file(path)
    path.unlink()
    return checked


def test_import_refuses_a_file_with_unknown_columns(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "needs.csv", "customer_id,need,score,colour\nC1,price,5,red\n")
    assert main(["--database-url", url, "import", "--needs", str(path)]) == 1
    assert "needs.csv:1: unknown column(s): colour" in capsys.readouterr().err


def test_import_of_clean_files_exits_zero(tmp_path: Path, url: str) -> None:
    clean = "customer_id,name\nA,Alpha\nB,Beta\n"
    assert (
        main(["--database-url", url, "import", "--customers", str(write(tmp_path, "c.csv", clean))])
        == 0
    )
    assert count(url, "customers") == 2


def test_load_demo_is_deterministic_and_skips_a_filled_store_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    for url in (first, second):
        assert (
            main(
                [
                    "--database-url",
                    url,
                    "load-demo",
                    "--customers",
                    "50",
                    "--seed",
                    "3",
                    "--end-date",
                    "2026-01-31",
                ]
            )
            == 0
        )
    query = "SELECT transaction_id, customer_id, amount FROM transactions ORDER BY 1"
    rows = []
    for url in (first, second):
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            rows.append(connection.execute(sa.text(query)).all())
        engine.dispose()
    assert rows[0] == rows[1] and len(rows[0]) > 100
    assert main(["--database-url", first, "load-demo", "--if-empty"]) == 0
    assert "already holds 50 customers" in capsys.readouterr().out
    assert Store(first).unit_of_work().__enter__().customers.count() == 50


def test_the_installed_command_runs_as_a_program(tmp_path: Path, url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "segmentation_service.cli", "--database-url", url, "init-db"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "store ready" in done.stdout

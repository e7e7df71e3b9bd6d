"""`import` and `load-demo`: a progress bar on a terminal, quiet when piped, one summary line."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from segmentation_service.cli import main

SUMMARY = re.compile(r"loaded (?P<counts>.+); rejected (?P<rejected>\d+) rows in \d+\.\d s")
CUSTOMERS = """customer_id,name,employee_count
C1,Acme GmbH,120
C2,Jane Doe,
C3,Bad Employees,many
"""
TRANSACTIONS = """transaction_id,customer_id,occurred_at,amount
T1,C1,2025-01-10,100
T2,C2,2025-01-11,50
"""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def files(tmp_path: Path) -> list[str]:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "transactions.csv").write_text(TRANSACTIONS, encoding="utf-8")
    return [
        "--customers",
        str(tmp_path / "customers.csv"),
        "--transactions",
        str(tmp_path / "transactions.csv"),
    ]


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def summary(text: str) -> re.Match[str]:
    match = SUMMARY.fullmatch(text)
    assert match, text
    return match


def test_import_ends_with_one_summary_line_and_draws_no_bar_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--database-url", url(tmp_path), "import", *files(tmp_path)])

    out, err = capsys.readouterr()
    assert status == 1
    assert out.splitlines() == [out.strip()]
    match = summary(out.strip())
    assert (match["counts"], match["rejected"]) == ("2 customers, 2 transactions", "1")
    assert err.splitlines() == ["rejected customers.csv:4: employee_count: not a number ('many')"]


def test_load_demo_ends_with_the_same_summary_line_and_is_quiet_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--database-url", url(tmp_path), "load-demo", "--customers", "30"])

    out, err = capsys.readouterr()
    assert status == 0 and err == ""
    match = summary(out.strip())
    counts = match["counts"].split(", ")
    assert counts[0] == "30 customers" and match["rejected"] == "0"
    assert [count.split()[1] for count in counts] == ["customers", "transactions", "needs"]


def test_on_a_terminal_import_draws_a_bar_with_counts_and_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    main(["--database-url", url(tmp_path), "import", *files(tmp_path)])

    drawn = terminal.getvalue()
    assert "customers" in drawn and "transactions" in drawn
    assert "2/2" in drawn  # rows loaded of rows done, per kind
    assert "rows/s" in drawn
    assert "rejected customers.csv:4" in drawn  # rejections still reach standard error
    summary(capsys.readouterr().out.strip())


def test_on_a_terminal_load_demo_draws_a_bar_unless_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    main(["--database-url", url(tmp_path), "load-demo", "--customers", "30"])
    assert "30/30" in terminal.getvalue() and "needs" in terminal.getvalue()
    summary(capsys.readouterr().out.strip())

    quiet = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    main(["--database-url", url(tmp_path), "load-demo", "--customers", "30", "--quiet"])
    assert quiet.getvalue() == ""
    summary(capsys.readouterr().out.strip())


def test_import_with_quiet_on_a_terminal_prints_only_rejections_and_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    main(["--database-url", url(tmp_path), "import", "-q", *files(tmp_path)])

    assert terminal.getvalue().splitlines() == [
        line for line in terminal.getvalue().splitlines() if line.startswith("rejected ")
    ]
    summary(capsys.readouterr().out.strip())


def test_a_piped_process_gets_the_summary_alone_on_stdout_and_nothing_on_stderr(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "segmentation_service.cli",
            "--database-url",
            url(tmp_path),
            "load-demo",
            "--customers",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "SEGMENTATION_LOG_LEVEL": "WARNING"},
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1
    summary(result.stdout.strip())

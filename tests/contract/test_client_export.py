"""`segmentation-client export` against the live server: every member once, atomically."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from segmentation_client.cli import main
from zeep.helpers import serialize_object

from tests.contract.conftest import ANALYST, VIEWER, LiveServer, User

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def value_run(live_server: LiveServer) -> dict[str, Any]:
    """A fresh value-based run: its id and its first (largest-value) segment's code."""
    status, out = command(live_server, ANALYST, "--json", "segment", "--method", "ValueBased")
    assert status == 0, out
    run = json.loads(out)["run"]
    return {"runId": run["runId"], "code": run["segments"]["segment"][0]["code"]}


def members_in_store(database_url: str, run_id: int, code: str) -> list[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT customer_id FROM assignments WHERE run_id = :run_id "
                    "AND segment_code = :code ORDER BY customer_id"
                ),
                {"run_id": run_id, "code": code},
            )
            return [row.customer_id for row in rows]
    finally:
        engine.dispose()


def credentials(server: LiveServer, user: User) -> list[str]:
    return ["--wsdl", server.wsdl_url, "--username", user.username, "--password", user.password]


def command(server: LiveServer, user: User, *argv: str) -> tuple[int, str]:
    """The client in a subprocess with stdout and stderr piped: (status, stdout + stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "segmentation_client", *credentials(server, user), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_export_writes_every_member_once_as_the_service_lists_them(
    live_server: LiveServer,
    value_run: dict[str, Any],
    soap: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "members.csv"
    run_id, code = value_run["runId"], value_run["code"]
    argv = [
        "export",
        "--run",
        str(run_id),
        "--segment",
        code,
        "--out",
        str(out),
        "--page-size",
        "7",
    ]
    assert main([*credentials(live_server, ANALYST), *argv]) == 0
    summary = capsys.readouterr()

    expected = members_in_store(live_server.database_url, run_id, code)
    assert len(expected) > 30  # several pages of 7
    header, *rows = read_csv(out)
    assert header == ["customer_id", "name", "value", "score"]
    assert [row[0] for row in rows] == expected
    assert summary.out.startswith(f"wrote {len(expected)} members of segment {code} (run {run_id})")
    assert summary.err == ""

    listed = serialize_object(
        soap.ListSegmentMembers(segmentCode=code, runId=run_id, pageSize=1000), dict
    )
    by_id = {member["customerId"]: member for member in listed["members"]["member"]}
    for customer_id, name, value, score in rows:
        member = by_id[customer_id]
        assert name == member["name"]
        assert float(value) == pytest.approx(member["value"], rel=1e-14)
        assert float(score) == pytest.approx(member["score"], rel=1e-14)


def test_export_by_method_pins_the_run_and_prints_json(
    live_server: LiveServer, value_run: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "latest.csv"
    status, printed = command(
        live_server,
        VIEWER,
        "--json",
        "export",
        "--method",
        "ValueBased",
        "--segment",
        value_run["code"],
        "--out",
        str(out),
    )
    assert status == 0, printed
    summary = json.loads(printed)
    expected = members_in_store(live_server.database_url, summary["runId"], value_run["code"])
    assert summary["written"] == len(expected) == len(read_csv(out)) - 1
    assert summary["segmentCode"] == value_run["code"]


def test_piped_export_prints_only_the_summary_line(
    live_server: LiveServer, value_run: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "members.csv"
    status, printed = command(
        live_server,
        ANALYST,
        "export",
        "--run",
        str(value_run["runId"]),
        "--segment",
        value_run["code"],
        "--out",
        str(out),
        "--page-size",
        "5",
    )
    assert status == 0
    assert len(printed.splitlines()) == 1 and printed.startswith("wrote ")


def run_in_terminal(argv: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run `argv` with stdout and stderr on a pseudo-terminal: (status, what the terminal got)."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], timeout)
            if not ready:
                raise TimeoutError("no output from the client")
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the client closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(controller)
        status = process.wait(timeout=timeout)
    # Without colours and cursor movements: what is left is the text the terminal showed.
    return status, ANSI_ESCAPE.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_export_on_a_terminal_shows_a_progress_bar_unless_quiet(
    live_server: LiveServer, value_run: dict[str, Any], tmp_path: Path
) -> None:
    base = [sys.executable, "-m", "segmentation_client", *credentials(live_server, ANALYST)]
    argv = [
        "export",
        "--run",
        str(value_run["runId"]),
        "--segment",
        value_run["code"],
        "--page-size",
        "3",
    ]
    total = len(members_in_store(live_server.database_url, value_run["runId"], value_run["code"]))

    status, shown = run_in_terminal([*base, *argv, "--out", str(tmp_path / "a.csv")])
    assert status == 0, shown
    assert f"{total}/{total} members" in shown
    assert "members/s" in shown
    assert f"wrote {total} members" in shown

    status, quiet = run_in_terminal([*base, *argv, "--out", str(tmp_path / "b.csv"), "--quiet"])
    assert status == 0, quiet
    assert "members/s" not in quiet
    assert quiet.strip().startswith(f"wrote {total} members")


def test_a_failed_export_leaves_no_file(
    live_server: LiveServer,
    value_run: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "members.csv"
    argv = [
        "export",
        "--run",
        str(value_run["runId"]),
        "--segment",
        "NO-SUCH-SEGMENT",
        "--out",
        str(out),
    ]
    assert main([*credentials(live_server, ANALYST), *argv]) == 2
    assert "SegmentNotFoundFault" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []

"""`segmentation-client export` and the progress display, against a fake service."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests
from rich.console import Console
from segmentation_client import progress
from segmentation_client.export import CSV_HEADER
from zeep.exceptions import Fault

from tests.unit.test_client_cli import FakeService, a_member, a_run, run_cli

TNS = "urn:customer-segmentation:v1"


def page(client: Any, members: list[Any], token: str | None = None, total: int = 5) -> Any:
    return client.get_element(f"{{{TNS}}}ListSegmentMembersResponse")(
        runId=7,
        segmentCode="GOLD",
        totalCount=total,
        members={"member": members},
        nextPageToken=token,
    )


def member(client: Any, customer_id: str, **values: Any) -> Any:
    found = a_member(client, customer_id)
    for name, value in values.items():
        setattr(found, name, value)
    return found


def three_pages(client: Any) -> list[Any]:
    return [
        page(
            client,
            [member(client, "C1", value=22418.890000000007, score=0.1), member(client, "C2")],
            "p2",
        ),
        page(client, [member(client, "C3", name='Smith, "Jo"'), member(client, "C4")], "p3"),
        page(client, [member(client, "C5", value=-3.0, score=1.0)]),
    ]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_export_writes_every_member_once_in_order_with_a_header(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "members.csv"
    service = FakeService(ListSegmentMembers=three_pages(client))
    argv = [
        "export",
        "--method",
        "ValueBased",
        "--segment",
        "GOLD",
        "--out",
        str(out),
        "--page-size",
        "2",
    ]
    assert run_cli(argv, service) == 0

    rows = read_csv(out)
    assert rows[0] == list(CSV_HEADER) == ["customer_id", "name", "value", "score"]
    assert rows[1:] == [
        ["C1", "Name C1", "22418.89", "0.1"],
        ["C2", "Name C2", "", ""],
        ["C3", 'Smith, "Jo"', "", ""],
        ["C4", "Name C4", "", ""],
        ["C5", "Name C5", "-3", "1"],
    ]
    first, *later = [kwargs for _, kwargs in service.calls]
    assert first == {"segmentCode": "GOLD", "method": "ValueBased", "pageSize": 2}
    assert later == [
        {"segmentCode": "GOLD", "runId": 7, "pageSize": 2, "pageToken": "p2"},
        {"segmentCode": "GOLD", "runId": 7, "pageSize": 2, "pageToken": "p3"},
    ]
    captured = capsys.readouterr()
    assert captured.out.startswith(f"wrote 5 members of segment GOLD (run 7) to {out} in ")
    assert captured.out.endswith(" s\n") and len(captured.out.splitlines()) == 1
    assert captured.err == ""
    assert leftovers(tmp_path) == ["members.csv"]


def test_export_asks_for_the_largest_pages_by_default_and_prints_json_with_json(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "members.csv"
    service = FakeService(ListSegmentMembers=three_pages(client))
    assert (
        run_cli(["--json", "export", "--run", "7", "--segment", "GOLD", "--out", str(out)], service)
        == 0
    )
    assert service.calls[0][1] == {"segmentCode": "GOLD", "runId": 7, "pageSize": 1000}
    printed = json.loads(capsys.readouterr().out)
    assert printed["out"] == str(out)
    assert (printed["runId"], printed["segmentCode"], printed["written"]) == (7, "GOLD", 5)
    assert printed["seconds"] >= 0


def test_export_file_gets_the_usual_permissions(client: Any, tmp_path: Path) -> None:
    out = tmp_path / "members.csv"
    previous = os.umask(0o027)
    try:
        service = FakeService(ListSegmentMembers=three_pages(client))
        assert (
            run_cli(["export", "--run", "7", "--segment", "GOLD", "--out", str(out)], service) == 0
        )
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o640


def test_a_member_repeated_by_the_service_is_written_once(client: Any, tmp_path: Path) -> None:
    out = tmp_path / "members.csv"
    pages = [
        page(client, [member(client, "C1"), member(client, "C2")], "p2", total=3),
        page(client, [member(client, "C2"), member(client, "C3")], total=3),
    ]
    assert (
        run_cli(
            ["export", "--run", "7", "--segment", "GOLD", "--out", str(out)],
            FakeService(ListSegmentMembers=pages),
        )
        == 0
    )
    assert [row[0] for row in read_csv(out)[1:]] == ["C1", "C2", "C3"]


def test_a_failure_mid_way_leaves_no_file_and_keeps_an_existing_one(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "members.csv"
    out.write_text("the previous export\n")
    pages = [three_pages(client)[0], requests.ConnectionError("connection reset")]
    status = run_cli(
        ["export", "--run", "7", "--segment", "GOLD", "--out", str(out)],
        FakeService(ListSegmentMembers=pages),
    )
    assert status == 1
    assert capsys.readouterr().err.startswith(
        "error: cannot connect to http://segmentation.test/soap"
    )
    assert out.read_text() == "the previous export\n"
    assert leftovers(tmp_path) == ["members.csv"]


def test_an_interrupted_export_leaves_no_file(client: Any, tmp_path: Path) -> None:
    out = tmp_path / "members.csv"
    pages = [three_pages(client)[0], KeyboardInterrupt()]
    status = run_cli(
        ["export", "--run", "7", "--segment", "GOLD", "--out", str(out)],
        FakeService(ListSegmentMembers=pages),
    )
    assert status == 130
    assert leftovers(tmp_path) == []


def test_fewer_members_than_the_total_count_is_an_error_and_no_file(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "members.csv"
    pages = [page(client, [member(client, "C1"), member(client, "C2")], total=3)]
    status = run_cli(
        ["export", "--run", "7", "--segment", "GOLD", "--out", str(out)],
        FakeService(ListSegmentMembers=pages),
    )
    assert status == 1
    assert "has 3 members but paging returned 2; nothing was written" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_a_fault_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "members.csv"
    fault = Fault("Run 99 not found", code="soap:Client.RunNotFound")
    status = run_cli(
        ["export", "--run", "99", "--segment", "GOLD", "--out", str(out)],
        FakeService(ListSegmentMembers=[fault]),
    )
    assert status == 2
    assert "Run 99 not found" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_an_unwritable_destination_is_one_error_line_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no-such-directory" / "members.csv"
    service = FakeService(ListSegmentMembers=[])
    assert run_cli(["export", "--run", "7", "--segment", "GOLD", "--out", str(out)], service) == 1
    assert capsys.readouterr().err == f"error: {out}: cannot write: No such file or directory\n"
    assert service.calls == []


# ------------------------------------------------------------------ progress


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Pretend stdout and stderr are terminals; the progress display is written here."""
    screen = io.StringIO()
    monkeypatch.setattr(progress, "is_interactive", lambda: True)
    monkeypatch.setattr(
        progress,
        "progress_console",
        lambda: Console(file=screen, force_terminal=True, width=120, color_system=None),
    )
    return screen


def test_export_on_a_terminal_shows_a_bar_with_counts_and_rate(
    client: Any, tmp_path: Path, terminal: io.StringIO
) -> None:
    service = FakeService(ListSegmentMembers=three_pages(client))
    argv = ["export", "--run", "7", "--segment", "GOLD", "--out", str(tmp_path / "m.csv")]
    assert run_cli(argv, service) == 0
    shown = terminal.getvalue()
    assert "Exporting GOLD" in shown
    assert "5/5 members" in shown
    assert "members/s" in shown


def test_quiet_hides_the_progress_display_even_on_a_terminal(
    client: Any, tmp_path: Path, terminal: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(ListSegmentMembers=three_pages(client))
    argv = [
        "export",
        "--run",
        "7",
        "--segment",
        "GOLD",
        "--out",
        str(tmp_path / "m.csv"),
        "--quiet",
    ]
    assert run_cli(argv, service) == 0
    assert terminal.getvalue() == ""
    assert capsys.readouterr().out.startswith("wrote 5 members")


def test_without_a_terminal_nothing_but_the_result_is_printed(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not progress.is_interactive()  # pytest captures both streams
    service = FakeService(ListSegmentMembers=three_pages(client))
    argv = ["members", "GOLD", "--run-id", "7", "--all", "--json"]
    assert run_cli(argv, service) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert len(json.loads(captured.out)["members"]) == 5


def test_segment_shows_a_spinner_while_the_run_is_computed(
    client: Any, terminal: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(SegmentCustomers=[a_run(client)])
    assert run_cli(["segment", "--method", "NeedsBased"], service) == 0
    assert "Segmenting customers (NeedsBased)" in terminal.getvalue()
    assert "Segmenting" not in capsys.readouterr().out


def test_members_all_shows_a_bar_on_a_terminal(client: Any, terminal: io.StringIO) -> None:
    service = FakeService(ListSegmentMembers=three_pages(client))
    assert run_cli(["members", "GOLD", "--run-id", "7", "--all"], service) == 0
    assert "5/5 members" in terminal.getvalue()

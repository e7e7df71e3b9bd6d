"""`segmentation-client movers` and `export-movers` (contract 1.5), against a fake service."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from rich.console import Console
from segmentation_client import progress
from segmentation_client.export_movers import MOVERS_CSV_HEADER
from zeep.exceptions import Fault

from tests.unit.test_client_cli import (
    TNS,
    CannedTransport,
    FakeService,
    body_of_request,
    child_names,
    run_cli,
    run_cli_over_http,
    soap_envelope,
)


def a_mover(
    client: Any,
    customer_id: str,
    before: str | None,
    after: str | None,
    value_before: float | None = None,
    value_after: float | None = None,
    name: str | None = None,
) -> Any:
    return client.get_type(f"{{{TNS}}}Mover")(
        customerId=customer_id,
        name=name or f"Name {customer_id}",
        fromSegmentCode=before,
        toSegmentCode=after,
        valueBefore=value_before,
        valueAfter=value_after,
    )


def a_movers_page(client: Any, movers: list[Any], token: str | None = None, total: int = 5) -> Any:
    """A ListSegmentMoversResponse as zeep returns it (several children: not unwrapped)."""
    return client.get_element(f"{{{TNS}}}ListSegmentMoversResponse")(
        totalCount=total, movers={"mover": movers}, nextPageToken=token
    )


def three_pages(client: Any) -> list[Any]:
    return [
        a_movers_page(
            client,
            [
                a_mover(client, "C1", "V2", "V1", 1200.5, 22418.890000000007),
                a_mover(client, "C2", None, "V3", None, 80.0),
            ],
            "p2",
        ),
        a_movers_page(
            client,
            [a_mover(client, "C3", "V4", None, 3.0, None, name='Smith, "Jo"')],
            "p3",
        ),
        a_movers_page(
            client,
            [a_mover(client, "C4", "V1", "V2", 10.0, 2.0), a_mover(client, "C5", "V3", "V1")],
        ),
    ]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


# ------------------------------------------------------------------- movers


@pytest.mark.parametrize(
    ("argv", "expected_children"),
    [
        pytest.param(["movers", "3", "4"], ["fromRunId", "toRunId"], id="two-runs-only"),
        pytest.param(
            ["movers", "3", "4", "--page-token", "p2", "--direction", "DOWN", "--to", "V2"]
            + ["--page-size", "50", "--from", "V1"],
            [
                "fromRunId",
                "toRunId",
                "fromSegmentCode",
                "toSegmentCode",
                "direction",
                "pageSize",
                "pageToken",
            ],
            id="every-option-in-schema-order",
        ),
        pytest.param(
            ["movers", "3", "4", "--direction", "up"],
            ["fromRunId", "toRunId", "direction"],
            id="direction-only",
        ),
    ],
)
def test_movers_sends_a_schema_valid_request_with_exactly_the_elements_given(
    client: Any, schema: etree.XMLSchema, argv: list[str], expected_children: list[str]
) -> None:
    service = FakeService(ListSegmentMovers=[a_movers_page(client, [])])
    assert run_cli(["--json", *argv], service) == 0
    [(operation, kwargs)] = service.calls
    body = body_of_request(client, operation, kwargs)
    schema.assertValid(body)
    assert etree.QName(body).localname == "ListSegmentMovers"
    assert child_names(body) == expected_children
    if "direction" in kwargs:
        assert kwargs["direction"] in ("Up", "Down")  # the contract's spelling, whatever typed


def test_a_direction_other_than_up_or_down_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    service = FakeService()
    with pytest.raises(SystemExit) as exited:
        run_cli(["movers", "3", "4", "--direction", "sideways"], service)
    assert exited.value.code == 2
    assert "--direction: choose up or down, not 'sideways'" in capsys.readouterr().err
    assert service.calls == []


def test_movers_prints_each_move_with_entered_and_left_the_total_and_the_next_token(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    page = three_pages(client)[0]
    page.movers.mover.append(a_mover(client, "C3", "V4", None, 3.0, None))
    assert run_cli(["movers", "3", "4"], FakeService(ListSegmentMovers=[page])) == 0
    lines = capsys.readouterr().out.splitlines()
    fields = {line.split()[0]: line.split()[1:] for line in lines[:3]}
    assert fields == {"fromRunId": ["3"], "toRunId": ["4"], "totalCount": ["5"]}
    header = next(line for line in lines if line.split()[:2] == ["customerId", "name"])
    assert header.split() == ["customerId", "name", "from", "→", "to", "valueBefore", "valueAfter"]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.lstrip().startswith("C")}
    assert rows == {
        "C1": ["Name", "C1", "V2", "→", "V1", "1,200.50", "22,418.89"],
        "C2": ["Name", "C2", "(entered)", "→", "V3", "-", "80.00"],
        "C3": ["Name", "C3", "V4", "→", "(left)", "3.00", "-"],
    }
    assert lines[-1] == "nextPageToken: p2  (pass it as --page-token, or use export-movers)"


def test_movers_json_is_the_page_as_sent_by_the_service(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    page = three_pages(client)[2]
    assert run_cli(["movers", "3", "4", "--json"], FakeService(ListSegmentMovers=[page])) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["totalCount", "movers", "nextPageToken"]
    assert printed["totalCount"] == 5 and printed["nextPageToken"] is None
    assert printed["movers"]["mover"][1] == {
        "customerId": "C5",
        "name": "Name C5",
        "fromSegmentCode": "V3",
        "toSegmentCode": "V1",
        "valueBefore": None,
        "valueAfter": None,
    }


def movers_answer(movers: str, total: int) -> str:
    return soap_envelope(
        f'<ListSegmentMoversResponse xmlns="{TNS}"><totalCount>{total}</totalCount>'
        f"{movers}</ListSegmentMoversResponse>"
    )


def test_movers_over_the_wire_reads_absent_codes_and_an_empty_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    one = (
        "<movers><mover><customerId>C9</customerId><name>Nine</name>"
        "<toSegmentCode>V2</toSegmentCode><valueAfter>12.5</valueAfter></mover></movers>"
    )
    assert (
        run_cli_over_http(["--json", "movers", "1", "2"], CannedTransport(movers_answer(one, 1)))
        == 0
    )
    (mover,) = json.loads(capsys.readouterr().out)["movers"]["mover"]
    assert (mover["fromSegmentCode"], mover["toSegmentCode"]) == (None, "V2")
    assert (mover["valueBefore"], mover["valueAfter"]) == (None, 12.5)

    assert (
        run_cli_over_http(["movers", "1", "2"], CannedTransport(movers_answer("<movers/>", 0))) == 0
    )
    out = capsys.readouterr().out
    assert "No movers." in out and "nextPageToken" not in out


# ------------------------------------------------------------ export-movers


def test_export_movers_writes_every_mover_once_in_order_with_empty_cells_for_absent(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "movers.csv"
    service = FakeService(ListSegmentMovers=three_pages(client))
    argv = ["export-movers", "3", "4", "--from", "V1", "--direction", "down", "-o", str(out)]
    assert run_cli(argv, service) == 0

    rows = read_csv(out)
    assert rows[0] == list(MOVERS_CSV_HEADER)
    assert rows[0] == [
        "customer_id",
        "name",
        "from_segment_code",
        "to_segment_code",
        "value_before",
        "value_after",
    ]
    assert rows[1:] == [
        ["C1", "Name C1", "V2", "V1", "1200.5", "22418.89"],
        ["C2", "Name C2", "", "V3", "", "80"],
        ["C3", 'Smith, "Jo"', "V4", "", "3", ""],
        ["C4", "Name C4", "V1", "V2", "10", "2"],
        ["C5", "Name C5", "V3", "V1", "", ""],
    ]
    first, *later = [kwargs for _, kwargs in service.calls]
    pinned = {"fromRunId": 3, "toRunId": 4, "fromSegmentCode": "V1", "direction": "Down"}
    assert first == {**pinned, "pageSize": 1000}  # the largest pages by default
    assert later == [
        {**pinned, "pageSize": 1000, "pageToken": "p2"},
        {**pinned, "pageSize": 1000, "pageToken": "p3"},
    ]
    captured = capsys.readouterr()
    assert captured.out.startswith(
        f"wrote 5 movers (V1 → any, down) from run 3 to run 4 to {out} in "
    )
    assert captured.out.endswith(" s\n") and len(captured.out.splitlines()) == 1
    assert captured.err == ""
    assert leftovers(tmp_path) == ["movers.csv"]


def test_export_movers_prints_json_with_json_and_takes_a_page_size(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "movers.csv"
    service = FakeService(ListSegmentMovers=three_pages(client))
    argv = ["--json", "export-movers", "3", "4", "--to", "V1", "--out", str(out)]
    assert run_cli([*argv, "--page-size", "2"], service) == 0
    assert service.calls[0][1] == {
        "fromRunId": 3,
        "toRunId": 4,
        "toSegmentCode": "V1",
        "pageSize": 2,
    }
    printed = json.loads(capsys.readouterr().out)
    assert printed["out"] == str(out) and printed["seconds"] >= 0
    assert {k: v for k, v in printed.items() if k not in ("out", "seconds")} == {
        "fromRunId": 3,
        "toRunId": 4,
        "fromSegmentCode": None,
        "toSegmentCode": "V1",
        "direction": None,
        "written": 5,
    }


def test_the_summary_of_an_unfiltered_export_of_one_mover(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "movers.csv"
    page = a_movers_page(client, [a_mover(client, "C1", "V1", "V2")], total=1)
    assert (
        run_cli(["export-movers", "3", "4", "-o", str(out)], FakeService(ListSegmentMovers=[page]))
        == 0
    )
    assert capsys.readouterr().out.startswith(f"wrote 1 mover from run 3 to run 4 to {out} in ")


def test_a_failed_export_of_movers_leaves_no_file_and_keeps_an_existing_one(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "movers.csv"
    out.write_text("the previous export\n")
    pages = [three_pages(client)[0], requests.ConnectionError("connection reset")]
    status = run_cli(
        ["export-movers", "3", "4", "-o", str(out)], FakeService(ListSegmentMovers=pages)
    )
    assert status == 1
    assert capsys.readouterr().err.startswith(
        "error: cannot connect to http://segmentation.test/soap"
    )
    assert out.read_text() == "the previous export\n"
    assert leftovers(tmp_path) == ["movers.csv"]


def test_fewer_movers_than_the_total_count_is_an_error_and_no_file(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = a_movers_page(client, [a_mover(client, "C1", "V1", "V2")], total=2)
    status = run_cli(
        ["export-movers", "3", "4", "-o", str(tmp_path / "movers.csv")],
        FakeService(ListSegmentMovers=[page]),
    )
    assert status == 1
    assert (
        "the comparison of run 3 with run 4 has 2 movers but paging returned 1; nothing was written"
        in capsys.readouterr().err
    )
    assert leftovers(tmp_path) == []


def test_a_repeated_page_token_stops_the_export_of_movers_without_a_file(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = [
        a_movers_page(client, [a_mover(client, "C1", "V1", "V2")], "p2"),
        a_movers_page(client, [a_mover(client, "C2", "V1", "V2")], "p2"),
    ]
    status = run_cli(
        ["export-movers", "3", "4", "-o", str(tmp_path / "movers.csv")],
        FakeService(ListSegmentMovers=pages),
    )
    assert status == 1
    assert "page token 'p2' twice" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_a_fault_leaves_no_file_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fault = Fault("direction needs two value-based runs", code="soap:Client.InvalidRequest")
    status = run_cli(
        ["export-movers", "3", "4", "--direction", "up", "-o", str(tmp_path / "movers.csv")],
        FakeService(ListSegmentMovers=[fault]),
    )
    assert status == 2
    assert "direction needs two value-based runs" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_an_unwritable_destination_is_one_error_line_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no-such-directory" / "movers.csv"
    service = FakeService(ListSegmentMovers=[])
    assert run_cli(["export-movers", "3", "4", "-o", str(out)], service) == 1
    assert capsys.readouterr().err == f"error: {out}: cannot write: No such file or directory\n"
    assert service.calls == []


def test_export_movers_on_a_terminal_shows_a_bar_with_counts_and_rate(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(progress, "is_interactive", lambda: True)
    monkeypatch.setattr(
        progress,
        "progress_console",
        lambda: Console(file=screen, force_terminal=True, width=120, color_system=None),
    )
    service = FakeService(ListSegmentMovers=three_pages(client))
    argv = ["export-movers", "3", "4", "--to", "V1", "-o", str(tmp_path / "m.csv")]
    assert run_cli(argv, service) == 0
    shown = screen.getvalue()
    assert "Exporting movers 3 → 4 (any → V1)" in shown
    assert "5/5 movers" in shown
    assert "movers/s" in shown

"""`segmentation-client insights` (GetSegmentInsights, contract 1.5), against a fake service."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lxml import etree
from segmentation_client.render_insights import (
    NO_DIFFERENTIATORS,
    NO_OVERLAPS,
    format_lift,
    format_p_value,
    is_share,
)
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
    typed_detail,
)


def a_differentiator(
    feature: str, segment: float, baseline: float, lift: float, p_value: float
) -> dict[str, Any]:
    return {
        "feature": feature,
        "segmentValue": segment,
        "baselineValue": baseline,
        "lift": lift,
        "pValue": p_value,
    }


def an_overlap(
    method: str, run_id: int, code: str, name: str, shared: int, share: float, jaccard: float
) -> dict[str, Any]:
    return {
        "method": method,
        "runId": run_id,
        "segmentCode": code,
        "segmentName": name,
        "sharedCustomers": shared,
        "shareOfThisSegment": share,
        "jaccard": jaccard,
    }


DIFFERENTIATORS = [
    a_differentiator("need:speed", 5.2584933, 3.9934383, 0.8015201, 1.99e-217),
    a_differentiator("region=North", 0.4215, 0.2342, 1.7997, 3.2e-08),
    a_differentiator("customer_type=B2B", 0.0, 0.395, 0.0, 0.0),
    a_differentiator("revenue", 3372.6149, 4348.6899, -0.0913, 0.00612),
    a_differentiator("preferred_channel=Field Sales", 0.182, 0.1402, 1.2981, 0.0431),
]
OVERLAPS = [
    an_overlap("APriori", 1, "B2C", "Consumers", 1408, 0.5882, 0.2731),
    an_overlap("ValueBased", 2, "V4", "Bronze", 178, 0.2564, 0.19),
]


def an_answer(
    client: Any,
    differentiators: list[dict[str, Any]] = DIFFERENTIATORS,
    overlaps: list[dict[str, Any]] = OVERLAPS,
) -> Any:
    """A GetSegmentInsightsResponse as zeep returns it (two children: not unwrapped)."""
    return client.get_element(f"{{{TNS}}}GetSegmentInsightsResponse")(
        differentiators={"differentiator": differentiators}, overlaps={"overlap": overlaps}
    )


def table_rows(out: str, header: str) -> list[list[str]]:
    """The cells of the table whose header line starts with `header`, split where rich put
    two or more spaces between columns (cells themselves hold single spaces)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [header])
    rows = []
    for line in lines[start + 2 :]:  # past the header and its rule
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


# ------------------------------------------------------------------ request


@pytest.mark.parametrize(
    ("argv", "expected_children"),
    [
        pytest.param(["insights", "7", "N2"], ["runId", "segmentCode"], id="against-the-run"),
        pytest.param(
            ["insights", "7", "N2", "--baseline", "N1"],
            ["runId", "segmentCode", "baseline"],
            id="against-a-segment",
        ),
    ],
)
def test_insights_sends_a_schema_valid_request_with_exactly_the_elements_given(
    client: Any, schema: etree.XMLSchema, argv: list[str], expected_children: list[str]
) -> None:
    service = FakeService(GetSegmentInsights=[an_answer(client)])
    assert run_cli(["--json", *argv], service) == 0
    [(operation, kwargs)] = service.calls
    body = body_of_request(client, operation, kwargs)
    schema.assertValid(body)
    assert etree.QName(body).localname == "GetSegmentInsights"
    assert child_names(body) == expected_children
    assert kwargs["runId"] == 7 and kwargs["segmentCode"] == "N2"


def test_a_run_id_that_is_not_a_number_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    service = FakeService()
    with pytest.raises(SystemExit) as exited:
        run_cli(["insights", "latest", "N2"], service)
    assert exited.value.code == 2
    assert "invalid int value: 'latest'" in capsys.readouterr().err
    assert service.calls == []


# ---------------------------------------------------------------- rendering


def test_insights_shows_shares_as_percentages_and_means_as_numbers_with_their_lifts(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(GetSegmentInsights=[an_answer(client)])
    assert run_cli(["insights", "3", "N1"], service) == 0
    out = capsys.readouterr().out
    fields = {line.split()[0]: line.split(None, 1)[1].strip() for line in out.splitlines()[:3]}
    assert fields == {
        "runId": "3",
        "segmentCode": "N1",
        "baseline": "all assigned customers of the run",
    }
    headers = [
        line.split() for line in out.splitlines() if line.split()[:1] in (["feature"], ["method"])
    ]
    assert headers == [
        ["feature", "segmentValue", "baselineValue", "lift", "pValue"],
        ["method", "runId", "segmentCode", "segmentName", "sharedCustomers"]
        + ["shareOfThisSegment", "jaccard"],
    ]
    assert table_rows(out, "feature") == [
        ["need:speed", "5.26", "3.99", "+0.8 sd", "2.0e-217"],
        ["region=North", "42.1%", "23.4%", "×1.8", "3.2e-08"],
        ["customer_type=B2B", "0.0%", "39.5%", "×0.00", "0.0e+00"],
        ["revenue", "3,372.61", "4,348.69", "-0.09 sd", "0.006"],
        ["preferred_channel=Field Sales", "18.2%", "14.0%", "×1.3", "0.043"],
    ]
    assert table_rows(out, "method") == [
        ["APriori", "1", "B2C", "Consumers", "1,408", "58.8%", "0.273"],
        ["ValueBased", "2", "V4", "Bronze", "178", "25.6%", "0.190"],
    ]
    assert NO_DIFFERENTIATORS not in out and NO_OVERLAPS not in out


def test_the_header_names_the_baseline_segment_when_one_is_given(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(GetSegmentInsights=[an_answer(client)])
    assert run_cli(["insights", "3", "N1", "--baseline", "N2"], service) == 0
    assert "baseline     N2" in capsys.readouterr().out.splitlines()[2]


@pytest.mark.parametrize(
    ("lift", "share", "shown"),
    [
        (1.8, True, "×1.8"),
        (1.2981, True, "×1.3"),
        (12.04, True, "×12.0"),
        (1234.5, True, "×1,234.5"),
        (0.75, True, "×0.8"),
        (0.04, True, "×0.04"),
        (0.0, True, "×0.00"),
        (1.2, False, "+1.2 sd"),
        (-0.66, False, "-0.7 sd"),
        (0.04, False, "+0.04 sd"),
        (-0.0913, False, "-0.09 sd"),
        (None, False, "-"),
    ],
)
def test_a_lift_reads_as_a_ratio_for_shares_and_in_standard_deviations_for_means(
    lift: float | None, share: bool, shown: str
) -> None:
    assert format_lift(lift, share) == shown


@pytest.mark.parametrize(
    ("p_value", "shown"),
    [
        (0.0431, "0.043"),
        (0.001, "0.001"),
        (0.000999, "1.0e-03"),
        (3.2e-8, "3.2e-08"),
        (1.99e-217, "2.0e-217"),
        (None, "-"),
    ],
)
def test_p_values_are_scientific_when_small(p_value: float | None, shown: str) -> None:
    assert format_p_value(p_value) == shown


@pytest.mark.parametrize(
    ("feature", "share"),
    [
        ("region=North", True),
        ("preferred_channel=Field Sales", True),
        ("need:price", False),
        ("annual_revenue", False),
        ("age", False),
    ],
)
def test_attribute_values_are_shares_and_everything_else_a_mean(feature: str, share: bool) -> None:
    assert is_share(feature) is share


def test_insights_json_is_the_response_as_the_service_sent_it(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(GetSegmentInsights=[an_answer(client)])
    assert run_cli(["insights", "3", "N1", "--json"], service) == 0
    assert json.loads(capsys.readouterr().out) == {
        "differentiators": {"differentiator": DIFFERENTIATORS},
        "overlaps": {"overlap": OVERLAPS},
    }


# ---------------------------------------------------------- over the wire


def insights_answer(differentiators: str, overlaps: str) -> str:
    return soap_envelope(
        f'<GetSegmentInsightsResponse xmlns="{TNS}">{differentiators}{overlaps}'
        "</GetSegmentInsightsResponse>"
    )


def test_an_empty_answer_over_the_wire_says_nothing_sets_the_segment_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = insights_answer("<differentiators/>", "<overlaps/>")
    assert run_cli_over_http(["insights", "3", "N1"], CannedTransport(empty)) == 0
    out = capsys.readouterr().out
    assert NO_DIFFERENTIATORS in out.splitlines()
    assert NO_DIFFERENTIATORS == (
        "No feature sets this segment apart at a 5% false discovery rate."
    )
    assert NO_OVERLAPS in out.splitlines()
    assert "pValue" not in out and "jaccard" not in out  # no table headers

    assert run_cli_over_http(["insights", "3", "N1", "--json"], CannedTransport(empty)) == 0
    assert json.loads(capsys.readouterr().out) == {
        "differentiators": {"differentiator": []},
        "overlaps": {"overlap": []},
    }


def test_one_differentiator_and_no_overlap_over_the_wire(
    capsys: pytest.CaptureFixture[str],
) -> None:
    one = (
        "<differentiators><differentiator><feature>need:price</feature>"
        "<segmentValue>5.14</segmentValue><baselineValue>3.79</baselineValue>"
        "<lift>0.75</lift><pValue>1.8e-169</pValue></differentiator></differentiators>"
    )
    transport = CannedTransport(insights_answer(one, "<overlaps/>"))
    assert run_cli_over_http(["insights", "3", "N1"], transport) == 0
    out = capsys.readouterr().out
    assert table_rows(out, "feature") == [["need:price", "5.14", "3.79", "+0.8 sd", "1.8e-169"]]
    assert NO_DIFFERENTIATORS not in out and NO_OVERLAPS in out


# ------------------------------------------------------------------- faults


def test_the_segment_as_its_own_baseline_is_an_invalid_request_fault_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    detail = typed_detail(
        "InvalidRequestFault", field="baseline", reason="is the segment itself: name another"
    )
    fault = Fault("baseline: is the segment itself", code="soap:Client", detail=detail)
    service = FakeService(GetSegmentInsights=[fault])
    assert run_cli(["insights", "3", "N1", "--baseline", "N1"], service) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "error: baseline: is the segment itself"
    assert "  fault: InvalidRequestFault (soap:Client)" in lines
    assert "  field: baseline" in lines


def test_an_unknown_segment_in_json_mode_is_a_json_fault_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    detail = typed_detail("SegmentNotFoundFault", runId="3", segmentCode="N9")
    fault = Fault("run 3 has no segment 'N9'", code="soap:Client", detail=detail)
    status = run_cli(["--json", "insights", "3", "N9"], FakeService(GetSegmentInsights=[fault]))
    assert status == 2
    assert json.loads(capsys.readouterr().out) == {
        "fault": "SegmentNotFoundFault",
        "code": "soap:Client",
        "message": "run 3 has no segment 'N9'",
        "detail": {"runId": "3", "segmentCode": "N9"},
    }


def test_a_server_fault_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    fault = Fault("the store is unavailable", code="soap:Server")
    assert run_cli(["insights", "3", "N1"], FakeService(GetSegmentInsights=[fault])) == 1
    assert capsys.readouterr().err.startswith("error: the store is unavailable\n")

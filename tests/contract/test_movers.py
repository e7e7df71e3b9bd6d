"""ListSegmentMovers against a live server on SQLite and PostgreSQL (issue 14, part 1).

The movers are checked against an independent reading of the same two runs (every
segment's members through ListSegmentMembers) and against CompareSegmentationRuns'
counts; paging against the keyset guarantees (every mover once, in customer id order,
every page full but the last).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import zeep

from segmentation_service.store.database import Store
from tests import factories
from tests.conftest import _fresh_postgres_url
from tests.contract.conftest import (
    ANALYST,
    LiveServer,
    XsdValidator,
    service_for,
    start_server,
    stop_server,
)

CUSTOMERS = 240
PAGE = 7
TNS = "urn:customer-segmentation:v1"
Place = tuple[str | None, float | None]  # segment code (None: not assigned), value


@dataclass
class Runs:
    soap: Any
    a_priori: Any
    value_then: Any  # value tiers a year before the data ends
    value_now: Any  # the same tiers at the end of the data


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runs]:
    directory = tmp_path_factory.mktemp(f"movers-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'store.db'}"
    else:
        url = _fresh_postgres_url(request.getfixturevalue("postgres_server"))
    store = Store(url)
    store.create_schema()
    factories.load_demo(store, CUSTOMERS)
    store.dispose()
    server: LiveServer = start_server(directory, url)
    try:
        soap = service_for(server, XsdValidator(request.getfixturevalue("schema")), ANALYST)
        tiers = {"valueMetric": "Revenue", "tierCount": 4}
        yield Runs(
            soap,
            soap.SegmentCustomers(
                method="APriori", aPriori={"groupBy": {"attribute": ["customerType"]}}
            ),
            soap.SegmentCustomers(
                method="ValueBased", valueBased={**tiers, "asOfDate": date(2025, 6, 30)}
            ),
            soap.SegmentCustomers(method="ValueBased", valueBased=tiers),
        )
    finally:
        stop_server(server)


def places(soap: Any, run: Any) -> dict[str, Place]:
    """Each assigned customer's segment and value, read through ListSegmentMembers."""
    found: dict[str, Place] = {}
    for segment in run.segments.segment:
        token = None
        while True:
            page = soap.ListSegmentMembers(
                segmentCode=segment.code, runId=run.runId, pageSize=1000, pageToken=token
            )
            for member in page.members.member if page.members else []:
                found[member.customerId] = (segment.code, member.value)
            token = page.nextPageToken
            if token is None:
                break
    return found


def expected_movers(before: dict[str, Place], after: dict[str, Place]) -> dict[str, Any]:
    """customer -> (from code, to code) for every customer whose segment differs."""
    moved = {}
    for customer in sorted(before.keys() | after.keys()):
        start, end = before.get(customer, (None, None))[0], after.get(customer, (None, None))[0]
        if start != end:
            moved[customer] = (start, end)
    return moved


def all_pages(soap: Any, **request: Any) -> tuple[list[Any], list[int], set[int]]:
    """Every mover of a listing, the size of each page, and the totals the pages gave."""
    movers: list[Any] = []
    sizes: list[int] = []
    totals: set[int] = set()
    token = None
    while True:
        page = soap.ListSegmentMovers(pageSize=PAGE, pageToken=token, **request)
        listed = page.movers.mover if page.movers else []
        movers.extend(listed)
        sizes.append(len(listed))
        totals.add(page.totalCount)
        token = page.nextPageToken
        if token is None:
            return movers, sizes, totals


def assert_keyset_pages(movers: list[Any], sizes: list[int], totals: set[int]) -> None:
    ids = [mover.customerId for mover in movers]
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # in order, each once
    assert all(size == PAGE for size in sizes[:-1]) and sizes[-1] <= PAGE
    assert totals == {len(ids)}


@pytest.mark.parametrize("pair", [("a_priori", "value_then"), ("value_then", "value_now")])
def test_every_mover_is_listed_once_as_the_members_of_both_runs_show(
    runs: Runs, pair: tuple[str, str]
) -> None:
    earlier, later = (getattr(runs, name) for name in pair)
    before, after = places(runs.soap, earlier), places(runs.soap, later)
    expected = expected_movers(before, after)
    assert expected and any(None in move for move in expected.values())  # moves, enters/leaves

    movers, sizes, totals = all_pages(runs.soap, fromRunId=earlier.runId, toRunId=later.runId)

    assert_keyset_pages(movers, sizes, totals)
    assert {m.customerId: (m.fromSegmentCode, m.toSegmentCode) for m in movers} == expected
    for mover in movers:
        assert mover.valueBefore == before.get(mover.customerId, (None, None))[1]
        assert mover.valueAfter == after.get(mover.customerId, (None, None))[1]
        assert mover.name  # the customer's name from the customers record


def test_each_cell_of_the_comparison_lists_exactly_its_count_of_customers(runs: Runs) -> None:
    earlier, later = runs.value_then, runs.value_now
    compared = runs.soap.CompareSegmentationRuns(fromRunId=earlier.runId, toRunId=later.runId)
    cells = compared.transitions.transition
    assert any(cell.fromSegmentCode == cell.toSegmentCode for cell in cells)
    for cell in cells:
        movers, sizes, totals = all_pages(
            runs.soap,
            fromRunId=earlier.runId,
            toRunId=later.runId,
            fromSegmentCode=cell.fromSegmentCode,
            toSegmentCode=cell.toSegmentCode,
        )
        assert len(movers) == cell.customerCount, (cell.fromSegmentCode, cell.toSegmentCode)
        assert_keyset_pages(movers, sizes, totals)
        assert {(m.fromSegmentCode, m.toSegmentCode) for m in movers} == {
            (cell.fromSegmentCode, cell.toSegmentCode)
        }
        assert sum(m.valueBefore for m in movers) == pytest.approx(cell.valueBefore)
        assert sum(m.valueAfter for m in movers) == pytest.approx(cell.valueAfter)

    everyone, _, _ = all_pages(runs.soap, fromRunId=earlier.runId, toRunId=later.runId)
    kinds = Counter(
        "entered" if m.fromSegmentCode is None else "left" if m.toSegmentCode is None else "moved"
        for m in everyone
    )
    moved = sum(c.customerCount for c in cells if c.fromSegmentCode != c.toSegmentCode)
    assert (
        kinds
        == Counter({"entered": compared.enteredCount, "left": compared.leftCount, "moved": moved})
        - Counter()
    )  # (zero counts dropped, as Counter drops them)


def test_a_row_and_a_column_of_the_comparison_add_up_its_cells(runs: Runs) -> None:
    earlier, later = runs.a_priori, runs.value_then
    compared = runs.soap.CompareSegmentationRuns(fromRunId=earlier.runId, toRunId=later.runId)
    cells = compared.transitions.transition
    start = cells[0].fromSegmentCode
    row, _, _ = all_pages(
        runs.soap, fromRunId=earlier.runId, toRunId=later.runId, fromSegmentCode=start
    )
    # Codes differ between methods, so every customer of the row moved; those the later
    # run left out are in the row too.
    left_out = [m for m in row if m.toSegmentCode is None]
    assert len(row) - len(left_out) == sum(
        c.customerCount for c in cells if c.fromSegmentCode == start
    )
    end = "V1"
    column, _, _ = all_pages(
        runs.soap, fromRunId=earlier.runId, toRunId=later.runId, toSegmentCode=end
    )
    entered = [m for m in column if m.fromSegmentCode is None]
    assert len(column) - len(entered) == sum(
        c.customerCount for c in cells if c.toSegmentCode == end
    )


def test_up_and_down_split_the_value_movers_by_tier_rank(runs: Runs) -> None:
    earlier, later = runs.value_then, runs.value_now
    request = {"fromRunId": earlier.runId, "toRunId": later.runId}
    up, _, _ = all_pages(runs.soap, direction="Up", **request)
    down, _, _ = all_pages(runs.soap, direction="Down", **request)
    everyone, _, _ = all_pages(runs.soap, **request)

    def rank(code: str) -> int:  # V1 is the best of four tiers in both runs
        return int(code[1:])

    assert up and down
    assert all(rank(m.toSegmentCode) < rank(m.fromSegmentCode) for m in up)
    assert all(rank(m.toSegmentCode) > rank(m.fromSegmentCode) for m in down)
    between_tiers = [m for m in everyone if m.fromSegmentCode and m.toSegmentCode]
    assert sorted(m.customerId for m in up + down) == sorted(m.customerId for m in between_tiers)
    gold_down, _, _ = all_pages(runs.soap, direction="Down", fromSegmentCode="V1", **request)
    assert [m.customerId for m in gold_down] == [
        m.customerId for m in down if m.fromSegmentCode == "V1"
    ]


def test_a_segment_given_twice_lists_its_stayers(runs: Runs) -> None:
    earlier, later = runs.value_then, runs.value_now
    stayers, _, _ = all_pages(
        runs.soap,
        fromRunId=earlier.runId,
        toRunId=later.runId,
        fromSegmentCode="V4",
        toSegmentCode="V4",
    )
    before, after = places(runs.soap, earlier), places(runs.soap, later)
    assert [m.customerId for m in stayers] == sorted(
        c for c, (code, _) in before.items() if code == "V4" and after.get(c, (None,))[0] == "V4"
    )


def fault_of(call: Any) -> tuple[str, Any]:
    with pytest.raises(zeep.exceptions.Fault) as raised:
        call()
    (detail,) = list(raised.value.detail)
    return detail.tag.removeprefix(f"{{{TNS}}}"), detail


def test_wrong_requests_are_typed_faults_naming_what_was_wrong(runs: Runs) -> None:
    soap, earlier, later = runs.soap, runs.value_then, runs.value_now
    pair = {"fromRunId": earlier.runId, "toRunId": later.runId}

    kind, detail = fault_of(lambda: soap.ListSegmentMovers(fromRunId=987654, toRunId=later.runId))
    assert kind == "RunNotFoundFault" and detail.findtext(f"{{{TNS}}}runId") == "987654"

    kind, detail = fault_of(lambda: soap.ListSegmentMovers(fromSegmentCode="V9", **pair))
    assert kind == "SegmentNotFoundFault"
    assert detail.findtext(f"{{{TNS}}}segmentCode") == "V9"

    kind, detail = fault_of(
        lambda: soap.ListSegmentMovers(
            fromRunId=runs.a_priori.runId, toRunId=later.runId, direction="Up"
        )
    )
    assert kind == "InvalidRequestFault" and detail.findtext(f"{{{TNS}}}field") == "direction"

    first = soap.ListSegmentMovers(pageSize=1, **pair)
    assert first.nextPageToken
    kind, detail = fault_of(
        lambda: soap.ListSegmentMovers(pageToken=first.nextPageToken, direction="Down", **pair)
    )
    assert kind == "InvalidRequestFault" and detail.findtext(f"{{{TNS}}}field") == "pageToken"
    kind, detail = fault_of(lambda: soap.ListSegmentMovers(pageToken="bm90LWEtdG9rZW4", **pair))
    assert kind == "InvalidRequestFault" and detail.findtext(f"{{{TNS}}}field") == "pageToken"

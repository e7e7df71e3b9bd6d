"""Contract 1.4, live: customer portfolios over zeep, every message checked against the XSD."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from zeep.exceptions import Fault

from tests.contract.conftest import VIEWER, XsdValidator

TNS = "urn:customer-segmentation:v1"


def latest_runs(soap: Any) -> tuple[Any, Any]:
    value = soap.SegmentCustomers(method="ValueBased", valueBased={"valueMetric": "Clv"})
    needs = soap.SegmentCustomers(method="NeedsBased", needsBased={"segmentCount": 3})
    return value, needs


def fault_detail(raised: pytest.ExceptionInfo[Fault], name: str) -> dict[str, str]:
    (entry,) = [child for child in raised.value.detail if isinstance(child.tag, str)]
    assert entry.tag == f"{{{TNS}}}{name}"
    return {etree.QName(child).localname: child.text or "" for child in entry}


def test_a_portfolio_is_created_evaluated_owned_and_kept_in_its_history(
    soap: Any, validator: XsdValidator
) -> None:
    value, needs = latest_runs(soap)
    created = soap.CreatePortfolio(
        name="contract: value x needs", rows="ValueBased", columns="NeedsBased", owner="Ana"
    )
    assert (created.rows, created.columns, created.owner) == ("ValueBased", "NeedsBased", "Ana")
    assert created.evaluation is None

    portfolio = soap.GetPortfolio(portfolioId=created.portfolioId)
    evaluation = portfolio.evaluation
    assert (evaluation.rowsRunId, evaluation.columnsRunId) == (value.runId, needs.runId)
    cells = evaluation.cells.cell
    assert len(cells) == len(value.segments.segment) * len(needs.segments.segment)
    in_grid = sum(cell.customers for cell in cells)
    assert in_grid + evaluation.outside.customers == value.customerCount
    assert sum(cell.equityShare or 0.0 for cell in cells) == pytest.approx(1.0)
    for cell in cells:
        assert cell.profit == pytest.approx(cell.revenue - cell.cost)
        assert cell.equityChange is None  # no earlier evaluation
    first = max(cells, key=lambda cell: cell.customers)

    owned = soap.SetPortfolioCellOwner(
        portfolioId=created.portfolioId,
        rowSegmentCode=first.rowSegmentCode,
        columnSegmentCode=first.columnSegmentCode,
        owner="Bea",
    )
    assert (owned.rowSegmentName, owned.columnSegmentName, owned.owner) == (
        first.rowSegmentName,
        first.columnSegmentName,
        "Bea",
    )
    second = soap.GetPortfolio(portfolioId=created.portfolioId).evaluation
    changed = {(c.rowSegmentName, c.columnSegmentName): c for c in second.cells.cell}
    now = changed[(first.rowSegmentName, first.columnSegmentName)]
    assert now.equityChange == pytest.approx(now.customerEquity - first.customerEquity)

    history = soap.GetPortfolioHistory(portfolioId=created.portfolioId)
    assert history.portfolio.portfolioId == created.portfolioId
    evaluations = history.evaluations.evaluation
    assert len(evaluations) == 2
    later = {
        (cell.rowSegmentName, cell.columnSegmentName): cell for cell in evaluations[1].cells.cell
    }
    kept = later[(first.rowSegmentName, first.columnSegmentName)]
    assert kept.owner == "Bea"
    assert kept.equityChange == pytest.approx(kept.customerEquity - first.customerEquity)
    assert validator.validated[-1] == "GetPortfolioHistoryResponse"

    listed = soap.ListPortfolios()
    assert created.portfolioId in [p.portfolioId for p in listed]
    deleted = soap.DeletePortfolio(portfolioId=created.portfolioId)
    assert deleted.name == created.name
    with pytest.raises(Fault) as raised:
        soap.GetPortfolio(portfolioId=created.portfolioId)
    assert raised.value.code.split(":")[-1] == "Client.PortfolioNotFound"
    assert fault_detail(raised, "PortfolioNotFoundFault") == {
        "portfolioId": str(created.portfolioId)
    }


def test_a_portfolio_of_one_method_twice_is_an_invalid_request(soap: Any) -> None:
    with pytest.raises(Fault) as raised:
        soap.CreatePortfolio(name="contract: twice", rows="ValueBased", columns="ValueBased")
    assert fault_detail(raised, "InvalidRequestFault")["field"] == "columns"


def test_viewers_read_portfolios_but_do_not_create_them(soap: Any, soap_as: Any) -> None:
    latest_runs(soap)
    created = soap.CreatePortfolio(
        name="contract: for viewers", rows="NeedsBased", columns="ValueBased"
    )
    viewer = soap_as(VIEWER)

    assert viewer.GetPortfolio(portfolioId=created.portfolioId).evaluation is not None
    with pytest.raises(Fault) as raised:
        viewer.CreatePortfolio(name="contract: viewer's", rows="ValueBased", columns="APriori")
    assert fault_detail(raised, "AccessDeniedFault") == {
        "operation": "CreatePortfolio",
        "role": "viewer",
    }


def test_segments_and_cells_carry_treatments_that_analysts_override(soap: Any) -> None:
    value, needs = latest_runs(soap)
    for segment in value.segments.segment:
        assert segment.treatment.strategy in {
            "Retain",
            "Develop",
            "WinBack",
            "Acquire",
            "ReduceCostToServe",
            "Maintain",
        }
        assert segment.treatment.overridden is False
    top = value.segments.segment[0]

    changed = soap.SetSegmentTreatment(
        runId=value.runId, segmentCode=top.code, strategy="Develop", message="premium bundle"
    )
    assert (changed.treatment.strategy, changed.treatment.overridden) == ("Develop", True)
    assert changed.treatment.channel == top.treatment.channel
    read = soap.GetSegmentationRun(runId=value.runId).segments.segment[0]
    assert read.treatment.message == "premium bundle"

    created = soap.CreatePortfolio(
        name="contract: treatments", rows="ValueBased", columns="NeedsBased"
    )
    cell = max(
        soap.GetPortfolio(portfolioId=created.portfolioId).evaluation.cells.cell,
        key=lambda found: found.customers,
    )
    assert cell.treatment is not None and cell.treatment.overridden is False
    set_ = soap.SetPortfolioCellTreatment(
        portfolioId=created.portfolioId,
        rowSegmentCode=cell.rowSegmentCode,
        columnSegmentCode=cell.columnSegmentCode,
        strategy="WinBack",
        channel="Phone",
    )
    assert (set_.rowSegmentName, set_.treatment.strategy, set_.treatment.channel) == (
        cell.rowSegmentName,
        "WinBack",
        "Phone",
    )
    again = {
        (c.rowSegmentName, c.columnSegmentName): c
        for c in soap.GetPortfolio(portfolioId=created.portfolioId).evaluation.cells.cell
    }[(cell.rowSegmentName, cell.columnSegmentName)]
    assert (again.treatment.strategy, again.treatment.overridden) == ("WinBack", True)

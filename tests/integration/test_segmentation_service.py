"""segment_customers and the lookups over a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from segmentation_service import services
from segmentation_service.domain.errors import (
    CustomerNotFound,
    InsufficientData,
    InvalidRequest,
    SegmentationError,
)
from segmentation_service.domain.model import (
    APrioriOptions,
    Condition,
    ConditionOperator,
    NeedsBasedOptions,
    Rule,
    RunStatus,
    SegmentationMethod,
    SegmentationRequest,
    ValueBasedOptions,
    ValueMetric,
)
from segmentation_service.engines.a_priori_partitions import APrioriPartitionPlan
from segmentation_service.engines.needs_based import NeedsBasedSegmenter
from segmentation_service.engines.value_partitions import ValueBasedPartitionPlan
from segmentation_service.observability.logs import bind_request_id, unbind_request_id
from segmentation_service.store.database import Store
from tests import factories

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


def run(store: Store, request: SegmentationRequest):  # type: ignore[no-untyped-def]
    return services.segment_customers(request, store.unit_of_work(), now=clock)


def test_a_priori_run_assigns_every_customer_and_keeps_the_run(store: Store) -> None:
    data = factories.load_demo(store, 300)
    result = run(
        store,
        SegmentationRequest(
            SegmentationMethod.A_PRIORI, label="by type", a_priori=APrioriOptions(("customerType",))
        ),
    )
    assert result.status is RunStatus.COMPLETED
    assert result.customer_count == result.assigned_count == len(data.customers)
    sizes = {segment.code: segment.size for segment in result.segments}
    expected = data.customers["customer_type"].value_counts()
    assert sizes == {"B2B": expected["B2B"], "B2C": expected["B2C"]}
    assert sum(segment.share for segment in result.segments) == pytest.approx(1.0)


def test_needs_based_run_leaves_customers_without_answers_unassigned(store: Store) -> None:
    data = factories.load_demo(store, 300)
    result = run(
        store,
        SegmentationRequest(
            SegmentationMethod.NEEDS_BASED, needs_based=NeedsBasedOptions(segment_count=5)
        ),
    )
    respondents = data.needs["customer_id"].nunique()
    assert result.unassigned_count >= len(data.customers) - respondents
    assert len(result.segments) == 5
    metrics = {metric.name: metric.value for metric in result.metrics}
    assert metrics["needs.k"] == 5


def test_value_based_run_cuts_equal_tiers_of_buyers(store: Store) -> None:
    factories.load_demo(store, 300)
    result = run(
        store,
        SegmentationRequest(
            SegmentationMethod.VALUE_BASED,
            value_based=ValueBasedOptions(ValueMetric.REVENUE, tier_count=4),
        ),
    )
    assert [segment.name for segment in result.segments] == ["Platinum", "Gold", "Silver", "Bronze"]
    sizes = [segment.size for segment in result.segments]
    assert max(sizes) - min(sizes) <= 1
    averages = [segment.average_value for segment in result.segments]
    assert averages == sorted(averages, reverse=True)


def test_restricted_run_only_covers_the_given_customers(store: Store) -> None:
    data = factories.load_demo(store, 300)
    ids = tuple(data.customers["customer_id"][:25])
    result = run(store, SegmentationRequest(SegmentationMethod.A_PRIORI, customer_ids=ids))
    assert result.customer_count == 25


def test_unknown_customer_in_a_run_is_refused_before_any_run_is_kept(store: Store) -> None:
    factories.load_demo(store, 100)
    with pytest.raises(CustomerNotFound) as raised:
        run(store, SegmentationRequest(SegmentationMethod.A_PRIORI, customer_ids=("C0000001", "X")))
    assert raised.value.customer_id == "X"
    with store.unit_of_work() as uow:
        assert uow.runs.latest_completed(SegmentationMethod.A_PRIORI) is None
        assert uow.runs.get(1) is None


def test_options_for_another_method_are_refused(store: Store) -> None:
    factories.load_demo(store, 100)
    with pytest.raises(InvalidRequest) as raised:
        run(
            store,
            SegmentationRequest(
                SegmentationMethod.A_PRIORI, value_based=ValueBasedOptions(tier_count=3)
            ),
        )
    assert raised.value.field == "valueBased"


def test_run_the_data_cannot_support_is_kept_as_failed_without_assignments(store: Store) -> None:
    factories.load_demo(store, 100)
    with pytest.raises(InsufficientData) as raised:
        run(
            store,
            SegmentationRequest(
                SegmentationMethod.NEEDS_BASED,
                customer_ids=("C0000001", "C0000002"),
                needs_based=NeedsBasedOptions(segment_count=5),
            ),
        )
    assert raised.value.field == "needsBased"
    assert "more than 5 are needed to form 5 segments" in raised.value.reason
    with store.unit_of_work() as uow:
        failed = uow.runs.get(1)
    assert failed is not None and failed.status is RunStatus.FAILED
    assert failed.failure_reason == str(raised.value)
    assert failed.segments == ()


def customers_without_purchases_or_answers(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.customers.upsert([factories.customer(f"C{i}") for i in range(1, 9)])
        uow.commit()


@pytest.mark.parametrize(
    ("request_", "field", "reason"),
    [
        (
            SegmentationRequest(SegmentationMethod.NEEDS_BASED),
            "needsBased",
            "no needs were answered: nobody has answered the needs survey",
        ),
        (
            SegmentationRequest(
                SegmentationMethod.VALUE_BASED, value_based=ValueBasedOptions(tier_count=4)
            ),
            "valueBased",
            "0 customers have purchases; 4 tiers need at least 4",
        ),
    ],
    ids=["no respondents", "no purchases"],
)
def test_a_data_condition_fails_the_run_with_the_reason_the_caller_can_act_on(
    store: Store, request_: SegmentationRequest, field: str, reason: str
) -> None:
    customers_without_purchases_or_answers(store)

    with pytest.raises(InsufficientData) as raised:
        run(store, request_)

    assert (raised.value.field, raised.value.reason) == (field, reason)
    with store.unit_of_work() as uow:
        failed = uow.runs.get(1)
    assert failed is not None and failed.status is RunStatus.FAILED
    assert failed.failure_reason == f"{field}: {reason}"


@pytest.fixture
def request_id() -> Iterator[str]:
    """The run is started within a request, as the SOAP layer does."""
    token = bind_request_id("req-engine-bug")
    yield "req-engine-bug"
    unbind_request_id(token)


# A bug in each method's fit (the stage that runs in the run's own process) and in its
# assignment of a partition (the stage that may run in another process).
ENGINE_BUGS = [
    (APrioriPartitionPlan, "fit", SegmentationRequest(SegmentationMethod.A_PRIORI), ValueError),
    (NeedsBasedSegmenter, "fit", SegmentationRequest(SegmentationMethod.NEEDS_BASED), KeyError),
    (
        ValueBasedPartitionPlan,
        "assign",
        SegmentationRequest(SegmentationMethod.VALUE_BASED),
        ZeroDivisionError,
    ),
]


@pytest.mark.parametrize(
    ("engine", "stage", "request_", "bug"),
    ENGINE_BUGS,
    ids=[bug.__name__ for *_, bug in ENGINE_BUGS],
)
def test_an_engine_bug_is_not_blamed_on_the_caller_and_fails_the_run_by_reference(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    request_id: str,
    engine: type,
    stage: str,
    request_: SegmentationRequest,
    bug: type[Exception],
) -> None:
    factories.load_demo(store, 100)

    def broken(self: Any, *_args: Any) -> Any:
        raise bug("secret engine internals")

    monkeypatch.setattr(engine, stage, broken)
    with caplog.at_level(logging.ERROR), pytest.raises(bug) as raised:
        run(store, request_)

    assert not isinstance(raised.value, SegmentationError)  # left for the Server fault
    with store.unit_of_work() as uow:
        failed = uow.runs.get(1)
    assert failed is not None and failed.status is RunStatus.FAILED
    assert failed.failure_reason == f"internal error (reference {request_id})"
    assert failed.segments == ()
    (logged,) = [
        r for r in caplog.records if r.name == "segmentation_service.services.segmentation"
    ]
    assert logged.getMessage() == (
        f"segmentation run 1 failed on {bug.__name__} (reference {request_id})"
    )
    assert "secret" not in logged.getMessage()


def test_a_priori_rules_assign_the_first_matching_rule_and_default_the_rest(store: Store) -> None:
    data = factories.load_demo(store, 300)
    rules = (
        Rule(
            "LARGE",
            "Large companies",
            (Condition("employeeCount", ConditionOperator.GREATER_OR_EQUAL, ("250",)),),
        ),
        Rule(
            "B2B",
            "Other businesses",
            (Condition("customerType", ConditionOperator.EQUALS, ("B2B",)),),
        ),
    )
    result = run(
        store,
        SegmentationRequest(SegmentationMethod.A_PRIORI, a_priori=APrioriOptions(rules=rules)),
    )
    customers = data.customers.set_index("customer_id")
    large = int((customers["employee_count"] >= 250).sum())
    b2b = int((customers["customer_type"] == "B2B").sum())
    sizes = {segment.code: segment.size for segment in result.segments}
    assert sizes == {"LARGE": large, "B2B": b2b - large, "OTHER": len(customers) - b2b}
    with store.unit_of_work() as uow:
        big = customers.index[customers["employee_count"].fillna(0) >= 250][0]
        placed = uow.assignments.latest(big, SegmentationMethod.A_PRIORI)
    assert placed is not None and placed.segment_code == "LARGE"
    assert placed.reason is not None and "rule 1" in placed.reason


def test_an_ill_typed_rule_value_is_refused_naming_the_rule_and_condition(store: Store) -> None:
    factories.load_demo(store, 50)
    rules = (
        Rule("OK", "Fine", (Condition("region", ConditionOperator.EQUALS, ("North",)),)),
        Rule(
            "BAD",
            "Broken",
            (
                Condition("region", ConditionOperator.EQUALS, ("South",)),
                Condition("employeeCount", ConditionOperator.GREATER_THAN, ("many",)),
            ),
        ),
    )
    with pytest.raises(InvalidRequest) as raised:
        run(
            store,
            SegmentationRequest(SegmentationMethod.A_PRIORI, a_priori=APrioriOptions(rules=rules)),
        )
    assert raised.value.field == "aPriori.rules.rule[2].conditions.condition[2].values"
    assert "many" in raised.value.reason

"""Every operation end to end against the live server, through the XSD-validating zeep client.

Expected values come from the server's SQLite store, read directly with
SQLAlchemy. The store is shared by the whole session and accumulates runs,
so each test creates the runs it relies on and looks only at those.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from zeep.helpers import serialize_object

from tests.contract.conftest import LiveServer

METHODS = {"APriori", "NeedsBased", "ValueBased"}
DAYS_PER_MONTH = 365.25 / 12
LABEL = "Q4 <review> & \"quotes\" 'n' ümlauts € 𝄞"


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def db(live_server: LiveServer) -> Iterator[sa.Engine]:
    """Read-only access to the live server's store."""
    engine = sa.create_engine(live_server.database_url)
    yield engine
    engine.dispose()


def rows(db: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with db.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def all_customer_ids(db: sa.Engine) -> list[str]:
    return [r.customer_id for r in rows(db, "SELECT customer_id FROM customers ORDER BY 1")]


def buyer_ids(db: sa.Engine) -> set[str]:
    sql = "SELECT DISTINCT customer_id FROM transactions WHERE amount >= 0"
    return {r.customer_id for r in rows(db, sql)}


def respondent_ids(db: sa.Engine) -> set[str]:
    return {r.customer_id for r in rows(db, "SELECT DISTINCT customer_id FROM need_responses")}


def run_assignments(db: sa.Engine, run_id: int) -> dict[str, str | None]:
    """customer id -> segment code (None when the run left it unassigned)."""
    sql = "SELECT customer_id, segment_code FROM assignments WHERE run_id = :run_id"
    return {r.customer_id: r.segment_code for r in rows(db, sql, run_id=run_id)}


def segment_members(db: sa.Engine, run_id: int, code: str) -> list[str]:
    sql = (
        "SELECT customer_id FROM assignments WHERE run_id = :run_id AND segment_code = :code "
        "ORDER BY customer_id"
    )
    return [r.customer_id for r in rows(db, sql, run_id=run_id, code=code)]


def plain(value: Any) -> Any:
    return serialize_object(value, dict)


def listed(container: Any, child: str) -> list[Any]:
    """Items of a list container; zeep gives None for an empty one."""
    if container is None:
        return []
    items = container[child] if isinstance(container, dict) else getattr(container, child)
    return list(items or [])


def segments_of(run: Any) -> list[dict[str, Any]]:
    return [plain(segment) for segment in listed(run.segments, "segment")]


def metrics_of(run: Any) -> dict[str, float]:
    return {metric.name: metric.value for metric in listed(run.metrics, "metric")}


def profile_of(segment: dict[str, Any]) -> dict[str, str]:
    return {entry["attribute"]: entry["value"] for entry in listed(segment["profile"], "entry")}


def assignments_of(result: Any) -> list[dict[str, Any]]:
    """GetCustomerSegment's result: zeep unwraps it into a bare list, or None when empty."""
    return [plain(item) for item in (result or [])]


def assert_completed_run(run: Any, method: str, customer_count: int) -> None:
    """What every completed run must satisfy, whatever the method."""
    assert run.method == method
    assert run.status == "Completed"
    assert run.runId >= 1
    assert run.finishedAt is not None and run.finishedAt >= run.startedAt
    assert run.customerCount == customer_count
    assert run.assignedCount + run.unassignedCount == run.customerCount
    segments = segments_of(run)
    assert segments, "a completed run has segments"
    assert len({s["code"] for s in segments}) == len(segments)
    assert sum(s["size"] for s in segments) == run.assignedCount
    for segment in segments:
        assert segment["size"] > 0
        assert segment["share"] == pytest.approx(segment["size"] / run.assignedCount)
        assert segment["averageValue"] == pytest.approx(segment["totalValue"] / segment["size"])
        assert segment["name"] and segment["description"]
    assert metrics_of(run), "a completed run reports metrics"


def assert_store_matches_run(db: sa.Engine, run: Any) -> dict[str, str | None]:
    """The store holds one assignment per customer of the run, adding up to its segments."""
    stored = run_assignments(db, run.runId)
    assert len(stored) == run.customerCount
    assigned = [code for code in stored.values() if code is not None]
    assert len(assigned) == run.assignedCount
    for segment in segments_of(run):
        assert assigned.count(segment["code"]) == segment["size"], segment["code"]
    return stored


# --------------------------------------------------------- SegmentCustomers


def test_a_priori_run_groups_every_customer_by_type_and_region_by_default(
    soap: Any, db: sa.Engine
) -> None:
    run = soap.SegmentCustomers(method="APriori", label=LABEL)

    customers = rows(db, "SELECT customer_id, customer_type, region FROM customers")
    assert_completed_run(run, "APriori", len(customers))
    assert run.label == LABEL
    assert run.unassignedCount == 0
    stored = assert_store_matches_run(db, run)
    by_code = {segment["code"]: segment for segment in segments_of(run)}
    for customer in customers:
        profile = profile_of(by_code[stored[customer.customer_id]])
        assert set(profile) == {"customerType", "region"}
        if profile["customerType"] != "mixed":  # "Other" collects groups too small to keep
            assert profile == {
                "customerType": customer.customer_type or "Unknown",
                "region": customer.region or "Unknown",
            }


def test_a_priori_run_uses_the_requested_attributes_and_only_the_requested_customers(
    soap: Any, db: sa.Engine
) -> None:
    chosen = all_customer_ids(db)[10:70]

    run = soap.SegmentCustomers(
        method="APriori",
        customerIds={"customerId": chosen},
        aPriori={"groupBy": {"attribute": ["preferredChannel"]}},
    )

    assert_completed_run(run, "APriori", len(chosen))
    assert run.label is None
    stored = assert_store_matches_run(db, run)
    assert set(stored) == set(chosen)
    for segment in segments_of(run):
        assert set(profile_of(segment)) == {"preferredChannel"}
    sql = "SELECT customer_id, preferred_channel FROM customers"
    channel = {r.customer_id: r.preferred_channel for r in rows(db, sql)}
    by_code = {segment["code"]: profile_of(segment) for segment in segments_of(run)}
    for customer_id in chosen:
        value = by_code[stored[customer_id]]["preferredChannel"]
        assert value in (channel[customer_id] or "Unknown", "mixed")


def test_needs_based_run_chooses_the_segment_count_by_silhouette(soap: Any, db: sa.Engine) -> None:
    chosen = all_customer_ids(db)[:150]

    run = soap.SegmentCustomers(
        method="NeedsBased", label="contract: needs", customerIds={"customerId": chosen}
    )

    assert_completed_run(run, "NeedsBased", len(chosen))
    assert run.label == "contract: needs"
    metrics = metrics_of(run)
    assert 2 <= metrics["needs.k"] <= 10
    assert len(segments_of(run)) == metrics["needs.k"]
    assert -1 <= metrics["needs.silhouette"] <= 1
    stored = assert_store_matches_run(db, run)
    silent = set(chosen) - respondent_ids(db)
    assert silent, "the demo data has customers who never answered the survey"
    assert all(stored[customer_id] is None for customer_id in silent)
    assert run.unassignedCount >= len(silent)
    # The default seed is 0: naming the chosen k and seed 0 reproduces the run.
    explicit = soap.SegmentCustomers(
        method="NeedsBased",
        customerIds={"customerId": chosen},
        needsBased={"segmentCount": int(metrics["needs.k"]), "randomSeed": 0},
    )
    assert run_assignments(db, explicit.runId) == stored


def test_needs_based_run_with_the_same_count_and_seed_assigns_the_same_segments(
    soap: Any, db: sa.Engine
) -> None:
    chosen = {"customerId": all_customer_ids(db)[:120]}
    options = {"segmentCount": 3, "randomSeed": 7}

    first = soap.SegmentCustomers(method="NeedsBased", customerIds=chosen, needsBased=options)
    second = soap.SegmentCustomers(method="NeedsBased", customerIds=chosen, needsBased=options)

    assert_completed_run(first, "NeedsBased", 120)
    assert len(segments_of(first)) == 3
    assert second.runId != first.runId
    assert run_assignments(db, second.runId) == run_assignments(db, first.runId)


def test_value_based_run_defaults_to_four_margin_tiers_over_customers_with_purchases(
    soap: Any, db: sa.Engine
) -> None:
    run = soap.SegmentCustomers(method="ValueBased", label="contract: value defaults")

    customers = all_customer_ids(db)
    assert_completed_run(run, "ValueBased", len(customers))
    assert run.label == "contract: value defaults"
    segments = segments_of(run)
    assert [(s["code"], s["name"]) for s in segments] == [
        ("V1", "Platinum"),
        ("V2", "Gold"),
        ("V3", "Silver"),
        ("V4", "Bronze"),
    ]
    assert all(profile_of(s)["valueMetric"] == "Margin" for s in segments)
    averages = [s["averageValue"] for s in segments]
    assert averages == sorted(averages, reverse=True)
    stored = assert_store_matches_run(db, run)
    buyers = buyer_ids(db)
    assert {c for c, code in stored.items() if code is None} == set(customers) - buyers
    assert metrics_of(run)["value.customersWithPurchases"] == len(buyers)


def test_value_based_run_ranks_by_the_requested_metric_and_tier_count(
    soap: Any, db: sa.Engine
) -> None:
    run = soap.SegmentCustomers(
        method="ValueBased", valueBased={"valueMetric": "Revenue", "tierCount": 3}
    )

    assert_completed_run(run, "ValueBased", len(all_customer_ids(db)))
    segments = segments_of(run)
    assert [s["code"] for s in segments] == ["V1", "V2", "V3"]
    assert all(profile_of(s)["valueMetric"] == "Revenue" for s in segments)
    # Tiers are cut by revenue: every member of a tier out-earns every member of the next.
    revenue = {
        r.customer_id: r.revenue
        for r in rows(db, "SELECT customer_id, SUM(amount) AS revenue FROM transactions GROUP BY 1")
    }
    stored = assert_store_matches_run(db, run)
    tiers = [[revenue[c] for c, code in stored.items() if code == s["code"]] for s in segments]
    for better, worse in zip(tiers, tiers[1:], strict=False):
        assert min(better) >= max(worse)


# ------------------------------------------------------- GetCustomerSegment


def run_all_three_methods(soap: Any, db: sa.Engine) -> dict[str, Any]:
    """A fresh completed run of each method; the needs-based one over a sample, for speed."""
    return {
        "APriori": soap.SegmentCustomers(method="APriori"),
        "NeedsBased": soap.SegmentCustomers(
            method="NeedsBased",
            customerIds={"customerId": all_customer_ids(db)[:100]},
            needsBased={"segmentCount": 3},
        ),
        "ValueBased": soap.SegmentCustomers(method="ValueBased"),
    }


def test_get_customer_segment_gives_one_assignment_per_method_from_the_newest_runs(
    soap: Any, db: sa.Engine
) -> None:
    runs = run_all_three_methods(soap, db)
    sample = set(all_customer_ids(db)[:100])
    customer_id = min(sample & respondent_ids(db) & buyer_ids(db))
    assert run_assignments(db, runs["NeedsBased"].runId)[customer_id] is not None

    found = assignments_of(soap.GetCustomerSegment(customerId=customer_id))

    assert {a["method"] for a in found} == METHODS
    assert len(found) == 3
    for assignment in found:
        run = runs[assignment["method"]]
        names = {s["code"]: s["name"] for s in segments_of(run)}
        assert assignment["customerId"] == customer_id
        assert assignment["runId"] == run.runId
        assert assignment["segmentCode"] == run_assignments(db, run.runId)[customer_id]
        assert assignment["segmentName"] == names[assignment["segmentCode"]]
        assert assignment["assignedAt"] is not None


def test_get_customer_segment_leaves_out_methods_whose_run_left_the_customer_unassigned(
    soap: Any, db: sa.Engine
) -> None:
    runs = run_all_three_methods(soap, db)
    needs = run_assignments(db, runs["NeedsBased"].runId)
    buyers = buyer_ids(db)
    silent_buyer = min(c for c, code in needs.items() if code is None and c in buyers)
    non_buyer = min(c for c, code in needs.items() if code is not None and c not in buyers)

    silent = assignments_of(soap.GetCustomerSegment(customerId=silent_buyer))
    poor = assignments_of(soap.GetCustomerSegment(customerId=non_buyer))
    in_run = soap.GetCustomerSegment(customerId=silent_buyer, runId=runs["NeedsBased"].runId)

    assert {a["method"]: a["runId"] for a in silent} == {
        "APriori": runs["APriori"].runId,
        "ValueBased": runs["ValueBased"].runId,
    }
    assert {a["method"]: a["runId"] for a in poor} == {
        "APriori": runs["APriori"].runId,
        "NeedsBased": runs["NeedsBased"].runId,
    }
    assert assignments_of(in_run) == []


def test_get_customer_segment_skips_a_newer_run_that_did_not_cover_the_customer(
    soap: Any, db: sa.Engine
) -> None:
    customers = all_customer_ids(db)
    covering = soap.SegmentCustomers(method="APriori")
    soap.SegmentCustomers(method="APriori", customerIds={"customerId": customers[100:150]})

    found = assignments_of(soap.GetCustomerSegment(customerId=customers[0], method="APriori"))

    assert [(a["runId"], a["segmentCode"]) for a in found] == [
        (covering.runId, run_assignments(db, covering.runId)[customers[0]])
    ]


def test_get_customer_segment_filters_by_method(soap: Any, db: sa.Engine) -> None:
    run = soap.SegmentCustomers(method="ValueBased", valueBased={"tierCount": 2})
    customer_id = min(buyer_ids(db))

    found = assignments_of(soap.GetCustomerSegment(customerId=customer_id, method="ValueBased"))

    assert len(found) == 1
    assert found[0]["method"] == "ValueBased"
    assert found[0]["runId"] == run.runId
    assert found[0]["segmentCode"] == run_assignments(db, run.runId)[customer_id]


def test_get_customer_segment_reads_an_older_run_by_its_id(soap: Any, db: sa.Engine) -> None:
    customer_id = all_customer_ids(db)[0]
    older = soap.SegmentCustomers(
        method="APriori", aPriori={"groupBy": {"attribute": ["preferredChannel"]}}
    )
    newer = soap.SegmentCustomers(method="APriori", aPriori={"groupBy": {"attribute": ["region"]}})

    by_id = assignments_of(soap.GetCustomerSegment(customerId=customer_id, runId=older.runId))
    with_method = soap.GetCustomerSegment(
        customerId=customer_id, runId=older.runId, method="APriori"
    )
    latest = assignments_of(soap.GetCustomerSegment(customerId=customer_id, method="APriori"))

    assert [(a["runId"], a["segmentCode"]) for a in by_id] == [
        (older.runId, run_assignments(db, older.runId)[customer_id])
    ]
    assert assignments_of(with_method) == by_id
    assert [(a["runId"], a["segmentCode"]) for a in latest] == [
        (newer.runId, run_assignments(db, newer.runId)[customer_id])
    ]


# ------------------------------------------------------- ScoreCustomerValue


def expected_value(db: sa.Engine, customer_id: str, today: date) -> dict[str, Any]:
    """The figures of one customer as of ``today``, computed here from its raw transactions."""
    sql = "SELECT occurred_at, amount, cost FROM transactions WHERE customer_id = :customer_id"
    transactions = [
        (datetime.fromisoformat(str(r.occurred_at)), r.amount, r.cost or 0.0)
        for r in rows(db, sql, customer_id=customer_id)
        if datetime.fromisoformat(str(r.occurred_at)).date() <= today
    ]
    purchases = [(moment, amount) for moment, amount, _ in transactions if amount >= 0]
    revenue = sum(amount for _, amount, _ in transactions)
    first = min(moment for moment, _ in purchases).date()
    last = max(moment for moment, _ in purchases).date()
    return {
        "transactionCount": len(transactions),
        "firstPurchaseDate": first,
        "lastPurchaseDate": last,
        "recencyDays": (today - last).days,
        "totalRevenue": revenue,
        "totalMargin": revenue - sum(cost for _, _, cost in transactions),
        "averageOrderValue": sum(amount for _, amount in purchases) / len(purchases),
        "monthlyRevenue": revenue / max((today - first).days / DAYS_PER_MONTH, 1),
    }


def test_score_customer_value_matches_a_computation_from_the_stored_transactions(
    soap: Any, db: sa.Engine
) -> None:
    # A customer with several purchases and at least one return exercises every rule.
    sql = (
        "SELECT customer_id FROM transactions GROUP BY customer_id "
        "HAVING SUM(amount < 0) > 0 AND SUM(amount > 0) > 2 ORDER BY customer_id LIMIT 1"
    )
    (customer_id,) = [r.customer_id for r in rows(db, sql)]

    result = soap.ScoreCustomerValue(customerIds={"customerId": [customer_id]})

    today = datetime.now(timezone.utc).date()
    (score,) = [plain(s) for s in listed(result.scores, "score")]
    assert listed(result.unknownCustomerIds, "customerId") == []
    assert score["customerId"] == customer_id
    for field, value in expected_value(db, customer_id, today).items():
        assert score[field] == pytest.approx(value), field


def test_score_customer_value_as_of_a_past_day_ignores_later_transactions(
    soap: Any, db: sa.Engine
) -> None:
    sql = (
        "SELECT customer_id, MIN(occurred_at) AS first, MAX(occurred_at) AS last "
        "FROM transactions WHERE amount >= 0 GROUP BY customer_id "
        "HAVING COUNT(*) > 5 ORDER BY customer_id LIMIT 1"
    )
    (found,) = rows(db, sql)
    first = datetime.fromisoformat(str(found.first)).date()
    last = datetime.fromisoformat(str(found.last)).date()
    as_of = first + (last - first) / 2

    result = soap.ScoreCustomerValue(
        customerIds={"customerId": [found.customer_id]}, asOfDate=as_of
    )
    today = soap.ScoreCustomerValue(customerIds={"customerId": [found.customer_id]})

    (score,) = [plain(s) for s in listed(result.scores, "score")]
    for field, value in expected_value(db, found.customer_id, as_of).items():
        assert score[field] == pytest.approx(value), field
    assert score["lastPurchaseDate"] <= as_of < listed(today.scores, "score")[0].lastPurchaseDate


def test_score_customer_value_lists_unknown_ids_instead_of_failing(
    soap: Any, db: sa.Engine
) -> None:
    known = sorted(buyer_ids(db))[:2]

    result = soap.ScoreCustomerValue(
        customerIds={"customerId": ["NO-SUCH-1", known[0], "NO-SUCH-2", known[1]]}
    )

    assert [s.customerId for s in listed(result.scores, "score")] == known
    assert listed(result.unknownCustomerIds, "customerId") == ["NO-SUCH-1", "NO-SUCH-2"]


def test_score_customer_value_of_unknown_ids_only_lists_them_all(soap: Any) -> None:
    result = soap.ScoreCustomerValue(customerIds={"customerId": ["NO-SUCH-B", "NO-SUCH-A"]})

    assert listed(result.scores, "score") == []
    assert listed(result.unknownCustomerIds, "customerId") == ["NO-SUCH-B", "NO-SUCH-A"]


def test_score_customer_value_of_a_customer_without_purchases_has_no_dates_or_model_figures(
    soap: Any, db: sa.Engine
) -> None:
    soap.SegmentCustomers(method="ValueBased")
    customer_id = min(set(all_customer_ids(db)) - buyer_ids(db))

    result = soap.ScoreCustomerValue(customerIds={"customerId": [customer_id]})

    (score,) = [plain(s) for s in listed(result.scores, "score")]
    assert score["customerId"] == customer_id
    for field in ("firstPurchaseDate", "lastPurchaseDate", "recencyDays", "rfmScore"):
        assert score[field] is None, field
    for field in ("rfmSegment", "predictedClv", "valueTier"):
        assert score[field] is None, field
    assert score["averageOrderValue"] == 0


def test_score_customer_value_adds_rfm_tier_and_clv_from_the_latest_value_based_run(
    soap: Any, db: sa.Engine
) -> None:
    run = soap.SegmentCustomers(method="ValueBased", valueBased={"valueMetric": "Margin"})
    stored = run_assignments(db, run.runId)
    names = {s["code"]: s["name"] for s in segments_of(run)}
    sample = sorted(c for c, code in stored.items() if code is not None)[:25]

    result = soap.ScoreCustomerValue(customerIds={"customerId": sample})
    longer = soap.ScoreCustomerValue(customerIds={"customerId": sample}, horizonMonths=60)

    scores = [plain(s) for s in listed(result.scores, "score")]
    assert [s["customerId"] for s in scores] == sample
    clv_fitted = metrics_of(run)["clv.available"] == 1.0
    for score in scores:
        assert re.fullmatch(r"[1-5]{3}", score["rfmScore"])
        assert score["rfmSegment"]
        assert score["valueTier"] == names[stored[score["customerId"]]]
        assert (score["predictedClv"] is not None) is clv_fitted
    if clv_fitted:
        longer_clv = [s.predictedClv for s in listed(longer.scores, "score")]
        assert longer_clv != [s["predictedClv"] for s in scores]


# ------------------------------------------------------- ListSegmentMembers


def page_through(soap: Any, **request: Any) -> list[Any]:
    pages = [soap.ListSegmentMembers(**request)]
    while pages[-1].nextPageToken is not None:
        assert len(pages) < 100, "paging does not end"
        pages.append(soap.ListSegmentMembers(**request, pageToken=pages[-1].nextPageToken))
    return pages


def page_size_for(size: int, *, divides: bool) -> int:
    """The largest page size giving at least 2 (divides) or 3 pages, dividing the size or not."""
    pages = 2 if divides else 3
    return max(n for n in range(2, size // pages + 1) if (size % n == 0) is divides)


@pytest.mark.parametrize("divides", [False, True], ids=["partial-last-page", "full-last-page"])
def test_list_segment_members_pages_through_every_member_exactly_once(
    soap: Any, db: sa.Engine, divides: bool
) -> None:
    run = soap.SegmentCustomers(method="ValueBased")
    segment = segments_of(run)[0]
    page_size = page_size_for(segment["size"], divides=divides)

    pages = page_through(soap, segmentCode=segment["code"], runId=run.runId, pageSize=page_size)

    members = [plain(m) for page in pages for m in listed(page.members, "member")]
    ids = [m["customerId"] for m in members]
    assert len(pages) == math.ceil(segment["size"] / page_size)
    assert all(len(listed(page.members, "member")) == page_size for page in pages[:-1])
    assert 1 <= len(listed(pages[-1].members, "member")) <= page_size
    assert all(page.nextPageToken for page in pages[:-1])
    assert {(p.runId, p.segmentCode, p.totalCount) for p in pages} == {
        (run.runId, segment["code"], segment["size"])
    }
    assert len(ids) == len(set(ids)) == segment["size"]
    assert ids == sorted(ids) == segment_members(db, run.runId, segment["code"])
    names = {r.customer_id: r.name for r in rows(db, "SELECT customer_id, name FROM customers")}
    assert all(m["name"] == names[m["customerId"]] for m in members)
    assert all(m["value"] is not None and m["score"] is not None for m in members)


def test_list_segment_members_serves_pages_of_100_by_default(soap: Any, db: sa.Engine) -> None:
    run = soap.SegmentCustomers(method="ValueBased", valueBased={"tierCount": 2})
    segment = segments_of(run)[0]
    assert segment["size"] > 100

    first = soap.ListSegmentMembers(segmentCode=segment["code"], runId=run.runId)

    assert len(listed(first.members, "member")) == 100
    assert first.nextPageToken is not None
    pages = page_through(soap, segmentCode=segment["code"], runId=run.runId, pageSize=1000)
    assert len(pages) == 1 and pages[0].nextPageToken is None
    assert len(listed(pages[0].members, "member")) == segment["size"] == pages[0].totalCount


def test_page_token_keeps_paging_the_run_it_started_on_after_a_newer_run(
    soap: Any, db: sa.Engine
) -> None:
    customers = all_customer_ids(db)
    by_type = {"groupBy": {"attribute": ["customerType"]}}
    old = soap.SegmentCustomers(
        method="APriori", customerIds={"customerId": customers[:90]}, aPriori=by_type
    )
    code = max(segments_of(old), key=lambda s: s["size"])["code"]
    request = {"segmentCode": code, "method": "APriori", "pageSize": 10}
    first = soap.ListSegmentMembers(**request)
    assert first.runId == old.runId

    new = soap.SegmentCustomers(
        method="APriori", customerIds={"customerId": customers[-90:]}, aPriori=by_type
    )
    assert soap.ListSegmentMembers(**request).runId == new.runId
    pages = [first]
    while pages[-1].nextPageToken is not None:
        pages.append(soap.ListSegmentMembers(**request, pageToken=pages[-1].nextPageToken))

    assert {page.runId for page in pages} == {old.runId}
    ids = [m.customerId for page in pages for m in listed(page.members, "member")]
    assert ids == segment_members(db, old.runId, code)
    assert len(ids) > 10


def test_score_customer_value_predicts_churn_risk_intervals_and_the_next_purchase(
    soap: Any,
) -> None:
    soap.SegmentCustomers(method="ValueBased", valueBased={"valueMetric": "Clv"})
    ids = [f"C{number:07d}" for number in range(1, 121)]

    result = soap.ScoreCustomerValue(customerIds={"customerId": ids}, horizonMonths=12)

    buyers = [s for s in result.scores.score if s.transactionCount > 0]
    assert buyers
    for score in result.scores.score:
        numbers = [
            value
            for value in (
                score.predictedClv,
                score.predictedClvLow,
                score.predictedClvHigh,
                score.expectedPurchases,
                score.expectedDaysToNextPurchase,
            )
            if value is not None
        ]
        assert all(math.isfinite(value) for value in numbers)
        if score.probabilityAlive is None:  # no purchases: nothing to predict
            assert score.churnRisk is None and score.expectedPurchasesLow is None
            continue
        alive = score.probabilityAlive
        assert score.churnRisk == ("High" if alive < 0.3 else "Low" if alive >= 0.7 else "Medium")
        assert 0 <= score.expectedPurchasesLow <= score.expectedPurchasesHigh
        assert score.predictedClvLow <= score.predictedClvHigh
        assert (score.expectedDaysToNextPurchase is None) or alive >= 0.5
    assert {s.churnRisk for s in buyers} >= {"Low", "High"}

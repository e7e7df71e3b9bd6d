"""The bounded load test (``python -m bench.load_test``), a shorter variant, on PostgreSQL.

The full run (16 clients, 60 s, 5,000 customers, 4 workers) is documented in
the README; this one keeps CI short while still mixing every operation, the
declared faults, and runs during the load through the queue (SegmentCustomers,
which submits and waits, and SubmitSegmentation: plain, with an idempotency key,
cancelled) executed by two run workers, then drained and audited.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bench import load_test

pytestmark = pytest.mark.postgres
EVERY_KIND = {
    "GetCustomerSegment",
    "GetCustomerSegment(runId)",
    "GetCustomerSegment(unknown)",
    "GetCustomerSegment(wrong password)",
    "ScoreCustomerValue(100)",
    "ListSegmentMembers(100)",
    "ListSegmentMembers(pageSize 1001)",
    "GetSegmentationRun",
    "GetSegmentationRun(unknown)",
    "ListSegmentationRuns",
    "CompareSegmentationRuns",
    "SetSegmentOwner",
    "SegmentCustomers(as viewer)",
}
QUEUE_KINDS = {
    "SubmitSegmentation",
    "SubmitSegmentation(idempotencyKey)",
    "SubmitSegmentation(same idempotencyKey)",
    "SubmitSegmentation(to cancel)",
    "CancelSegmentationRun",
    "GetSegmentationRun(submitted)",
}
RUNS = 3
SUBMISSIONS = 6


def test_mixed_load_on_postgresql_fails_nothing_and_leaves_the_store_consistent(
    postgres_url: str, tmp_path: Path
) -> None:
    url = postgres_url
    result = load_test.run_load_test(
        url,
        tmp_path,
        customers=600,
        clients=6,
        duration=10.0,
        max_requests=3000,
        runs=RUNS,
        workers=2,
        submissions=SUBMISSIONS,
        run_workers=2,
        drain_timeout=240.0,
    )

    load_test.print_result(result)
    assert result.failures == {} and result.failed == 0
    assert result.audit == []
    kinds = {kind.kind: kind for kind in result.kinds}
    never_drawn = (EVERY_KIND | QUEUE_KINDS) - set(kinds)
    assert not never_drawn, f"never drawn: {never_drawn}"
    assert len(result.completed_runs) == RUNS
    # Each submission is a new run; the same key again answered the same one (audited).
    assert len(result.submitted_runs) == SUBMISSIONS
    assert kinds["CancelSegmentationRun"].expected == "ok|InvalidRequestFault"
    assert {kinds[kind].expected for kind in EVERY_KIND} >= {
        "ok",
        "CustomerNotFoundFault",
        "AuthenticationFault",
        "InvalidRequestFault",
        "RunNotFoundFault",
        "AccessDeniedFault",
    }

    # The audit is what makes "consistent" mean something: a half-written run fails it.
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "DELETE FROM assignments WHERE customer_id IN (SELECT customer_id FROM assignments"
                " WHERE run_id = :run LIMIT 5) AND run_id = :run"
            ),
            {"run": result.completed_runs[0]},
        )
    engine.dispose()
    findings = load_test.audit(url, load_test.counts(url), result.completed_runs)
    assert any(f"run {result.completed_runs[0]}:" in finding for finding in findings), findings

    # ... and so does a submitted run left in the queue, or one the store lost.
    stuck = result.submitted_runs[0]
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE segmentation_runs SET status = 'Queued' WHERE run_id = :run"),
            {"run": stuck},
        )
    engine.dispose()
    lost = max(result.submitted_runs) + 1000
    findings = load_test.audit(
        url,
        load_test.counts(url),
        result.completed_runs,
        [*result.submitted_runs, lost],
        result.cancelled_runs,
        known_runs=[*result.completed_runs, *result.submitted_runs, lost],
    )
    assert f"run {stuck} still Queued after the queue drained" in findings, findings
    assert f"submitted run {lost} ended missing, not Completed" in findings, findings
    assert f"runs answered but not in the store: [{lost}]" in findings, findings

"""The bounded load test (``python -m bench.load_test``), a shorter variant, on PostgreSQL.

The full run (16 clients, 60 s, 5,000 customers, 4 workers) is documented in
the README; this one keeps CI short while still mixing every operation, the
declared faults and runs started during the load.
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
RUNS = 3


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
    )

    load_test.print_result(result)
    assert result.failures == {} and result.failed == 0
    assert result.audit == []
    kinds = {kind.kind: kind for kind in result.kinds}
    assert EVERY_KIND <= set(kinds), f"never drawn: {EVERY_KIND - set(kinds)}"
    assert len(result.completed_runs) == RUNS
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

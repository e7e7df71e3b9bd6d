"""A bounded load test: many concurrent clients mixing every operation, then a store audit.

    python -m bench.load_test [--customers 5000] [--clients 16] [--duration 60]
                              [--max-requests 50000] [--runs 8] [--submissions 12]
                              [--workers 4] [--run-workers 2] [--drain-timeout 300]
                              [--database-url URL] [--out FILE.json]

Loopback only. Starts PostgreSQL (the tests' throwaway server, or the empty
database at ``--database-url``), loads generated demo customers with
``segmentation-service load-demo``, adds a viewer and an analyst, and serves
it with ``segmentation-service serve --workers N``, authentication on; runs
execute in run workers (huey consumers on the same PostgreSQL): ``serve``'s
own and ``--run-workers`` - 1 separate ``segmentation-service worker``
processes. After one run per method, ``--clients`` processes call every
operation with PasswordText or PasswordDigest tokens (half each), until
``--duration`` seconds or ``--max-requests`` calls, whichever comes first.
During the load, ``--runs`` SegmentCustomers calls (submit and wait) and
``--submissions`` SubmitSegmentation calls (all three methods, some on a
customer subset) go through the queue: a third plain, a third with an
idempotencyKey (then submitted again with the same key, which must answer the
same run), a third cancelled right after (CancelSegmentationRun: the run as it
stands, or InvalidRequestFault when it has already finished); the clients poll
what they submitted (GetSegmentationRun). Some calls are built to be refused
(unknown customer or run, a page size out of range, a viewer starting a run, a
wrong password): each must get exactly its declared fault.

Then the queue is drained (every run out of Queued and Running, bounded by
``--drain-timeout``) and the store is audited: the runs in the store are
exactly the ones the clients were answered (nothing lost, no idempotent
submission twice), none Queued or Running, every submitted run Completed
(Cancelled when its cancel was accepted), every Completed run complete (one
assignment for exactly each customer it covered, segment sizes and counts
agree), every Failed or Cancelled run without assignments or segments, every
run a client saw complete is there, customers and transactions untouched.

Prints requests/s, errors and p50/p99 per call kind; exits 1 on any failed
call (anything but the expected answer) or audit finding.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import sqlalchemy as sa
from lxml import etree

from bench import envelopes, servers
from bench.envelopes import digest_header, password_text_header
from bench.paths import run_service_cli

TNS = envelopes.TNS
SOAP_ENV = envelopes.SOAP_ENV
VIEWER = ("load-viewer", "viewer password for the load test", "viewer")
ANALYST = ("load-analyst", "analyst password for the load test", "analyst")
METHODS = ("APriori", "NeedsBased", "ValueBased")
OK = "ok"
READY_TIMEOUT_S = 120.0
# Submissions, by number: plain; with an idempotencyKey (then again); cancelled right after.
SUBMISSION_FLAVOURS = ("", "idempotencyKey", "to cancel")
UNFINISHED = ("Queued", "Running")
DRAIN_POLL_S = 0.5
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


# ----------------------------------------------------------------- the calls


@dataclass(frozen=True)
class Call:
    """One request to send: its kind, its envelope, and the answer it must get."""

    kind: str
    operation: str
    inner_xml: str
    user: tuple[str, str, str]
    expect: str = OK  # OK, or the declared fault's detail element
    wrong_password: bool = False
    accept: tuple[str, ...] = ()  # other answers that are right too (a race the caller loses)
    same_run: int | None = None  # the run the answer must name (an idempotent resubmission)

    @property
    def expected(self) -> str:
        return "|".join((self.expect, *self.accept))

    def failed_by(self, result: str) -> bool:
        return result != self.expect and result not in self.accept

    def http_headers(self) -> dict[str, str]:
        return {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{TNS}#{self.operation}"',
        }


@dataclass(frozen=True)
class Fixture:
    """What the clients know before the load: customers, runs and their segments."""

    customer_ids: list[str]
    runs: dict[str, int]  # method -> a completed run
    segments: dict[int, list[str]]  # run -> its segment codes


def envelope(call: Call, digest: bool) -> bytes:
    username, password, _role = call.user
    if call.wrong_password:
        password += "-wrong"
    header = (
        digest_header(username, password) if digest else password_text_header(username, password)
    )
    body = envelopes.request(call.operation, call.inner_xml).body
    return body.replace(b"<soap:Body>", header.encode() + b"<soap:Body>", 1)


class CallMix:
    """Every kind of call once, then calls drawn at fixed weights, mostly lookups."""

    def __init__(self, fixture: Fixture, rng: random.Random, client: int) -> None:
        self.fixture = fixture
        self.rng = rng
        self.client = client
        self.page_tokens: dict[tuple[int, str], str] = {}
        self.owners = 0
        self.pending: list[int] = []  # runs this client submitted, not yet seen finished
        self.followups: list[Call] = []  # sent next: a resubmission, a cancel
        self.makers: list[tuple[Callable[[], Call], int]] = [
            (self.customer_segment, 30),
            (self.customer_segment_of_run, 6),
            (self.unknown_customer, 3),
            (self.value_scores, 14),
            (self.member_page, 16),
            (self.page_size_out_of_range, 2),
            (self.run_record, 5),
            (self.submitted_run, 4),
            (self.unknown_run, 2),
            (self.run_listing, 5),
            (self.run_comparison, 3),
            (self.segment_owner, 3),
            (self.viewer_starts_run, 1),
            (self.wrong_password, 1),
        ]
        self.weights = [weight for _, weight in self.makers]
        # Every kind once first, in a random order, so even a short run covers them all.
        self.tour = [maker for maker, _ in self.makers]
        rng.shuffle(self.tour)

    def next(self) -> Call:
        if self.followups:
            return self.followups.pop(0)
        if self.tour:
            return self.tour.pop()()
        (maker,) = self.rng.choices([maker for maker, _ in self.makers], self.weights)
        return maker()

    def _customer(self) -> str:
        return self.rng.choice(self.fixture.customer_ids)

    def _run(self) -> int:
        return self.fixture.runs[self.rng.choice(METHODS)]

    def customer_segment(self) -> Call:
        xml = f"<customerId>{escape(self._customer())}</customerId>"
        return Call("GetCustomerSegment", "GetCustomerSegment", xml, VIEWER)

    def customer_segment_of_run(self) -> Call:
        xml = f"<customerId>{escape(self._customer())}</customerId><runId>{self._run()}</runId>"
        return Call("GetCustomerSegment(runId)", "GetCustomerSegment", xml, VIEWER)

    def unknown_customer(self) -> Call:
        xml = f"<customerId>NO-SUCH-{self.rng.randrange(10**9)}</customerId>"
        return Call(
            "GetCustomerSegment(unknown)",
            "GetCustomerSegment",
            xml,
            VIEWER,
            "CustomerNotFoundFault",
        )

    def value_scores(self) -> Call:
        ids = self.rng.sample(self.fixture.customer_ids, min(100, len(self.fixture.customer_ids)))
        ids[-1] = "NO-SUCH-CUSTOMER"  # reported in unknownCustomerIds, not a fault
        xml = "<customerIds>" + "".join(f"<customerId>{escape(i)}</customerId>" for i in ids)
        return Call("ScoreCustomerValue(100)", "ScoreCustomerValue", xml + "</customerIds>", VIEWER)

    def member_page(self) -> Call:
        run = self._run()
        code = self.rng.choice(self.fixture.segments[run])
        token = self.page_tokens.get((run, code))
        xml = (
            f"<segmentCode>{escape(code)}</segmentCode><runId>{run}</runId><pageSize>100</pageSize>"
        )
        if token:
            xml += f"<pageToken>{escape(token)}</pageToken>"
        return Call("ListSegmentMembers(100)", "ListSegmentMembers", xml, VIEWER)

    def page_size_out_of_range(self) -> Call:
        run = self._run()
        code = self.fixture.segments[run][0]
        xml = f"<segmentCode>{escape(code)}</segmentCode><runId>{run}</runId>"
        xml += "<pageSize>1001</pageSize>"
        return Call(
            "ListSegmentMembers(pageSize 1001)",
            "ListSegmentMembers",
            xml,
            VIEWER,
            "InvalidRequestFault",
        )

    def run_record(self) -> Call:
        return Call(
            "GetSegmentationRun", "GetSegmentationRun", f"<runId>{self._run()}</runId>", VIEWER
        )

    def submitted_run(self, run: int | None = None) -> Call:
        """Poll a run this client submitted (until it is seen finished)."""
        if run is None and not self.pending:
            return self.run_record()
        if run is None:
            run = self.rng.choice(self.pending)
        xml = f"<runId>{run}</runId>"
        return Call("GetSegmentationRun(submitted)", "GetSegmentationRun", xml, VIEWER)

    def unknown_run(self) -> Call:
        return Call(
            "GetSegmentationRun(unknown)",
            "GetSegmentationRun",
            "<runId>999999999</runId>",
            VIEWER,
            "RunNotFoundFault",
        )

    def run_listing(self) -> Call:
        method = self.rng.choice(METHODS)
        xml = f"<method>{method}</method><limit>20</limit>"
        return Call("ListSegmentationRuns", "ListSegmentationRuns", xml, VIEWER)

    def run_comparison(self) -> Call:
        first, second = self.rng.sample(sorted(self.fixture.runs.values()), 2)
        xml = f"<fromRunId>{first}</fromRunId><toRunId>{second}</toRunId>"
        return Call("CompareSegmentationRuns", "CompareSegmentationRuns", xml, VIEWER)

    def segment_owner(self) -> Call:
        run = self._run()
        code = self.rng.choice(self.fixture.segments[run])
        self.owners += 1
        owner = f"client {self.client} owner {self.owners}"
        xml = f"<runId>{run}</runId><segmentCode>{escape(code)}</segmentCode><owner>{owner}</owner>"
        return Call("SetSegmentOwner", "SetSegmentOwner", xml, ANALYST)

    def _run_request(self, method: str, label: str, number: int) -> str:
        xml = f"<method>{method}</method><label>{escape(label)}</label>"
        if number % 2:  # every other run covers a random fifth of the customers
            ids = self.rng.sample(self.fixture.customer_ids, len(self.fixture.customer_ids) // 5)
            xml += "<customerIds>" + "".join(f"<customerId>{escape(i)}</customerId>" for i in ids)
            xml += "</customerIds>"
        return xml

    def segmentation(self, number: int) -> Call:
        method = METHODS[number % len(METHODS)]
        xml = self._run_request(method, f"load test run {number}", number)
        return Call(f"SegmentCustomers({method})", "SegmentCustomers", xml, ANALYST)

    def submission(self, number: int) -> Call:
        """SubmitSegmentation: plain, with an idempotencyKey, or one to cancel (by number)."""
        flavour = SUBMISSION_FLAVOURS[number % len(SUBMISSION_FLAVOURS)]
        method = self.rng.choice(METHODS)
        xml = self._run_request(method, f"load test submission {number}", number)
        if flavour == "idempotencyKey":
            xml += f"<idempotencyKey>load-{self.client}-{number}</idempotencyKey>"
        kind = f"SubmitSegmentation({flavour})" if flavour else "SubmitSegmentation"
        return Call(kind, "SubmitSegmentation", xml, ANALYST)

    def viewer_starts_run(self) -> Call:
        return Call(
            "SegmentCustomers(as viewer)",
            "SegmentCustomers",
            "<method>ValueBased</method>",
            VIEWER,
            "AccessDeniedFault",
        )

    def wrong_password(self) -> Call:
        return Call(
            "GetCustomerSegment(wrong password)",
            "GetCustomerSegment",
            f"<customerId>{escape(self._customer())}</customerId>",
            VIEWER,
            "AuthenticationFault",
            wrong_password=True,
        )

    def saw(self, call: Call, result: str, root: etree._Element | None) -> Seen:
        """Check what a run call answered and follow up; follow member pages."""
        if result != OK or root is None:
            return Seen(result)
        if call.operation == "ListSegmentMembers" and call.expect == OK:
            run = int(root.findtext(f".//{{{TNS}}}runId") or 0)
            code = root.findtext(f".//{{{TNS}}}segmentCode") or ""
            token = root.findtext(f".//{{{TNS}}}nextPageToken")
            if token:
                self.page_tokens[(run, code)] = token
            else:
                self.page_tokens.pop((run, code), None)
            return Seen(result)
        if call.operation not in RUN_OPERATIONS:
            return Seen(result)
        run_id = int(root.findtext(f".//{{{TNS}}}runId") or 0)
        status = root.findtext(f".//{{{TNS}}}status") or ""
        if call.operation == "SegmentCustomers":
            ok = status == "Completed"
            return Seen(result if ok else f"run {run_id} ended {status}", run_id, "completed")
        if call.operation == "CancelSegmentationRun":
            ok = status in ("Queued", "Running", "Cancelled")
            return Seen(result if ok else f"cancel answered {status}", run_id, "cancelled")
        if status == "Failed":
            reason = root.findtext(f".//{{{TNS}}}failureReason")
            return Seen(f"run {run_id} Failed: {reason}", run_id)
        if call.operation == "GetSegmentationRun":
            if call.kind == "GetSegmentationRun(submitted)" and status not in UNFINISHED:
                self.pending = [run for run in self.pending if run != run_id]
            return Seen(result)
        # SubmitSegmentation
        if call.same_run is not None:
            ok = run_id == call.same_run
            return Seen(result if ok else f"answered run {run_id}, not {call.same_run}")
        if status == "Cancelled":
            return Seen(f"a new submission answered {status}", run_id)
        self.pending.append(run_id)
        if call.kind == "SubmitSegmentation(idempotencyKey)":
            again = replace(call, kind="SubmitSegmentation(same idempotencyKey)", same_run=run_id)
            self.followups.append(again)
        elif call.kind == "SubmitSegmentation(to cancel)":
            cancel = Call(
                "CancelSegmentationRun",
                "CancelSegmentationRun",
                f"<runId>{run_id}</runId>",
                ANALYST,
                accept=("InvalidRequestFault",),  # it finished before the cancel came
            )
            self.followups.append(cancel)
        self.followups.append(self.submitted_run(run_id))  # and then polled, at least once
        return Seen(result, run_id, "submitted")


RUN_OPERATIONS = (
    "SegmentCustomers",
    "SubmitSegmentation",
    "CancelSegmentationRun",
    "GetSegmentationRun",
)


@dataclass(frozen=True)
class Seen:
    """What an answer came to: the result, and the run it names with its role in the audit."""

    result: str
    run_id: int | None = None
    role: str | None = None  # completed (SegmentCustomers), submitted, cancelled


# ------------------------------------------------------------- the answers


@dataclass
class Outcome:
    kind: str
    result: str  # OK, a declared fault's detail element, or a description of the failure
    failed: bool
    seconds: float
    expected: str = OK
    run_id: int | None = None
    role: str | None = None  # see Seen


def classify(call: Call, status: int, body: bytes) -> tuple[str, etree._Element | None]:
    """OK, the declared fault's detail element name, or what went wrong instead."""
    try:
        root = etree.fromstring(body, PARSER)
    except etree.XMLSyntaxError:
        return f"HTTP {status}, not XML: {body[:200]!r}", None
    fault = root.find(f".//{{{SOAP_ENV}}}Fault")
    if fault is None:
        response = root.find(f".//{{{TNS}}}{call.operation}Response")
        if status == 200 and response is not None:
            return OK, root
        return f"HTTP {status} without {call.operation}Response", root
    detail = fault.find("detail")
    details = [] if detail is None else [etree.QName(child).localname for child in detail]
    if status == 500 and len(details) == 1:
        return details[0], root
    return (
        f"HTTP {status} fault {fault.findtext('faultcode')}: {fault.findtext('faultstring')}",
        root,
    )


def _client(
    number: int,
    host: str,
    port: int,
    fixture: Fixture,
    runs_left: Any,
    submissions_left: Any,
    runs_every: float,
    max_requests: int,
    barrier: Any,
    go: Any,
    start_at: Any,
    duration: float,
    results: Any,
) -> None:
    rng = random.Random(number)
    mix = CallMix(fixture, rng, number)
    digest = number % 2 == 1
    outcomes: list[Outcome] = []
    connection = http.client.HTTPConnection(host, port, timeout=300)
    barrier.wait(READY_TIMEOUT_S)
    go.wait(READY_TIMEOUT_S)  # start_at is set
    while time.monotonic() < start_at.value:
        time.sleep(0.001)
    end = start_at.value + duration
    next_run_at = start_at.value + runs_every * (number + 1)
    # Submissions in the gaps between the SegmentCustomers calls.
    next_submission_at = next_run_at + runs_every / 2
    while len(outcomes) < max_requests and time.monotonic() < end:
        call = None
        if mix.followups:  # a resubmission or a cancel goes right after its submission
            pass
        elif time.monotonic() >= next_run_at:
            number_of_run = _take(runs_left)
            if number_of_run > 0:
                call = mix.segmentation(number_of_run)
            next_run_at += runs_every * 4
        elif time.monotonic() >= next_submission_at:
            number_of_submission = _take(submissions_left)
            if number_of_submission > 0:
                call = mix.submission(number_of_submission)
            next_submission_at += runs_every * 4
        call = call or mix.next()
        body = envelope(call, digest)
        sent = time.monotonic()
        try:
            connection.request("POST", "/soap", body, call.http_headers())
            reply = connection.getresponse()
            result, root = classify(call, reply.status, reply.read())
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=300)
            result, root = f"connection: {exc!r}", None
        seconds = time.monotonic() - sent
        seen = mix.saw(call, result, root)
        failed = call.failed_by(seen.result)
        outcomes.append(
            Outcome(call.kind, seen.result, failed, seconds, call.expected, seen.run_id, seen.role)
        )
    connection.close()
    results.put(outcomes)


def _take(counter: Any) -> int:
    """Count a shared counter down; its value before (a number > 0 while any are left)."""
    with counter.get_lock():
        value = int(counter.value)
        counter.value -= 1
    return value


# ----------------------------------------------------------------- the report


@dataclass
class KindSummary:
    kind: str
    requests: int
    expected: str
    failed: int
    p50_ms: float
    p99_ms: float


@dataclass
class LoadTestResult:
    clients: int
    workers: int
    customers: int
    seconds: float
    requests: int
    failed: int
    rps: float
    p50_ms: float
    p99_ms: float
    kinds: list[KindSummary]
    failures: dict[str, int]
    completed_runs: list[int]  # SegmentCustomers answered Completed
    submitted_runs: list[int] = field(default_factory=list)  # SubmitSegmentation, new runs
    cancelled_runs: list[int] = field(default_factory=list)  # CancelSegmentationRun accepted
    run_workers: int = 1
    drain_seconds: float = 0.0
    audit: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failed == 0 and not self.audit

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def _percentile(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.array(seconds) * 1000, q)) if seconds else float("nan")


def summarise(
    outcomes: list[Outcome],
    clients: int,
    workers: int,
    customers: int,
    seconds: float,
) -> LoadTestResult:
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    kinds = [
        KindSummary(
            kind,
            len(group),
            group[0].expected,
            sum(o.failed for o in group),
            _percentile([o.seconds for o in group], 50),
            _percentile([o.seconds for o in group], 99),
        )
        for kind, group in sorted(by_kind.items())
    ]
    failures = Counter(f"{o.kind}: {o.result[:300]}" for o in outcomes if o.failed)

    def runs(role: str) -> list[int]:
        return sorted({o.run_id for o in outcomes if o.role == role and o.run_id and not o.failed})

    return LoadTestResult(
        clients=clients,
        workers=workers,
        customers=customers,
        seconds=seconds,
        requests=len(outcomes),
        failed=sum(failures.values()),
        rps=len(outcomes) / seconds,
        p50_ms=_percentile([o.seconds for o in outcomes], 50),
        p99_ms=_percentile([o.seconds for o in outcomes], 99),
        kinds=kinds,
        failures=dict(failures.most_common(20)),
        completed_runs=runs("completed"),
        submitted_runs=runs("submitted"),
        cancelled_runs=runs("cancelled"),
    )


def print_result(result: LoadTestResult) -> None:
    print(
        f"\n{result.clients} clients, {result.workers} workers, {result.customers:,} customers, "
        f"{result.seconds:.0f} s"
    )
    print(f"{'call':<40} {'requests':>9} {'answer':<24} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in result.kinds:
        print(
            f"{kind.kind:<40} {kind.requests:>9,} {kind.expected:<24} {kind.failed:>6} "
            f"{kind.p50_ms:>8.1f} {kind.p99_ms:>8.1f}"
        )
    print(
        f"{'all':<40} {result.requests:>9,} {'':<24} {result.failed:>6} "
        f"{result.p50_ms:>8.1f} {result.p99_ms:>8.1f}"
    )
    print(
        f"\n{result.rps:,.1f} requests/s; {result.failed} failed; "
        f"{len(result.completed_runs)} SegmentCustomers runs completed during the load; "
        f"{len(result.submitted_runs)} runs submitted ({len(result.cancelled_runs)} cancels "
        f"accepted) to {result.run_workers} run workers, drained {result.drain_seconds:.1f} s "
        "after the load"
    )
    for failure, count in result.failures.items():
        print(f"  failed x{count}: {failure}")
    print("store audit: " + ("consistent" if not result.audit else f"{len(result.audit)} findings"))
    for finding in result.audit:
        print(f"  {finding}")
    print("PASS" if result.passed else "FAIL")


# ------------------------------------------------------------------ the audit


def counts(database_url: str) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table: int(
                    connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                )
                for table in ("customers", "transactions", "need_responses")
            }
    finally:
        engine.dispose()


def audit(
    database_url: str,
    before: dict[str, int],
    completed_runs: Sequence[int],
    submitted_runs: Collection[int] = (),
    cancelled_runs: Collection[int] = (),
    known_runs: Collection[int] | None = None,
) -> list[str]:
    """What is wrong with the store after the load; empty when it is consistent.

    ``completed_runs`` were answered Completed (SegmentCustomers); ``submitted_runs``
    were answered by SubmitSegmentation (new runs), of which ``cancelled_runs`` had
    their cancel accepted; ``known_runs``, when given, are every run the clients were
    told of: the store must hold exactly these.
    """
    findings: list[str] = []
    after = counts(database_url)
    if after != before:
        findings.append(f"customer data changed: {before} -> {after}")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            runs = connection.execute(
                sa.text(
                    "SELECT run_id, status, customer_count, assigned_count, unassigned_count, "
                    "request FROM segmentation_runs"
                )
            ).all()
            assignments = {
                row.run_id: (row.total, row.assigned)
                for row in connection.execute(
                    sa.text(
                        "SELECT run_id, count(*) AS total, count(segment_code) AS assigned "
                        "FROM assignments GROUP BY run_id"
                    )
                )
            }
            mismatched_segments = connection.execute(
                sa.text(
                    "SELECT s.run_id, s.code, s.size, count(a.customer_id) AS members "
                    "FROM segments s LEFT JOIN assignments a "
                    "ON a.run_id = s.run_id AND a.segment_code = s.code "
                    "GROUP BY s.run_id, s.code, s.size HAVING s.size <> count(a.customer_id)"
                )
            ).all()
            segment_rows = connection.execute(
                sa.text("SELECT run_id, count(*), sum(size) FROM segments GROUP BY run_id")
            ).all()
            everybody = set(
                connection.execute(sa.text("SELECT customer_id FROM customers")).scalars()
            )
            covered = {
                run.run_id: _covered(connection, run.run_id)
                for run in runs
                if run.status == "Completed"
            }
    finally:
        engine.dispose()
    segment_count = {run_id: int(n) for run_id, n, _ in segment_rows}
    segment_sizes = {run_id: int(size or 0) for run_id, _, size in segment_rows}
    status = {run.run_id: run.status for run in runs}
    for run in runs:
        total, assigned = assignments.get(run.run_id, (0, 0))
        if run.status in UNFINISHED:
            findings.append(f"run {run.run_id} still {run.status} after the queue drained")
        elif run.status in ("Failed", "Cancelled"):
            if total or segment_count.get(run.run_id):
                findings.append(
                    f"{run.status.lower()} run {run.run_id} has {total} assignments and "
                    f"{segment_count.get(run.run_id, 0)} segments"
                )
        elif (total, assigned) != (run.customer_count, run.assigned_count):
            findings.append(
                f"run {run.run_id}: {total} assignments ({assigned} assigned), record says "
                f"{run.customer_count} ({run.assigned_count} assigned)"
            )
        elif run.customer_count != run.assigned_count + run.unassigned_count:
            findings.append(f"run {run.run_id}: assigned + unassigned != customers")
        elif segment_sizes.get(run.run_id, 0) != run.assigned_count:
            findings.append(f"run {run.run_id}: segment sizes do not add up to the assigned")
        elif covered[run.run_id] != _requested(run.request, everybody):
            wanted = _requested(run.request, everybody)
            findings.append(
                f"run {run.run_id}: assignments for {len(covered[run.run_id] - wanted)} "
                f"customers it did not cover, none for {len(wanted - covered[run.run_id])} "
                "it did"
            )
    findings += [
        f"run {row.run_id} segment {row.code}: size {row.size}, {row.members} members"
        for row in mismatched_segments
    ]
    findings += [
        f"run {run_id} answered Completed but is {status.get(run_id, 'missing')} in the store"
        for run_id in completed_runs
        if status.get(run_id) != "Completed"
    ]
    for run_id in sorted(submitted_runs):
        ending = "Cancelled" if run_id in cancelled_runs else "Completed"
        if status.get(run_id) != ending:
            findings.append(
                f"submitted run {run_id} ended {status.get(run_id, 'missing')}, not {ending}"
            )
    if known_runs is not None:
        unknown = sorted(set(status) - set(known_runs))
        lost = sorted(set(known_runs) - set(status))
        if unknown:
            findings.append(f"runs nobody was answered (a duplicate submission?): {unknown}")
        if lost:
            findings.append(f"runs answered but not in the store: {lost}")
    return findings


def _covered(connection: sa.Connection, run_id: int) -> set[str]:
    query = sa.text("SELECT customer_id FROM assignments WHERE run_id = :run")
    return set(connection.execute(query, {"run": run_id}).scalars())


def _requested(request: Any, everybody: set[str]) -> set[str]:
    """The customers a run covers: those its request names, or every customer."""
    if isinstance(request, str):  # SQLite returns JSON as text
        request = json.loads(request)
    ids = (request or {}).get("customer_ids")
    return everybody if ids is None else set(ids)


def drain(database_url: str, timeout: float) -> float:
    """Wait until no run is Queued or Running (at most ``timeout`` s); the seconds waited."""
    engine = sa.create_engine(database_url)
    started = time.monotonic()
    query = sa.text("SELECT count(*) FROM segmentation_runs WHERE status IN ('Queued', 'Running')")
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as connection:
                if not connection.execute(query).scalar_one():
                    break
            time.sleep(DRAIN_POLL_S)
    finally:
        engine.dispose()
    return time.monotonic() - started


# ------------------------------------------------------------------- the run


def _cli(database_url: str, work: Path, *arguments: str, stdin: str | None = None) -> None:
    done = run_service_cli(database_url, work, *arguments, stdin=stdin)
    if done.returncode != 0:
        raise RuntimeError(f"segmentation-service {' '.join(arguments)}: {done.stderr[-2000:]}")


def _post(server: servers.RunningServer, call: Call) -> etree._Element:
    host, port = server.host_port
    connection = http.client.HTTPConnection(host, port, timeout=600)
    try:
        connection.request("POST", "/soap", envelope(call, digest=False), call.http_headers())
        reply = connection.getresponse()
        result, root = classify(call, reply.status, reply.read())
    finally:
        connection.close()
    if result != OK or root is None:
        raise RuntimeError(f"{call.kind} during set-up: {result}")
    return root


def prepare(server: servers.RunningServer, customer_ids: list[str]) -> Fixture:
    """One completed run per method, through the service, for the lookups to read."""
    runs: dict[str, int] = {}
    segments: dict[int, list[str]] = {}
    for method in METHODS:
        xml = f"<method>{method}</method><label>load test baseline</label>"
        root = _post(server, Call(method, "SegmentCustomers", xml, ANALYST))
        run_id = int(root.findtext(f".//{{{TNS}}}runId") or 0)
        runs[method] = run_id
        segments[run_id] = [code.text or "" for code in root.iter(f"{{{TNS}}}code")]
    return Fixture(customer_ids, runs, segments)


def drive(
    server: servers.RunningServer,
    fixture: Fixture,
    clients: int,
    duration: float,
    max_requests: int,
    runs: int,
    submissions: int = 0,
) -> list[Outcome]:
    """Every client process for ``duration`` seconds or ``max_requests`` calls in all."""
    host, port = server.host_port
    context = mp.get_context("fork")
    barrier = context.Barrier(clients + 1)
    go = context.Event()
    start_at = context.Value("d", 0.0)
    runs_left = context.Value("i", runs)
    submissions_left = context.Value("i", submissions)
    results = context.Queue()
    # Spread the runs over the first half of the load, one client after another.
    runs_every = duration / 2 / max(clients, 1)
    processes = [
        context.Process(
            target=_client,
            args=(
                k,
                host,
                port,
                fixture,
                runs_left,
                submissions_left,
                runs_every,
                -(-max_requests // clients),
                barrier,
                go,
                start_at,
                duration,
                results,
            ),
            daemon=True,
        )
        for k in range(clients)
    ]
    for process in processes:
        process.start()
    barrier.wait(READY_TIMEOUT_S)
    start_at.value = time.monotonic() + 0.05
    go.set()
    outcomes = [o for _ in processes for o in results.get(timeout=duration + 900)]
    for process in processes:
        process.join(timeout=30)
    return outcomes


@contextmanager
def postgres_database(url: str | None) -> Iterator[str]:
    """``url``, or a fresh database on a throwaway PostgreSQL server."""
    if url:
        yield url
        return
    from tests.postgres import running_postgres

    with running_postgres() as server:
        yield server.create_database()


def run_load_test(
    database_url: str,
    work: Path,
    customers: int = 5000,
    clients: int = 16,
    duration: float = 60.0,
    max_requests: int = 50_000,
    runs: int = 8,
    workers: int = 4,
    submissions: int = 12,
    run_workers: int = 2,
    drain_timeout: float = 300.0,
) -> LoadTestResult:
    """Fill the empty database at ``database_url``, serve it, load it, drain it, audit it."""
    _cli(database_url, work, "init-db")
    _cli(database_url, work, "load-demo", "--customers", str(customers), "--seed", "7")
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    os.environ["SEGMENTATION_SECRET_KEY"] = key
    try:
        for username, password, role in (VIEWER, ANALYST):
            _cli(
                database_url, work, "users", "add", "--role", role, username, stdin=password + "\n"
            )
        server = servers.start_service(database_url, work, workers, auth=True)
    finally:
        del os.environ["SEGMENTATION_SECRET_KEY"]
    # serve's own run worker, and the others as separate processes (other machines).
    extra = []
    try:
        for k in range(1, run_workers):
            extra.append(servers.start_run_worker(database_url, work, name=f"run-worker-{k}"))
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            ids = list(connection.execute(sa.text("SELECT customer_id FROM customers")).scalars())
        engine.dispose()
        fixture = prepare(server, ids)
        before = counts(database_url)
        started = time.monotonic()
        outcomes = drive(server, fixture, clients, duration, max_requests, runs, submissions)
        seconds = min(time.monotonic() - started, duration)
        drained = drain(database_url, drain_timeout)
    finally:
        for worker in extra:
            servers.stop_run_worker(worker)
        servers.stop(server)
    result = summarise(outcomes, clients, workers, customers, seconds)
    result.run_workers, result.drain_seconds = run_workers, drained
    known = {*fixture.runs.values(), *result.completed_runs, *result.submitted_runs}
    result.audit = audit(
        database_url,
        before,
        result.completed_runs,
        result.submitted_runs,
        result.cancelled_runs,
        known,
    )
    return result


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load_test", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16, help="concurrent client processes")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load at most")
    parser.add_argument("--max-requests", type=int, default=50_000, help="calls in all, at most")
    parser.add_argument("--runs", type=int, default=8, help="SegmentCustomers runs during the load")
    parser.add_argument(
        "--submissions", type=int, default=12, help="SubmitSegmentation calls during the load"
    )
    parser.add_argument("--workers", type=int, default=4, help="server worker processes")
    parser.add_argument(
        "--run-workers",
        type=int,
        default=2,
        help="run worker processes: serve's own and N-1 separate `worker` processes",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=300.0,
        help="seconds to wait after the load for every run to finish",
    )
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database (default: a throwaway server)"
    )
    parser.add_argument("--out", type=Path, help="also write the result as JSON here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    work = Path(tempfile.mkdtemp(prefix="load-test-"))
    try:
        with postgres_database(arguments.database_url) as url:
            result = run_load_test(
                url,
                work,
                customers=arguments.customers,
                clients=arguments.clients,
                duration=arguments.duration,
                max_requests=arguments.max_requests,
                runs=arguments.runs,
                workers=arguments.workers,
                submissions=arguments.submissions,
                run_workers=arguments.run_workers,
                drain_timeout=arguments.drain_timeout,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_result(result)
    if arguments.out:
        arguments.out.write_text(json.dumps(result.to_dict(), indent=2))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())

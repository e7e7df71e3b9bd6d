"""A bounded load test: many concurrent clients mixing every operation, then a store audit.

    python -m bench.load_test [--customers 5000] [--clients 16] [--duration 60]
                              [--max-requests 50000] [--runs 8] [--workers 4]
                              [--database-url URL] [--out FILE.json]

Loopback only. Starts PostgreSQL (the tests' throwaway server, or the empty
database at ``--database-url``), loads generated demo customers with
``segmentation-service load-demo``, adds a viewer and an analyst, and serves
it with ``segmentation-service serve --workers N``, authentication on. After
one run per method, ``--clients`` processes call every operation with
PasswordText or PasswordDigest tokens (half each), until ``--duration``
seconds or ``--max-requests`` calls, whichever comes first. ``--runs``
segmentation runs (all three methods, some on a customer subset) start
during the load. Some calls are built to be refused (unknown customer or
run, a page size out of range, a viewer starting a run, a wrong password):
each must get exactly its declared fault.

Then the store is audited: no run left running, every run complete (its
assignments, segment sizes and counts agree), every run a client saw
complete is there, customers and transactions untouched.

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
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
        self.makers: list[tuple[Callable[[], Call], int]] = [
            (self.customer_segment, 30),
            (self.customer_segment_of_run, 6),
            (self.unknown_customer, 3),
            (self.value_scores, 14),
            (self.member_page, 16),
            (self.page_size_out_of_range, 2),
            (self.run_record, 5),
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

    def segmentation(self, number: int) -> Call:
        method = METHODS[number % len(METHODS)]
        xml = f"<method>{method}</method><label>load test run {number}</label>"
        if number % 2:  # every other run covers a random fifth of the customers
            ids = self.rng.sample(self.fixture.customer_ids, len(self.fixture.customer_ids) // 5)
            xml += "<customerIds>" + "".join(f"<customerId>{escape(i)}</customerId>" for i in ids)
            xml += "</customerIds>"
        return Call(f"SegmentCustomers({method})", "SegmentCustomers", xml, ANALYST)

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

    def saw(self, call: Call, root: etree._Element | None) -> None:
        """Follow member pages: the next call for that segment asks for the next page."""
        if call.operation != "ListSegmentMembers" or root is None or call.expect != OK:
            return
        run = int(root.findtext(f".//{{{TNS}}}runId") or 0)
        code = root.findtext(f".//{{{TNS}}}segmentCode") or ""
        token = root.findtext(f".//{{{TNS}}}nextPageToken")
        if token:
            self.page_tokens[(run, code)] = token
        else:
            self.page_tokens.pop((run, code), None)


# ------------------------------------------------------------- the answers


@dataclass
class Outcome:
    kind: str
    result: str  # OK, a declared fault's detail element, or a description of the failure
    failed: bool
    seconds: float
    run_id: int | None = None


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
    while len(outcomes) < max_requests and time.monotonic() < end:
        call = mix.next()
        if time.monotonic() >= next_run_at:
            with runs_left.get_lock():
                number_of_run = runs_left.value
                runs_left.value -= 1
            if number_of_run > 0:
                call = mix.segmentation(number_of_run)
            next_run_at += runs_every * 4
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
        mix.saw(call, root)
        run_id = None
        if call.operation == "SegmentCustomers" and result == OK and root is not None:
            run_id = int(root.findtext(f".//{{{TNS}}}runId") or 0)
            if root.findtext(f".//{{{TNS}}}status") != "Completed":
                result = f"run {run_id} ended {root.findtext(f'.//{{{TNS}}}status')}"
        outcomes.append(Outcome(call.kind, result, result != call.expect, seconds, run_id))
    connection.close()
    results.put(outcomes)


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
    completed_runs: list[int]
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
    calls: dict[str, str],
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
            calls.get(kind, OK),
            sum(o.failed for o in group),
            _percentile([o.seconds for o in group], 50),
            _percentile([o.seconds for o in group], 99),
        )
        for kind, group in sorted(by_kind.items())
    ]
    failures = Counter(f"{o.kind}: {o.result[:300]}" for o in outcomes if o.failed)
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
        completed_runs=sorted(o.run_id for o in outcomes if o.run_id and not o.failed),
    )


def print_result(result: LoadTestResult) -> None:
    print(
        f"\n{result.clients} clients, {result.workers} workers, {result.customers:,} customers, "
        f"{result.seconds:.0f} s"
    )
    print(f"{'call':<36} {'requests':>9} {'answer':<22} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in result.kinds:
        print(
            f"{kind.kind:<36} {kind.requests:>9,} {kind.expected:<22} {kind.failed:>6} "
            f"{kind.p50_ms:>8.1f} {kind.p99_ms:>8.1f}"
        )
    print(
        f"{'all':<36} {result.requests:>9,} {'':<22} {result.failed:>6} "
        f"{result.p50_ms:>8.1f} {result.p99_ms:>8.1f}"
    )
    print(
        f"\n{result.rps:,.1f} requests/s; {result.failed} failed; "
        f"{len(result.completed_runs)} runs completed during the load"
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


def audit(database_url: str, before: dict[str, int], completed_runs: Sequence[int]) -> list[str]:
    """What is wrong with the store after the load; empty when it is consistent."""
    findings: list[str] = []
    after = counts(database_url)
    if after != before:
        findings.append(f"customer data changed: {before} -> {after}")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            runs = connection.execute(
                sa.text(
                    "SELECT run_id, status, customer_count, assigned_count, unassigned_count "
                    "FROM segmentation_runs"
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
            segment_sizes = dict(
                connection.execute(
                    sa.text("SELECT run_id, sum(size) FROM segments GROUP BY run_id")
                ).all()
            )
    finally:
        engine.dispose()
    status = {run.run_id: run.status for run in runs}
    for run in runs:
        total, assigned = assignments.get(run.run_id, (0, 0))
        if run.status == "Running":
            findings.append(f"run {run.run_id} still Running")
        elif run.status == "Failed":
            if total:
                findings.append(f"failed run {run.run_id} has {total} assignments")
        elif (total, assigned) != (run.customer_count, run.assigned_count):
            findings.append(
                f"run {run.run_id}: {total} assignments ({assigned} assigned), record says "
                f"{run.customer_count} ({run.assigned_count} assigned)"
            )
        elif run.customer_count != run.assigned_count + run.unassigned_count:
            findings.append(f"run {run.run_id}: assigned + unassigned != customers")
        elif int(segment_sizes.get(run.run_id) or 0) != run.assigned_count:
            findings.append(f"run {run.run_id}: segment sizes do not add up to the assigned")
    findings += [
        f"run {row.run_id} segment {row.code}: size {row.size}, {row.members} members"
        for row in mismatched_segments
    ]
    findings += [
        f"run {run_id} answered Completed but is {status.get(run_id, 'missing')} in the store"
        for run_id in completed_runs
        if status.get(run_id) != "Completed"
    ]
    return findings


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
) -> tuple[list[Outcome], dict[str, str]]:
    """Every client process for ``duration`` seconds or ``max_requests`` calls in all."""
    host, port = server.host_port
    context = mp.get_context("fork")
    barrier = context.Barrier(clients + 1)
    go = context.Event()
    start_at = context.Value("d", 0.0)
    runs_left = context.Value("i", runs)
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
    sample = CallMix(fixture, random.Random(0), 0)
    expected = {call.kind: call.expect for call in (maker() for maker, _ in sample.makers)}
    return outcomes, expected


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
) -> LoadTestResult:
    """Fill the empty database at ``database_url``, serve it, load it, audit it."""
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
    try:
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            ids = list(connection.execute(sa.text("SELECT customer_id FROM customers")).scalars())
        engine.dispose()
        fixture = prepare(server, ids)
        before = counts(database_url)
        started = time.monotonic()
        outcomes, expected = drive(server, fixture, clients, duration, max_requests, runs)
        seconds = min(time.monotonic() - started, duration)
    finally:
        servers.stop(server)
    result = summarise(outcomes, expected, clients, workers, customers, seconds)
    result.audit = audit(database_url, before, result.completed_runs)
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
    parser.add_argument("--workers", type=int, default=4, help="server worker processes")
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
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_result(result)
    if arguments.out:
        arguments.out.write_text(json.dumps(result.to_dict(), indent=2))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""`segmentation-client` submit, wait, cancel and schedule against the live server (1.3).

The live server is `segmentation-service serve`, which starts a run worker beside
the SOAP workers: submitted runs are executed by that worker.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from segmentation_client.cli import main

from tests.contract.conftest import ANALYST, VIEWER, LiveServer, User

# Generous: the run worker may still be starting when the first run is submitted.
MAX_WAIT = "120"


@pytest.fixture(scope="module")
def db(live_server: LiveServer) -> Iterator[sa.Engine]:
    engine = sa.create_engine(live_server.database_url)
    yield engine
    engine.dispose()


def stored_status(db: sa.Engine, run_id: int) -> str:
    sql = sa.text("SELECT status FROM segmentation_runs WHERE run_id = :run_id")
    with db.connect() as connection:
        return str(connection.execute(sql, {"run_id": run_id}).scalar_one())


@pytest.fixture
def cli_as(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the client in-process as `user`: cli_as(user, *argv) -> (status, out, err)."""

    def run(user: User, *argv: str) -> tuple[int, str, str]:
        credentials = ["--username", user.username, "--password", user.password]
        status = main(["--wsdl", live_server.wsdl_url, *credentials, *argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.fixture
def cli(cli_as: Any) -> Any:
    """The client as the analyst, who may submit, cancel and schedule."""
    return lambda *argv: cli_as(ANALYST, *argv)


def run_json(cli: Any, *argv: str) -> Any:
    status, out, err = cli("--json", *argv)
    assert (status, err) == (0, ""), out
    return json.loads(out)


def test_submit_wait_polls_the_run_to_completion_and_prints_it_as_segment_does(
    cli: Any, db: sa.Engine
) -> None:
    run = run_json(
        cli,
        "submit",
        "--method",
        "ValueBased",
        "--tier-count",
        "3",
        "--label",
        "cli submit --wait",
        "--wait",
        "--max-wait",
        MAX_WAIT,
    )["run"]

    assert (run["status"], run["label"]) == ("Completed", "cli submit --wait")
    assert [segment["code"] for segment in run["segments"]["segment"]] == ["V1", "V2", "V3"]
    assert run["startedBy"] == ANALYST.username
    assert run["queuedAt"] is not None
    assert stored_status(db, run["runId"]) == "Completed"

    status, table, err = cli("submit", "--method", "APriori", "--wait", "--max-wait", MAX_WAIT)
    assert (status, err) == (0, "")
    assert "Completed" in table and "Segments" in table


def test_submit_answers_queued_and_wait_follows_the_run_until_it_completes(
    cli: Any, db: sa.Engine
) -> None:
    submitted = run_json(cli, "submit", "--method", "NeedsBased", "--segment-count", "3")["run"]
    run_id = submitted["runId"]

    assert submitted["status"] == "Queued"
    assert submitted["queuedAt"] is not None
    status, table, err = cli("wait", str(run_id), "--poll-seconds", "1", "--max-wait", MAX_WAIT)
    assert (status, err) == (0, "")
    fields = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert fields["runId"] == [str(run_id)]
    assert fields["status"] == ["Completed"]
    assert "phase" not in fields and "progress" not in fields
    assert stored_status(db, run_id) == "Completed"

    status, queued_table, _ = cli("submit", "--method", "APriori")
    assert status == 0
    assert "Queued" in queued_table and "follow it: segmentation-client wait" in queued_table


def test_submit_with_the_same_idempotency_key_answers_with_the_first_run(cli: Any) -> None:
    key = f"cli-{uuid.uuid4()}"
    argv = ("submit", "--method", "ValueBased", "--idempotency-key", key)

    first = run_json(cli, *argv)["run"]
    again = run_json(cli, *argv)["run"]

    assert again["runId"] == first["runId"]
    assert run_json(cli, "wait", str(first["runId"]), "--max-wait", MAX_WAIT)["run"]["status"] == (
        "Completed"
    )


def test_cancel_of_a_completed_run_is_an_invalid_request_naming_run_id(cli: Any) -> None:
    run = run_json(cli, "submit", "--method", "APriori", "--wait", "--max-wait", MAX_WAIT)["run"]
    assert run["status"] == "Completed"

    status, out, err = cli("cancel", str(run["runId"]))

    assert status == 2
    assert out == ""
    assert err.startswith("error: ")
    assert "  fault: InvalidRequestFault" in err
    assert "  field: runId" in err.splitlines()

    status, out, _ = cli("--json", "cancel", str(run["runId"]))
    fault = json.loads(out)
    assert status == 2
    assert (fault["fault"], fault["detail"]["field"]) == ("InvalidRequestFault", "runId")


def test_wait_and_cancel_of_an_unknown_run_are_run_not_found_faults(cli: Any) -> None:
    for command in ("wait", "cancel"):
        status, out, err = cli(command, "987654321")
        assert (status, out) == (2, "")
        assert "RunNotFoundFault" in err and "  runId: 987654321" in err.splitlines()


def test_runs_with_status_lists_only_runs_in_those_statuses(cli: Any) -> None:
    run = run_json(cli, "submit", "--method", "ValueBased", "--wait", "--max-wait", MAX_WAIT)["run"]

    completed = run_json(cli, "runs", "--status", "Completed", "--limit", "100")["runs"]["run"]
    cancelled = run_json(cli, "runs", "--status", "Cancelled", "--status", "Queued")["runs"]["run"]

    assert run["runId"] in [listed["runId"] for listed in completed]
    assert {listed["status"] for listed in completed} == {"Completed"}
    assert {listed["status"] for listed in cancelled} <= {"Cancelled", "Queued"}


def test_schedule_add_list_and_remove(cli: Any) -> None:
    name = f"cli nightly {uuid.uuid4().hex[:8]}"
    added = run_json(
        cli,
        "schedule",
        "add",
        "--name",
        name,
        "--cron",
        "0 2 * * *",
        "--method",
        "ValueBased",
        "--tier-count",
        "3",
        "--disabled",
    )["schedule"]
    schedule_id = added["scheduleId"]

    assert (added["name"], added["cron"], added["enabled"]) == (name, "0 2 * * *", False)
    next_run_at = datetime.fromisoformat(added["nextRunAt"])
    assert next_run_at > datetime.now(timezone.utc)
    assert (next_run_at.hour, next_run_at.minute) == (2, 0)
    assert added["request"]["method"] == "ValueBased"
    assert added["request"]["valueBased"]["tierCount"] == 3
    assert added["createdBy"] == ANALYST.username

    listed = run_json(cli, "schedule", "list")["schedules"]["schedule"]
    assert [s["scheduleId"] for s in listed if s["name"] == name] == [schedule_id]
    status, table, _ = cli("schedule", "list")
    assert status == 0 and name in table and "ValueBased tierCount=3" in table

    status, duplicate_out, err = cli(
        "schedule", "add", "--name", name, "--cron", "0 3 * * *", "--method", "APriori"
    )
    assert (status, duplicate_out) == (2, "")
    assert "InvalidRequestFault" in err and "  field: name" in err.splitlines()

    removed = run_json(cli, "schedule", "remove", str(schedule_id))["schedule"]
    assert (removed["scheduleId"], removed["name"]) == (schedule_id, name)
    listed = run_json(cli, "schedule", "list")["schedules"]["schedule"]
    assert schedule_id not in [s["scheduleId"] for s in listed]

    status, out, err = cli("schedule", "remove", str(schedule_id))
    assert (status, out) == (2, "")
    assert "ScheduleNotFoundFault" in err and f"  scheduleId: {schedule_id}" in err.splitlines()


def test_schedule_add_with_a_bad_cron_is_an_invalid_request_naming_cron(cli: Any) -> None:
    status, out, err = cli(
        "schedule", "add", "--name", "bad cron", "--cron", "61 2 * * *", "--method", "APriori"
    )
    assert (status, out) == (2, "")
    assert "InvalidRequestFault" in err and "  field: cron" in err.splitlines()


def test_a_viewer_may_list_schedules_but_not_submit_cancel_or_schedule(cli_as: Any) -> None:
    status, _, _ = cli_as(VIEWER, "schedule", "list")
    assert status == 0

    for argv in (
        ("submit", "--method", "APriori"),
        ("cancel", "1"),
        ("schedule", "add", "--name", "viewer's", "--cron", "0 2 * * *", "--method", "APriori"),
        ("schedule", "remove", "1"),
    ):
        status, out, err = cli_as(VIEWER, *argv)
        assert (status, out) == (2, ""), argv
        assert "AccessDeniedFault" in err and "role: viewer" in err, argv

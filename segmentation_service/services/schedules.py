"""Segmentation schedules: create, list, delete, and submit the ones that are due.

A schedule keeps a SegmentCustomers request and a 5-field cron expression in
UTC. Every minute each run worker calls ``submit_due_schedules``; a due time is
claimed by moving the schedule's ``next_run_at`` on in one conditional UPDATE,
so it is submitted once however many workers or servers look at the same moment.
Due times missed while no worker ran are not caught up: the schedule resumes at
its next due time.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone

from cronsim import CronSim, CronSimError

from segmentation_service.domain.errors import InvalidRequest, ScheduleNotFound
from segmentation_service.domain.model import Schedule, SegmentationRequest
from segmentation_service.domain.request_codec import encode
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.queue import RunQueue
from segmentation_service.services.requests import check_request
from segmentation_service.services.submission import record_run
from segmentation_service.store.schedules import DuplicateScheduleName
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)


def next_due(cron: str, after: datetime) -> datetime:
    """The first due time of ``cron`` (UTC) strictly after ``after``; InvalidRequest if bad."""
    naive = after.astimezone(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    if len(cron.split()) != 5:
        raise InvalidRequest("cron", "must have five fields: minute hour day month weekday")
    try:
        return next(CronSim(cron, naive)).replace(tzinfo=timezone.utc)
    except (CronSimError, StopIteration) as exc:
        raise InvalidRequest("cron", f"{cron!r} is not a valid crontab expression") from exc


def create_schedule(
    name: str,
    cron: str,
    request: SegmentationRequest,
    enabled: bool | None,
    uow: UnitOfWork,
    now: Clock = utc_now,
    created_by: str | None = None,
) -> Schedule:
    """Keep the request, checked as a submission would be, to submit at every due time."""
    moment = now()
    due = next_due(cron, moment)
    check_request(request, moment.date())
    with uow:
        try:
            schedule = uow.schedules.add(
                name, cron, encode(request), enabled is not False, created_by, moment, due
            )
        except DuplicateScheduleName:
            raise InvalidRequest("name", f"a schedule named {name!r} exists already") from None
        uow.commit()
    return schedule


def list_schedules(uow: UnitOfWork) -> list[Schedule]:
    with uow:
        return uow.schedules.all()


def delete_schedule(schedule_id: int, uow: UnitOfWork) -> Schedule:
    with uow:
        deleted = uow.schedules.remove(schedule_id)
        if deleted is None:
            raise ScheduleNotFound(schedule_id)
        uow.commit()
    return deleted


def submit_due_schedules(uow: UnitOfWork, queue: RunQueue, now: Clock = utc_now) -> list[int]:
    """Submit one run for every due time reached; the ids of the runs this caller submitted."""
    moment = now()
    submitted = []
    with uow:
        due = uow.schedules.due(moment)
    for schedule in due:
        with uow:
            claimed = uow.schedules.advance(
                schedule.schedule_id, schedule.next_run_at, next_due(schedule.cron, moment)
            )
            uow.commit()
        if not claimed or not schedule.enabled:
            continue
        request = replace(schedule.request, label=schedule.name)
        try:
            run_id, _ = record_run(request, uow, now, schedule.created_by)
        except InvalidRequest as exc:  # e.g. a customer of its list was deleted
            logger.warning("schedule %r could not submit its run: %s", schedule.name, exc)
            continue
        with uow:
            uow.schedules.submitted(schedule.schedule_id, run_id)
            uow.commit()
        queue.enqueue(run_id)
        submitted.append(run_id)
    return submitted

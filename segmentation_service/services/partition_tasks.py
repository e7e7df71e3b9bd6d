"""One stage of one partition of a run: what an executor runs, here or elsewhere.

A ``PartitionTask`` is a plain picklable value: the local executor sends it to a
process of its pool, the Dask executor to a worker on another machine; each
opens the store from ``database_url`` (once per process) and reads and writes
its partition directly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from segmentation_service.domain.model import Partition, SegmentationMethod
from segmentation_service.engines.behaviour_features import BehaviourWindow
from segmentation_service.engines.partitions import PartitionPlan, Stage
from segmentation_service.services.partition_inputs import load_partition
from segmentation_service.store.database import process_store
from segmentation_service.store.uow import UnitOfWork


@dataclass(frozen=True)
class AssignedPartition:
    """What the assign stage returns: the plan's partial and the partition's counts."""

    partial: Any
    customers: int
    assigned: int


@dataclass(frozen=True)
class PartitionTask:
    database_url: str
    run_id: int
    method: SegmentationMethod
    as_of: date
    plan: PartitionPlan
    window: BehaviourWindow | None = None  # what a behavioural run reads
    stage: Stage = Stage.SUMMARISE
    partition: Partition = Partition(0)
    model: Any = None

    def at(self, stage: Stage, partition: Partition, model: Any = None) -> PartitionTask:
        return replace(self, stage=stage, partition=partition, model=model)


def perform(task: PartitionTask, uow: UnitOfWork) -> Any:
    """Run the task against the store of ``uow``; the assign stage commits its rows."""
    data = load_partition(uow, task.method, task.as_of, task.partition, task.stage, task.window)
    if task.stage is Stage.SUMMARISE:
        return task.plan.summarise(data)
    if task.stage is Stage.REFINE:
        return task.plan.refine(data, task.model)
    output = task.plan.assign(data, task.model)
    rows = output.assignments
    with uow:
        # Visible to no reader until the run completes (readers see completed runs only).
        uow.assignments.add(task.run_id, rows)
        uow.commit()
    return AssignedPartition(
        output.partial, customers=len(rows), assigned=int(rows["segment_code"].notna().sum())
    )


def perform_here(task: PartitionTask) -> Any:
    """``perform`` in an executor's process, on that process's own connection to the store."""
    return perform(task, process_store(task.database_url).unit_of_work())

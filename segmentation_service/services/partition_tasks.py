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

import pandas as pd

from segmentation_service.domain.model import Partition, SegmentationMethod
from segmentation_service.engines.behaviour_features import BehaviourWindow
from segmentation_service.engines.group_figures import GroupSums
from segmentation_service.engines.holdout import HoldoutWindow
from segmentation_service.engines.needs_partitions import NeedsModel
from segmentation_service.engines.partitions import PartitionInput, PartitionPlan, Stage
from segmentation_service.engines.treatments import TreatmentPolicy
from segmentation_service.engines.value_based import score_with_model
from segmentation_service.engines.value_partitions import ValuePlanModel
from segmentation_service.services.partition_inputs import load_partition
from segmentation_service.store.database import process_store
from segmentation_service.store.uow import UnitOfWork


@dataclass(frozen=True)
class AssignedPartition:
    """What the assign stage returns: the plan's partial, the partition's counts and its
    sums per segment for the treatments."""

    partial: Any
    customers: int
    assigned: int
    groups: GroupSums


@dataclass(frozen=True)
class NeedsRun:
    """The latest needs-based run and its segments' names by code: the themes of the
    segments of a run of another method."""

    run_id: int
    names: dict[str, str]


@dataclass(frozen=True)
class PreviousTiers:
    """The previous value-based run and each of its tiers' rank (0 the top, 1 the bottom):
    who moved down a tier since."""

    run_id: int
    ranks: dict[str, float]


@dataclass(frozen=True)
class PartitionTask:
    database_url: str
    run_id: int
    method: SegmentationMethod
    as_of: date
    plan: PartitionPlan
    window: BehaviourWindow | None = None  # what a behavioural run reads
    treatments: TreatmentPolicy = TreatmentPolicy()
    previous: PreviousTiers | None = None
    needs_run: NeedsRun | None = None
    holdout: HoldoutWindow | None = None  # the weeks a value-based run is checked on
    stage: Stage = Stage.SUMMARISE
    partition: Partition = Partition(0)
    model: Any = None

    def at(self, stage: Stage, partition: Partition, model: Any = None) -> PartitionTask:
        return replace(self, stage=stage, partition=partition, model=model)


def perform(task: PartitionTask, uow: UnitOfWork) -> Any:
    """Run the task against the store of ``uow``; the assign stage commits its rows."""
    needs = task.model.segmenter.needs_ if isinstance(task.model, NeedsModel) else None
    data = load_partition(
        uow, task.method, task.as_of, task.partition, task.stage, task.window, task.holdout, needs
    )
    if task.stage is Stage.SUMMARISE:
        return task.plan.summarise(data)
    if task.stage is Stage.REFINE:
        return task.plan.refine(data, task.model)
    output = task.plan.assign(data, task.model)
    rows = output.assignments
    with uow:
        # Visible to no reader until the run completes (readers see completed runs only).
        uow.assignments.add(task.run_id, rows)
        moved_down = _moved_down(uow, task, rows)
        needs_segments = None
        if task.needs_run is not None:
            codes = uow.assignments.codes(task.needs_run.run_id, task.partition)
            needs_segments = codes.map(task.needs_run.names)
        uow.commit()
    groups = GroupSums.of(
        rows.set_index("customer_id")["segment_code"],
        data.customers,
        data.profitability,
        data.features["last_purchase_date"],
        task.as_of,
        task.treatments,
        scores=_clv_scores(task, data),
        moved_down=moved_down,
        needs_segments=needs_segments,
    )
    return AssignedPartition(
        output.partial,
        customers=len(rows),
        assigned=int(rows["segment_code"].notna().sum()),
        groups=groups,
    )


def _clv_scores(task: PartitionTask, data: PartitionInput) -> pd.DataFrame | None:
    """Predicted CLV and probability alive, where the run is value-based with a CLV fit."""
    model = task.model
    if not isinstance(model, ValuePlanModel) or model.value.bgnbd is None:
        return None
    value = model.value
    cost = data.customers["annual_cost_to_serve"].astype(float)
    return score_with_model(
        data.features, value, cost, value.horizon_months, value.annual_discount_rate
    )


def _moved_down(uow: UnitOfWork, task: PartitionTask, rows: pd.DataFrame) -> pd.Series | None:
    """True where a customer's tier is lower than in the previous value-based run, False
    where not, NaN for customers that run did not place."""
    model, previous = task.model, task.previous
    if previous is None or not isinstance(model, ValuePlanModel):
        return None
    codes = model.value.tier_codes
    now = {code: i / max(len(codes) - 1, 1) for i, code in enumerate(codes)}
    before = uow.assignments.codes(previous.run_id, task.partition).map(previous.ranks)
    current = rows.set_index("customer_id")["segment_code"].map(now)
    compared = before.reindex(current.index)
    return (current > compared + 1e-9).astype(float).where(compared.notna() & current.notna())


def perform_here(task: PartitionTask) -> Any:
    """``perform`` in an executor's process, on that process's own connection to the store."""
    return perform(task, process_store(task.database_url).unit_of_work())

"""What one partition task reads from the store: ``PartitionInput``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.domain.model import Partition, SegmentationMethod
from segmentation_service.engines.behaviour_features import (
    BehaviourCounts,
    BehaviourWindow,
    behaviour_counts,
)
from segmentation_service.engines.holdout import HoldoutWindow
from segmentation_service.engines.partitions import PartitionInput, Stage
from segmentation_service.engines.profitability import customer_profitability
from segmentation_service.engines.value_features import money_features, value_features
from segmentation_service.store.uow import UnitOfWork


def load_partition(
    uow: UnitOfWork,
    method: SegmentationMethod,
    as_of: date,
    partition: Partition,
    stage: Stage = Stage.ASSIGN,
    window: BehaviourWindow | None = None,
    holdout: HoldoutWindow | None = None,
    needs: Sequence[str] | None = None,
) -> PartitionInput:
    """The partition's customers, features, needs answers (needs-based), behaviour counts
    in ``window`` (behavioural) and profitability; value-based runs with a ``holdout``
    also the purchase days in it (``holdout_purchases``). Needs-based runs that know
    their ``needs`` read the answers pivoted (``PartitionInput.answers``).

    Transactions are aggregated by the database, only for this partition's customers.
    Before ``ASSIGN``, only what the method's summaries need is read (see
    ``PartitionInput``). Opens and closes ``uow``.
    """
    pivoted = needs if method is SegmentationMethod.NEEDS_BASED else None
    if stage is Stage.REFINE and pivoted is not None:
        return _load_answers(uow, partition, pivoted)
    if stage is not Stage.ASSIGN:
        return _load_for_summaries(uow, method, as_of, partition, window, holdout)
    behaviour: BehaviourCounts | None = None
    responses: pd.DataFrame | None = None
    answers: pd.DataFrame | None = None
    with uow:
        customers = uow.customers.frame(partition)
        if method is SegmentationMethod.VALUE_BASED:
            aggregates = uow.transactions.aggregates(as_of, partition)
            features = value_features(aggregates, customers.index, as_of)
            features["annual_cost_to_serve"] = customers["annual_cost_to_serve"].astype(float)
            _add_holdout(uow, features, holdout, partition)
        else:  # segment value and profit need only the money, not RFM and CLV inputs
            features = money_features(uow.transactions.totals(as_of, partition), customers.index)
        if pivoted is not None:
            answers = uow.needs.matrix(pivoted, partition)
        elif method is SegmentationMethod.NEEDS_BASED:
            responses = uow.needs.responses(partition)
        if window is not None:
            behaviour = _behaviour(uow, window, partition, customers)
    profitability = customer_profitability(features, customers, as_of)
    return PartitionInput(customers, features, responses, profitability, behaviour, answers)


def _load_answers(uow: UnitOfWork, partition: Partition, needs: Sequence[str]) -> PartitionInput:
    """A needs-based run's second pass: the customer ids and their answers, pivoted."""
    with uow:
        customers = uow.customers.frame(partition, columns=())
        answers = uow.needs.matrix(needs, partition)
    empty = pd.DataFrame(index=customers.index)
    return PartitionInput(customers, empty, None, empty, answers=answers)


def _load_for_summaries(
    uow: UnitOfWork,
    method: SegmentationMethod,
    as_of: date,
    partition: Partition,
    window: BehaviourWindow | None,
    holdout: HoldoutWindow | None,
) -> PartitionInput:
    responses, behaviour = None, None
    with uow:
        if method is SegmentationMethod.A_PRIORI:
            customers = uow.customers.frame(partition)
            features = pd.DataFrame(index=customers.index)
        elif method is SegmentationMethod.NEEDS_BASED:
            customers = uow.customers.frame(partition, columns=())
            features = pd.DataFrame(index=customers.index)
            responses = uow.needs.responses(partition)
        elif window is not None:
            customers = uow.customers.frame(partition, columns=("signup_date",))
            features = pd.DataFrame(index=customers.index)
            behaviour = _behaviour(uow, window, partition, customers)
        else:
            customers = uow.customers.frame(partition, columns=("annual_cost_to_serve",))
            aggregates = uow.transactions.aggregates(as_of, partition)
            features = value_features(aggregates, customers.index, as_of)
            features["annual_cost_to_serve"] = customers["annual_cost_to_serve"].astype(float)
            _add_holdout(uow, features, holdout, partition)
    return PartitionInput(
        customers, features, responses, pd.DataFrame(index=customers.index), behaviour
    )


def _add_holdout(
    uow: UnitOfWork, features: pd.DataFrame, holdout: HoldoutWindow | None, partition: Partition
) -> None:
    if holdout is None:
        return
    days = uow.transactions.purchase_days(holdout.as_of, holdout.end, partition)
    features["holdout_purchases"] = days.reindex(features.index, fill_value=0).astype(float)


def _behaviour(
    uow: UnitOfWork, window: BehaviourWindow, partition: Partition, customers: pd.DataFrame
) -> BehaviourCounts:
    long = uow.transactions.behaviour(window.start, window.as_of, partition)
    return behaviour_counts(long, customers["signup_date"])


def load_everyone(uow: UnitOfWork, method: SegmentationMethod, as_of: date) -> PartitionInput:
    """Every customer as one partition; InsufficientData when the store has none."""
    data = load_partition(uow, method, as_of, Partition(0))
    if data.customers.empty:
        raise InsufficientData("there are no customers to segment", "customerIds")
    return data

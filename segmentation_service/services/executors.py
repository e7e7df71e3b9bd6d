"""Where a run's partition tasks execute: the seam between a run and its executor."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from segmentation_service.engines.treatments import TreatmentPolicy
from segmentation_service.services.partition_tasks import PartitionTask, perform
from segmentation_service.store.uow import UnitOfWork


class PartitionExecutor(Protocol):
    def map(self, tasks: Sequence[PartitionTask]) -> Generator[Any, None, None]:
        """Each task's result, in task order, as they finish.

        Closing the generator early (a cancelled or failed run) drops the tasks not
        yet started; those running finish and their results are discarded.
        """
        ...


class InlineExecutor:
    """Tasks one after the other in this process, on the run's own store."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def map(self, tasks: Sequence[PartitionTask]) -> Generator[Any, None, None]:
        for task in tasks:
            yield perform(task, self._uow.another())


# Customers per partition unless the settings say otherwise: a partition's frames take
# 4-5 KB per customer at their peak in the process that handles it (measured: 110-130 MB
# at 25,000 for needs-based and value-based runs), and a run spends a few milliseconds
# per partition on its own bookkeeping (25,000 was as fast as 50,000 at 100k and 1M).
DEFAULT_PARTITION_SIZE = 25_000


@dataclass(frozen=True)
class RunLayout:
    """How a run is cut and where its partitions execute.

    ``executor`` makes the executor for a run of several partitions, given the
    run's unit of work; a run of one partition always executes inline. ``treatments``
    are the thresholds the run's segments' treatments are decided by.
    """

    partition_size: int = DEFAULT_PARTITION_SIZE
    executor: Callable[[UnitOfWork], PartitionExecutor] = field(default=InlineExecutor)
    treatments: TreatmentPolicy = TreatmentPolicy()

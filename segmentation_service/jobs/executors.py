"""The executors a run worker hands a run's partitions to: a local process pool, or Dask.

``local`` keeps one pool of processes per run worker process, sized to the
machine's cores, for the worker's life: processes come from a fork server that
has imported the partition code once, so a run pays no start-up. ``dask`` sends
the partitions as tasks to an existing ``distributed`` cluster (an optional
dependency: ``pip install segmentation-service[dask]``); its workers read and
write their partitions in the store themselves.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sqlalchemy.engine import make_url

from segmentation_service.config import Settings
from segmentation_service.engines.treatments import TreatmentPolicy
from segmentation_service.services.executors import InlineExecutor, PartitionExecutor, RunLayout
from segmentation_service.services.partition_tasks import PartitionTask, perform_here
from segmentation_service.store.uow import UnitOfWork

# Imported once by the fork server: the partition code, and its lifeline.
_PRELOAD = ["segmentation_service.jobs.pool_process"]


def run_layout(settings: Settings) -> RunLayout:
    """The partition size, executor and treatment thresholds of the settings (inline for
    an in-memory store)."""
    url = make_url(settings.database_url)
    policy = treatment_policy(settings)
    if url.get_backend_name() == "sqlite" and (url.database or ":memory:") == ":memory:":
        return RunLayout(settings.partition_size, treatments=policy)  # no other process can
    if settings.executor == "dask":
        if not settings.dask_scheduler:
            raise ValueError("executor 'dask' needs dask_scheduler (SEGMENTATION_DASK_SCHEDULER)")
        return RunLayout(settings.partition_size, _dask_factory(settings.dask_scheduler), policy)
    return RunLayout(settings.partition_size, local_executor, policy)


def treatment_policy(settings: Settings) -> TreatmentPolicy:
    return TreatmentPolicy(
        new_days=settings.treatment_new_days,
        active_days=settings.treatment_active_days,
        new_share=settings.treatment_new_share,
        active_share=settings.treatment_active_share,
        slipping_alive=settings.treatment_slipping_alive,
        moved_down_share=settings.treatment_moved_down_share,
        valuable_ratio=settings.treatment_valuable_ratio,
        develop_ratio=settings.treatment_develop_ratio,
    )


def local_executor(uow: UnitOfWork) -> PartitionExecutor:
    return LocalProcessExecutor(_pool())


class LocalProcessExecutor:
    """Partitions on this machine's process pool, results in partition order."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self._pool = pool

    def map(self, tasks: Sequence[PartitionTask]) -> Generator[Any, None, None]:
        try:
            futures = deque(self._pool.submit(perform_here, task) for task in tasks)
        except BrokenProcessPool:  # a pool process died (killed, out of memory): a new pool
            _pool.cache_clear()
            self._pool = _pool()
            futures = deque(self._pool.submit(perform_here, task) for task in tasks)
        try:
            while futures:
                # Let go of each future as its result is handed on: a done future holds
                # its result, and a run's summaries would pile up (400 at 10M customers).
                yield futures.popleft().result()
        finally:
            for future in futures:
                future.cancel()  # not started yet: never will be


@functools.cache
def _pool() -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return ProcessPoolExecutor(
        max_workers=max(os.cpu_count() or 1, 1),
        mp_context=context,
        initializer=_start_partition_process,
    )


def _start_partition_process() -> None:
    """In each pool process: die with the fork server, one BLAS thread, no ^C traceback."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    from segmentation_service.jobs.pool_process import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run worker stops its pool itself
    threadpool_limits(1)  # as many processes as cores already


class DaskExecutor:
    """Partitions as tasks on a Dask ``distributed`` cluster, results in partition order."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def map(self, tasks: Sequence[PartitionTask]) -> Generator[Any, None, None]:
        futures = deque(self._client.map(perform_here, list(tasks), pure=False))
        try:
            while futures:
                # Released as handed on: the cluster keeps a result while a future holds it.
                yield futures.popleft().result()
        finally:
            self._client.cancel(list(futures))


@functools.cache
def _dask_factory(address: str) -> Any:
    def make(uow: UnitOfWork) -> PartitionExecutor:
        return DaskExecutor(dask_client(address))

    return make


@functools.cache
def dask_client(address: str) -> Any:
    """This process's client of the cluster at ``address`` (connected on first use)."""
    try:
        from distributed import Client
    except ImportError as exc:  # the optional extra is not installed
        raise RuntimeError(
            "executor 'dask' needs Dask: pip install 'segmentation-service[dask]'"
        ) from exc
    return Client(address, set_as_default=False, timeout="30s")  # type: ignore[no-untyped-call]


__all__ = ["DaskExecutor", "InlineExecutor", "LocalProcessExecutor", "run_layout"]

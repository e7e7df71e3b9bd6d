"""A run's memory does not grow with the customer base: 20k and 200k customers, same peak.

Each run executes in a process of its own (as in a run worker) with the local
process pool, partitions of 10,000 customers (2 and 20 of them); the peak memory
summed over that process, the pool's fork server and its processes is sampled.
Memory is the processes' own (anonymous) memory, each page counted once however
many forked processes share it (``Pss_Anon`` + ``Pss_Shmem``): what the run
allocates, not the operating system's cache of the store's file. Holding every
customer in one frame (as runs did before partitions) costs ~3 KB per customer:
180,000 more customers would add ~500 MB. The bound allows what a run does keep
(sorted values, about ten bytes per distinct value; the CLV fit sample, 48 bytes per
buyer up to a million, and the needs fit sample, up to 100,000 respondents) and noise.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bench.bulkload import bulk_load, create_schema
from bench.datasets import KINDS
from segmentation_service.demo_data import generate_demo_data, write_demo_csv
from tests import factories

SIZES = (20_000, 200_000)
PARTITION_SIZE = 10_000
GROWTH_BOUND_MB = 120
METHODS = ("ValueBased", "NeedsBased")

PROBE = """
import sys
from datetime import datetime, timezone
from segmentation_service import services
from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
from segmentation_service.jobs.executors import local_executor
from segmentation_service.services.executors import RunLayout
from segmentation_service.store.database import Store

url, method, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
request = SegmentationRequest(SegmentationMethod(method))
run = services.segment_customers(
    request, Store(url).unit_of_work(), layout=RunLayout(size, local_executor),
    now=lambda: datetime(2026, 7, 1, tzinfo=timezone.utc),
)
assert run.status.value == "Completed", run.failure_reason
print(run.customer_count)
"""


def private_memory(pid: int) -> int:
    """Bytes of anonymous and shared-memory pages of a process, shared pages split."""
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, value = line.partition(":")
            if name in ("Pss_Anon", "Pss_Shmem"):
                total += int(value.split()[0]) * 1024
    return total


def peak_tree_memory(command: list[str]) -> tuple[int, str]:
    """Run ``command``; the peak of its and its descendants' summed memory, and its output."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        total = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for process in tree:
            try:
                total += private_memory(process.pid)
            except (FileNotFoundError, ProcessLookupError):
                pass  # ended between the listing and the reading
        peak = max(peak, total)
        time.sleep(0.02)
    out, err = child.communicate()
    assert child.returncode == 0, err.decode()
    return peak, out.decode().strip()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    """SQLite stores of the demo data at each size, filled by the benchmarks' bulk path."""
    urls = {}
    for size in SIZES:
        directory = tmp_path_factory.mktemp(f"n{size}")
        url = f"sqlite:///{directory / 'store.db'}"
        create_schema(url)
        write_demo_csv(generate_demo_data(size, 0, end_date=factories.END_DATE), directory)
        for kind in KINDS:
            bulk_load(url, kind, directory / f"{kind}.csv")
        urls[size] = url
    return urls


@pytest.mark.parametrize("method", METHODS)
def test_a_runs_peak_memory_hardly_grows_from_20k_to_200k_customers(
    stores: dict[int, str], method: str, tmp_path: Path
) -> None:
    peaks = {}
    for size, url in stores.items():
        command = [sys.executable, "-c", PROBE, url, method, str(PARTITION_SIZE)]
        peaks[size], customers = peak_tree_memory(command)
        assert int(customers) == size

    growth_mb = (peaks[SIZES[1]] - peaks[SIZES[0]]) / 2**20
    assert growth_mb < GROWTH_BOUND_MB, {size: peak / 2**20 for size, peak in peaks.items()}

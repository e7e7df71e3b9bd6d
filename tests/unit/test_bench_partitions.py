"""bench.partitions' pure helpers: phases from checkpoints, the floor, targets, chunked ids."""

from __future__ import annotations

from datetime import date

import pytest

from bench.datasets import chunk_seed, shifted_tables
from bench.partition_report import floor_seconds, peak_limit, phase_seconds
from segmentation_service.demo_data import generate_demo_data


def test_phase_seconds_splits_a_run_at_its_checkpoints_and_tells_refining_from_fitting() -> None:
    trace = [
        (0.5, "Reading", 0.05),
        (2.0, "Reading", 0.4),
        (3.0, "Fitting", None),
        (4.0, "Fitting", 0.4),
        (6.0, "Assigning", 0.55),
        (9.0, "Writing", 0.95),
    ]
    assert phase_seconds(trace, 10.0) == {
        "Setup": 0.5,
        "Reading": 2.5,
        "Fitting": 1.0,
        "Refining": 2.0,
        "Assigning": 3.0,
        "Writing": 1.0,
    }


def test_phase_seconds_of_a_run_without_checkpoints_is_all_setup() -> None:
    assert phase_seconds([], 1.5) == {"Setup": 1.5}


def test_floor_seconds_adds_the_steps_a_method_has_and_ignores_other_figures() -> None:
    floor = {"aggregate_s": 1.0, "write_s": 2.5, "write_rows": 1000, "peak_rss_gb": 0.3}
    assert floor_seconds(floor) == 3.5
    assert floor_seconds({**floor, "needs_read_s": 0.5, "kmeans_s": 1.0}) == 5.0


@pytest.mark.parametrize(
    ("size", "limit"), [(20_000, 1.0), (1_000_000, 1.0), (3_000_000, 1.5), (20_000_000, 1.5)]
)
def test_peak_limit_is_the_target_of_the_next_target_size(size: int, limit: float) -> None:
    assert peak_limit(size) == limit


def test_chunk_seeds_differ_by_block_and_by_seed() -> None:
    seeds = {chunk_seed(seed, index) for seed in range(3) for index in range(10)}
    assert len(seeds) == 30


def test_shifted_tables_number_a_block_after_the_earlier_ones() -> None:
    data = generate_demo_data(50, 1, end_date=date(2026, 6, 30))
    tables = shifted_tables(data, 1_000, 20_000, {"C": 8, "T": 9})
    customers, transactions, needs = (tables[k] for k in ("customers", "transactions", "needs"))
    assert customers["customer_id"].iloc[0] == "C00001001"
    assert customers["customer_id"].iloc[-1] == "C00001050"
    assert transactions["transaction_id"].iloc[0] == "T000020001"
    assert set(transactions["customer_id"]) <= set(customers["customer_id"])
    assert set(needs["customer_id"]) <= set(customers["customer_id"])
    # Everything else is the block as drawn.
    assert (customers["name"].to_numpy() == data.customers["name"].to_numpy()).all()
    assert (transactions["amount"].to_numpy() == data.transactions["amount"].to_numpy()).all()

"""GroupSums: what a segment's treatment is decided from, summed per partition and merged."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation_service.engines.group_figures import GroupSums
from segmentation_service.engines.treatments import TreatmentPolicy

AS_OF = date(2026, 6, 30)
POLICY = TreatmentPolicy(new_days=100, active_days=60)


def partition(ids: list[str], seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    index = pd.Index(ids, name="customer_id")
    days_since_signup = rng.integers(0, 400, len(ids))
    days_since_purchase = rng.integers(0, 200, len(ids))
    return {
        "groups": pd.Series(rng.choice(["G1", "G2", None], len(ids)), index=index, dtype=object),
        "customers": pd.DataFrame(
            {
                "signup_date": [
                    pd.Timestamp(AS_OF) - pd.Timedelta(days=int(d)) for d in days_since_signup
                ],
                "preferred_channel": rng.choice(["Online", "Store"], len(ids), p=[0.7, 0.3]),
            },
            index=index,
        ),
        "profitability": pd.DataFrame(
            {"revenue": rng.uniform(0, 500, len(ids)), "cost": rng.uniform(0, 300, len(ids))},
            index=index,
        ),
        "last_purchase": pd.Series(
            [pd.Timestamp(AS_OF) - pd.Timedelta(days=int(d)) for d in days_since_purchase],
            index=index,
        ),
        "moved_down": pd.Series(rng.choice([1.0, 0.0, np.nan], len(ids)), index=index),
        "needs_segments": pd.Series(
            rng.choice(["Price & Speed", "Service", None], len(ids)), index=index, dtype=object
        ),
    }


def sums(part: dict[str, object]) -> GroupSums:
    return GroupSums.of(
        part["groups"],  # type: ignore[arg-type]
        part["customers"],  # type: ignore[arg-type]
        part["profitability"],  # type: ignore[arg-type]
        part["last_purchase"],  # type: ignore[arg-type]
        AS_OF,
        POLICY,
        moved_down=part["moved_down"],  # type: ignore[arg-type]
        needs_segments=part["needs_segments"],  # type: ignore[arg-type]
    )


def test_figures_merged_from_partitions_equal_those_counted_on_everyone() -> None:
    ids = [f"C{i:03d}" for i in range(300)]
    whole = partition(ids, seed=1)
    parts = [
        {
            key: value.iloc[start:stop] if key != "responses" else value
            for key, value in whole.items()
        }  # type: ignore[union-attr]
        for start, stop in ((0, 120), (120, 300))
    ]
    merged = GroupSums.merge([sums(p) for p in parts]).figures("G1")

    groups = whole["groups"]
    members = groups[groups == "G1"].index  # type: ignore[index]
    customers = whole["customers"].loc[members]  # type: ignore[union-attr]
    money = whole["profitability"]  # type: ignore[assignment]
    assigned = groups.dropna().index  # type: ignore[union-attr]
    last = whole["last_purchase"].loc[members]  # type: ignore[union-attr]
    moved = whole["moved_down"].loc[members].dropna()  # type: ignore[union-attr]
    signup_days = (pd.Timestamp(AS_OF) - customers["signup_date"]).dt.days
    assert merged.customers == len(members)
    assert merged.profit == pytest.approx(
        (money.loc[members, "revenue"] - money.loc[members, "cost"]).sum()
    )
    overall = (money.loc[assigned, "revenue"] - money.loc[assigned, "cost"]).sum() / len(assigned)
    assert merged.profit_per_customer_overall == pytest.approx(overall)
    assert merged.new_share == pytest.approx((signup_days < 100).mean())
    assert merged.active_share == pytest.approx(((pd.Timestamp(AS_OF) - last).dt.days < 60).mean())
    assert merged.moved_down_share == pytest.approx(moved.mean())
    channel, share = merged.channel  # type: ignore[misc]
    counts = customers["preferred_channel"].value_counts()
    assert (channel, share) == (counts.idxmax(), pytest.approx(counts.max() / len(members)))
    assert merged.probability_alive is None  # no CLV model


def test_the_theme_is_the_needs_segment_over_represented_among_the_members() -> None:
    ids = [f"C{i:03d}" for i in range(300)]
    part = partition(ids, seed=2)
    groups, needs = part["groups"], part["needs_segments"]
    needs[groups == "G2"] = "Service"  # type: ignore[index]
    needs[(groups == "G1").to_numpy() & (np.arange(300) % 4 > 0)] = "Price & Speed"  # type: ignore[index, union-attr]

    figures = sums(part)

    assert figures.figures("G2").themes == ["service"]
    assert figures.figures("G1").themes == ["price & speed"]

"""How customers move between the segments of two runs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from segmentation_service.domain.model import Transition


@dataclass(frozen=True)
class Migration:
    transitions: tuple[Transition, ...]
    stayed_share: float
    adjusted_rand_index: float
    entered_count: int
    left_count: int


def compare_assignments(before: pd.DataFrame, after: pd.DataFrame) -> Migration:
    """Transitions between two runs' assignments (columns customer_id, segment_code, value).

    Transitions cover the customers assigned in both runs, stayers included;
    entered counts customers assigned only ``after``, left only ``before``.
    The adjusted Rand index compares the two partitions of the customers in
    both (1 for identical groupings whatever the codes; about 0 for chance).
    """
    both = before.merge(after, on="customer_id", suffixes=("_before", "_after"))
    entered = int((~after["customer_id"].isin(before["customer_id"])).sum())
    left = int((~before["customer_id"].isin(after["customer_id"])).sum())
    if both.empty:
        return Migration((), 0.0, 0.0, entered, left)
    matrix = (
        both.groupby(["segment_code_before", "segment_code_after"], sort=True)
        .agg(
            customers=("customer_id", "size"),
            value_before=("value_before", "sum"),
            value_after=("value_after", "sum"),
        )
        .reset_index()
    )
    transitions = tuple(
        Transition(str(start), str(end), int(count), float(value_before), float(value_after))
        for start, end, count, value_before, value_after in matrix.itertuples(index=False)
    )
    stayed = float((both["segment_code_before"] == both["segment_code_after"]).mean())
    agreement = float(adjusted_rand_score(both["segment_code_before"], both["segment_code_after"]))
    return Migration(transitions, stayed, agreement, entered, left)

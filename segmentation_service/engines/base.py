"""What every segmenter shares: the fitted attributes and segment statistics."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from segmentation_service.domain.model import Segment, SegmentDefinition

MAX_CODE_LENGTH = 64


class FittedSegmentation:
    """Attributes a segmenter learns in ``fit``, one entry per row of ``X``.

    ``labels_`` holds segment codes (None where the customer stays
    unassigned), ``scores_`` a per-customer score (NaN when the method has
    none), ``reasons_`` a sentence per customer, ``segments_`` the segment
    definitions in presentation order and ``metrics_`` run-level figures.
    """

    labels_: npt.NDArray[np.object_]
    scores_: npt.NDArray[np.float64]
    reasons_: npt.NDArray[np.object_]
    segments_: list[SegmentDefinition]
    metrics_: dict[str, float]

    def fit_predict(self, X: pd.DataFrame, y: None = None) -> npt.NDArray[np.object_]:
        self.fit(X)  # type: ignore[attr-defined]
        return self.labels_


def summarise_segments(
    definitions: Sequence[SegmentDefinition],
    labels: npt.NDArray[np.object_],
    values: npt.NDArray[np.float64],
    profitability: pd.DataFrame | None = None,
) -> list[Segment]:
    """Size, share of the assigned customers, value and profit of each non-empty segment.

    ``profitability`` has ``revenue`` and ``cost`` per customer, in the order of ``labels``.
    """
    frame = pd.DataFrame({"code": labels, "value": values})
    if profitability is not None:
        frame["revenue"] = profitability["revenue"].to_numpy(dtype=float)
        frame["cost"] = profitability["cost"].to_numpy(dtype=float)
    frame = frame.dropna(subset=["code"])
    assigned = len(frame)
    stats = frame.groupby("code").agg(
        size=("value", "size"), total=("value", "sum"), mean=("value", "mean")
    )
    money = frame.groupby("code")[["revenue", "cost"]].sum() if profitability is not None else None
    segments = []
    for definition in definitions:
        if definition.code not in stats.index:
            continue
        size, total, mean = (float(x) for x in stats.loc[definition.code].to_numpy(np.float64))
        revenue = cost = None
        if money is not None:
            revenue, cost = (_finite(float(x)) for x in money.loc[definition.code].to_numpy())
        segments.append(
            Segment(
                code=definition.code,
                name=definition.name,
                description=definition.description,
                size=int(size),
                share=size / assigned,
                total_value=_finite(total),
                average_value=_finite(mean),
                profile=definition.profile,
                revenue=revenue,
                cost=cost,
            )
        )
    return segments


def make_code(parts: Sequence[str]) -> str:
    """A stable, URL-safe segment code from human-readable parts, e.g. B2B-NORTH."""
    slug = "-".join(re.sub(r"[^A-Z0-9]+", "_", part.upper()).strip("_") or "X" for part in parts)
    return slug[:MAX_CODE_LENGTH]


def _finite(number: float) -> float:
    return float(number) if np.isfinite(number) else 0.0


def format_number(number: float) -> str:
    return f"{number:,.2f}"
